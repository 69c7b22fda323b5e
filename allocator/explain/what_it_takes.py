"""What would it take: the smallest pot (or uplift from one funder) under which every hard
rule holds and the largest shortfall below fair-share target is at most a given share.

One parametric solve, not a search. The program is affine in the money a funder puts in
(row bounds such as conservation and pace floors move with it, and so do the fair-share
targets inside the shortfall rows), so it is formulated at the current pot and £10,000
above it, and the difference is the derivative. With the largest shortfall fixed at the
bound, the targets' term becomes a bound too, and "pot as a variable" is one LP (a MIP
when the scenario has whole-or-nothing decisions): minimise the change t subject to

    lo + t·dlo <= A x + t·(dA x) <= hi + t·dhi,     x integral where the scenario says.

Where a rule's structure changes with the pot (a row appears), the derivative holds only
near the point it was taken at, so the answer is re-linearised there until it stands
still; it is then confirmed by two full solves, a penny above and £1 below, and only if
that confirmation fails is the answer bisected by full solves. See docs/alternatives.md.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, Field

from allocator.backends.interface import TerminationReason
from allocator.backends.registry import DEFAULT_BACKEND, get_backend
from allocator.domain.rounding import largest_remainder
from allocator.errors import AllocatorError
from allocator.formulation.formulate import PENCE_PER_UNIT, formulate
from allocator.formulation.program import LinearProgram, Sense
from allocator.pipeline import solve_options, solve_scenario
from allocator.types import FloatArray, Stage
from models import Scenario

STEP_PENCE = 1_000_000  # £10,000: the finite step the derivative is read over
SHORTFALL_COLUMN = "fairness.max_shortfall"
MAX_LINEARISATIONS = 6
PENNY_TOLERANCE = 100  # answers to within £1
PRECISION = 50  # the bracket is halved to 50p: the answer is within £1 of any penny search
SHARE_NOISE = 1e-12  # a shortfall share this far over the bound is solver noise (far below £1)


class CannotAnswer(AllocatorError):
    code = "cannot-answer"
    title = "Cannot answer"


class PotAnswer(BaseModel):
    question: str
    funder_id: str | None = Field(description="The funder whose money moves (None: every funder).")
    max_shortfall_share: float | None
    change_pence: int = Field(description="Change in the pot from today's (negative: less).")
    pot_pence: int = Field(description="The smallest total pot that answers the question.")
    funder_amount_pence: int | None = None
    method: str = Field(description="'parametric' or 'parametric, then bisection'.")
    linearisations: int
    full_solves: int
    seconds: float
    largest_shortfall_at_answer: float | None
    notes: list[str] = Field(default_factory=list)


def with_pot_change(scenario: Scenario, funder_id: str | None, change_pence: int) -> Scenario:
    """The scenario with ``change_pence`` more from one funder, or from all in proportion."""
    funders = list(scenario.funders)
    if funder_id is None:
        amounts = [f.amount_pence for f in funders]
        total = sum(amounts)
        if total + change_pence < 0:
            raise CannotAnswer("the pot cannot be negative")
        new = largest_remainder(total + change_pence, [a / total for a in amounts])
        updated = [
            f.model_copy(update={"amount_pence": int(a)}) for f, a in zip(funders, new, strict=True)
        ]
    else:
        updated = [
            f.model_copy(update={"amount_pence": max(0, f.amount_pence + change_pence)})
            if f.funder_id == funder_id
            else f
            for f in funders
        ]
    return scenario.model_copy(update={"funders": tuple(updated)})


def meets(
    scenario: Scenario, max_shortfall: float | None, backend: str
) -> tuple[bool, float | None]:
    """Whether a full solve holds every hard rule with the largest shortfall within bound."""
    result = solve_scenario(scenario, backend=backend, explain=False)
    if not result.feasible:
        return False, None
    largest = next((s.objective for s in result.stages if s.stage == Stage.FAIRNESS_MAX), None)
    if max_shortfall is None or largest is None:
        return True, largest
    return largest <= max_shortfall + SHARE_NOISE, largest


def _parametric(
    scenario: Scenario, funder_id: str | None, at: int, max_shortfall: float | None, backend: str
) -> float | None:
    """The least change (pence, from today's pot) by the LP linearised at change ``at``."""
    here = formulate(with_pot_change(scenario, funder_id, at)).program
    there = formulate(with_pot_change(scenario, funder_id, at + STEP_PENCE)).program
    if here.a.shape != there.a.shape:
        there = formulate(with_pot_change(scenario, funder_id, at - STEP_PENCE)).program
        step = -STEP_PENCE / PENCE_PER_UNIT
    else:
        step = STEP_PENCE / PENCE_PER_UNIT
    if here.a.shape != there.a.shape:
        return None
    col_lo, col_hi = here.col_lo.copy(), here.col_hi.copy()
    fixed = np.zeros(here.num_cols, dtype=np.bool_)
    if SHORTFALL_COLUMN in here.cols:
        # Fixed at the bound (at 100% without one: then its rows hold for any allocation).
        k = here.cols[SHORTFALL_COLUMN].start
        col_lo[k] = col_hi[k] = 1.0 if max_shortfall is None else max_shortfall
        fixed[k] = True
    da = sp.csr_array(there.a - here.a) / step
    if np.abs(da.toarray()[:, ~fixed]).max(initial=0.0) > 1e-9:
        return None  # the pot moves a coefficient on a free column: not linear in t
    moved_by_fixed = da @ np.where(fixed, col_lo, 0.0)
    for before, after in ((here.col_lo, there.col_lo), (here.col_hi, there.col_hi)):
        if np.abs(_change(before, after)).max(initial=0.0) > 1e-12:
            return None  # a column bound moves with the pot (not expected): no LP answer
    lo_finite, hi_finite = np.isfinite(here.row_lo), np.isfinite(here.row_hi)
    if not (
        np.array_equal(lo_finite, np.isfinite(there.row_lo))
        and np.array_equal(hi_finite, np.isfinite(there.row_hi))
    ):
        return None
    dlo = _change(here.row_lo, there.row_lo) / step
    dhi = _change(here.row_hi, there.row_hi) / step
    # t column coefficients: (dA x_fixed) − d(bound), one row per finite side.
    lo_rows, hi_rows = np.flatnonzero(lo_finite), np.flatnonzero(hi_finite)
    a = sp.csr_array(here.a)
    top = sp.hstack([a[lo_rows], sp.csr_array((moved_by_fixed - dlo)[lo_rows][:, None])])
    bottom = sp.hstack([a[hi_rows], sp.csr_array((moved_by_fixed - dhi)[hi_rows][:, None])])
    matrix = sp.csr_array(sp.vstack([top, bottom], format="csr"))
    n = here.num_cols
    c = np.zeros(n + 1)
    c[n] = 1.0
    floor_units = -(sum(f.amount_pence for f in scenario.funders) + at) / PENCE_PER_UNIT
    if funder_id is not None:
        amount = next(f.amount_pence for f in scenario.funders if f.funder_id == funder_id)
        floor_units = -(amount + at) / PENCE_PER_UNIT
    program = LinearProgram(
        c=c,
        a=matrix,
        row_lo=np.concatenate([here.row_lo[lo_rows], np.full(hi_rows.size, -np.inf)]),
        row_hi=np.concatenate([np.full(lo_rows.size, np.inf), here.row_hi[hi_rows]]),
        col_lo=np.append(col_lo, floor_units),
        col_hi=np.append(col_hi, np.inf),
        is_integer=np.append(here.is_integer, False),
        sense=Sense.MINIMIZE,
    )
    solution = get_backend(backend).solve(program, solve_options(scenario))
    if solution.termination.reason is not TerminationReason.OPTIMAL or solution.x is None:
        return None
    return at + float(solution.x[n]) * PENCE_PER_UNIT


def _change(before: FloatArray, after: FloatArray) -> FloatArray:
    """after − before where both are finite, else 0 (or inf where only one is)."""
    both = np.isfinite(before) & np.isfinite(after)
    out: FloatArray = np.where(both, np.where(both, after, 0.0) - np.where(both, before, 0.0), 0.0)
    out[np.isfinite(before) != np.isfinite(after)] = np.inf
    return out


def smallest_pot(
    scenario: Scenario,
    *,
    max_shortfall: float | None = None,
    funder_id: str | None = None,
    backend: str | None = None,
) -> PotAnswer:
    """The smallest pot (or uplift from ``funder_id``) meeting the rules and the shortfall bound."""
    started = time.perf_counter()
    name = backend or DEFAULT_BACKEND
    if funder_id is not None and funder_id not in {f.funder_id for f in scenario.funders}:
        known = ", ".join(f.funder_id for f in scenario.funders)
        raise CannotAnswer(f"no funder {funder_id!r}; the funders are: {known}")
    if max_shortfall is not None and not 0.0 <= max_shortfall < 1.0:
        raise CannotAnswer(f"the largest shortfall must be a share in [0, 1), not {max_shortfall}")
    at, found, rounds = 0, None, 0
    while rounds < MAX_LINEARISATIONS:
        rounds += 1
        answer = _parametric(scenario, funder_id, at, max_shortfall, name)
        if answer is None:
            break
        found = math.ceil(answer - 1e-6)  # to the penny, on the side that meets the bound
        if abs(found - at) <= PENNY_TOLERANCE:
            break
        at = found
    total = sum(f.amount_pence for f in scenario.funders)
    seen: dict[int, tuple[bool, float | None]] = {}

    def check(change: int) -> bool:
        if change not in seen:
            if total + change < 0:
                seen[change] = (False, None)
            else:
                moved = with_pot_change(scenario, funder_id, change)
                seen[change] = meets(moved, max_shortfall, name)
        return seen[change][0]

    found, widened = _bracket(check, found, 10 * total)
    method = "parametric" if rounds and not widened else "parametric, then bisection"
    final = with_pot_change(scenario, funder_id, found)
    largest = seen[found][1]
    solves = len(seen)
    question = "smallest pot" if funder_id is None else f"smallest uplift from {funder_id}"
    if max_shortfall is not None:
        question += f" with the largest shortfall at most {max_shortfall:.4%}"
    return PotAnswer(
        question=question,
        funder_id=funder_id,
        max_shortfall_share=max_shortfall,
        change_pence=found,
        pot_pence=sum(f.amount_pence for f in final.funders),
        funder_amount_pence=None
        if funder_id is None
        else next(f.amount_pence for f in final.funders if f.funder_id == funder_id),
        method=method,
        linearisations=rounds,
        full_solves=solves,
        seconds=time.perf_counter() - started,
        largest_shortfall_at_answer=largest,
    )


def _bracket(check: Callable[[int], bool], guess: int | None, limit: int) -> tuple[int, bool]:
    """The least change (pence, to within `PRECISION`) that passes ``check``, from ``guess``.

    The parametric answer is checked a penny-step either side (`PENNY_TOLERANCE`); only when
    it is off by more is the bracket widened (doubling) and halved by full solves. Returns
    the answer and whether the bracket had to be widened.
    """
    start = 0 if guess is None else guess
    hi, lo, step, widened = start, start - PENNY_TOLERANCE, PENNY_TOLERANCE, guess is None
    while not check(hi):
        lo, hi, step, widened = hi, hi + step, step * 2, True
        if step > limit:
            raise CannotAnswer("no pot up to ten times today's meets the rules and the bound")
    while check(lo):
        hi, lo, step, widened = lo, lo - step, step * 2, True
    while hi - lo > PRECISION:
        mid = (lo + hi) // 2
        if check(mid):
            hi = mid
        else:
            lo = mid
    return hi, widened
