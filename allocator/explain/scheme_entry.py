"""What would it take for a scheme: the pot at which a named scheme enters the optimal plan.

Whether a whole-or-nothing scheme is in the plan is an integer decision of a lexicographic
MIP, so no single LP gives the threshold. The answer is for the exact optimum: every solve
here closes the MIP gap. Within the scenario's gap a solve may keep or drop a scheme that
adds less value than the gap, so there the published plan's decision is the solver's
choice, not a property of the scenario (on the realistic example with its pace caps at
50%, the frailty hub's edge moves by £142,726 within a gap of 1e-6).

Each probe solves the stages with the integer decisions free (`search_length`: the
published pipeline fixes the schemes there, and its later stages are an LP over the same
decisions), then the value stage once more with the scheme's decision the other way,
under the same held fairness optima. The difference is the scheme's *margin*: the value
units it adds over the best plan without it, negative where forcing it in costs value. It
changes sign where the decision flips and is piecewise linear in the pot, so the search
steps by its secant (Illinois' rule keeps a step from stalling on one side), while the
bracket is kept by the decisions themselves; where the margin is unknown it halves.

Two full solves of the published pipeline confirm the answer on either side of it (a
bisection by full solves repeats the search if they disagree). A scheme that stays in
the plan until no allocation exists is answered by the smallest pot at which any does
(`smallest_pot`, a parametric answer). See docs/alternatives.md.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, Field

from allocator.backends.interface import SolveOptions, TerminationReason
from allocator.backends.registry import DEFAULT_BACKEND, get_backend
from allocator.explain.what_it_takes import CannotAnswer, smallest_pot, with_pot_change
from allocator.formulation.formulate import formulate
from allocator.formulation.program import LinearProgram
from allocator.pipeline import solve_options, solve_scenario
from allocator.stages.sequence import StageOutcome, run_stages, search_length, stage_sequence
from allocator.stages.tie_break import held_bound
from allocator.types import Stage
from models import Scenario
from models.providers import Scheme

PRECISION = 100  # £1
MAX_STEPS = 60
GROWTH = 4  # the most one step out from today's pot grows over the last


class SchemeEntry(BaseModel):
    scheme_id: str
    funder_id: str | None = Field(description="The funder whose money moves (None: every funder).")
    in_plan_today: bool
    change_pence: int = Field(
        description="The least change from today's pot at which the scheme is in the plan "
        "(negative when it is in today's plan: it stays in down to that pot)."
    )
    pot_pence: int
    units_funded: int = Field(description="Units the plan funds at that pot.")
    method: str
    full_solves: int
    probes: int = Field(
        description="Solves of the stages with the schemes free, each with "
        "one more value-stage solve for the scheme's margin."
    )
    seconds: float
    notes: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Probe:
    """The scheme's units with the integer decisions free (None: no allocation) and margin."""

    units: int | None
    margin: float | None = None

    @property
    def funded(self) -> bool:
        return (self.units or 0) > 0


def scheme_entry(
    scenario: Scenario,
    scheme_id: str,
    *,
    funder_id: str | None = None,
    backend: str | None = None,
) -> SchemeEntry:
    """The smallest pot (or funder's uplift) at which ``scheme_id`` is funded, to within £1.

    If the scheme is in today's plan, the answer is the smallest pot below today's at which
    it still is (where it would leave the plan if the pot fell further).
    """
    started = time.perf_counter()
    name = backend or DEFAULT_BACKEND
    scheme = next((s for s in scenario.schemes if s.scheme_id == scheme_id), None)
    if scheme is None:
        known = ", ".join(s.scheme_id for s in scenario.schemes) or "none"
        raise CannotAnswer(f"no scheme {scheme_id!r}; the schemes are: {known}")
    if funder_id is not None and funder_id not in {f.funder_id for f in scenario.funders}:
        known = ", ".join(f.funder_id for f in scenario.funders)
        raise CannotAnswer(f"no funder {funder_id!r}; the funders are: {known}")
    exact = scenario.model_copy(
        update={"objective": scenario.objective.model_copy(update={"mip_gap_share": 0.0})}
    )
    total = sum(f.amount_pence for f in scenario.funders)
    full: dict[int, int | None] = {}
    probes: dict[int, Probe] = {}
    position = [s.scheme_id for s in scenario.schemes].index(scheme_id)

    def full_units(change: int) -> int | None:
        """Units the published plan funds at this change (None: no allocation there)."""
        if change not in full:
            if total + change < 0:
                full[change] = None
            else:
                moved = with_pot_change(exact, funder_id, change)
                result = solve_scenario(moved, backend=name, explain=False)
                line = next((s for s in result.schemes if s.scheme_id == scheme_id), None)
                full[change] = None if not result.feasible or line is None else line.units_funded
        return full[change]

    def probe(change: int) -> Probe:
        if change not in probes:
            probes[change] = (
                Probe(None)
                if total + change < 0
                else _probe(with_pot_change(exact, funder_id, change), scheme, position, name)
            )
        return probes[change]

    if probe(0).units is None:
        raise CannotAnswer("today's scenario has no allocation: solve it first")
    inside = probe(0).funded
    method = "secant on the scheme's value margin, confirmed by full solves"
    out_at, in_at = _bracket(probe, scheme, total, inside)
    if probe(out_at).units is None:
        # The step went past the smallest pot with any allocation. If the scheme is still in
        # halfway back, it may stay in down to that pot: try the parametric answer for it.
        middle = (out_at + in_at) // 2
        if probe(middle).funded:
            in_at = middle
            try:
                least: int | None = smallest_pot(
                    exact, funder_id=funder_id, backend=name
                ).change_pence
            except CannotAnswer:
                least = None
            if least is not None and (full_units(least) or 0) > 0:
                # `smallest_pot` confirmed by full solves that £1 less has no allocation.
                method = "smallest pot (parametric), confirmed by full solves"
                return _answer(
                    scenario,
                    scheme_id,
                    funder_id,
                    inside,
                    least,
                    True,
                    full,
                    probes,
                    method,
                    started,
                )
        else:
            out_at = middle
    out_at, in_at = _refine(probe, out_at, in_at)
    if (full_units(in_at) or 0) == 0 or (full_units(out_at) or 0) > 0:
        out_at, in_at = _bisection(full_units, scheme, scheme_id, total, inside)
        method = "bisection by full solves"
    floor = full_units(out_at) is None
    return _answer(
        scenario, scheme_id, funder_id, inside, in_at, floor, full, probes, method, started
    )


def _probe(scenario: Scenario, scheme: Scheme, position: int, backend: str) -> Probe:
    """The scheme's decision and margin after the stages with integer decisions free."""
    options = solve_options(scenario)
    tolerance = scenario.objective.stage_tolerance_share
    for headroom in (True, False):  # as the pipeline: without the headroom if it alone fails
        formulation = formulate(scenario, headroom=headroom)
        program = formulation.program
        sequence = stage_sequence(formulation)
        searched = sequence[: search_length(sequence)]
        outcomes = run_stages(program, searched, backend, options, tolerance)
        last = outcomes[-1].solution
        if (
            len(outcomes) == len(searched)
            and last.x is not None
            and last.termination.reason.has_solution
        ):
            column = program.cols["scheme.units"].start + position
            units = round(float(last.x[column]))
            margin = _margin(program, outcomes, column, units, scheme, backend, options, tolerance)
            return Probe(units, margin)
        if outcomes[0].solution.termination.reason is not TerminationReason.INFEASIBLE:
            return Probe(None)
    return Probe(None)


def _margin(
    program: LinearProgram,
    outcomes: list[StageOutcome],
    column: int,
    units: int,
    scheme: Scheme,
    backend: str,
    options: SolveOptions,
    tolerance: float,
) -> float | None:
    """Value units the scheme adds over the best plan without it (negative: what forcing it
    in costs), the value stage solved the other way under the earlier stages' held optima.

    Infinite where the other way breaks a held optimum; None without a value stage.
    """
    stages = [outcome.stage for outcome in outcomes]
    if Stage.VALUE not in stages:
        return None
    at = stages.index(Stage.VALUE)
    free = outcomes[at].solution.objective
    if free is None:
        return None
    col_lo, col_hi = program.col_lo.copy(), program.col_hi.copy()
    if units > 0:
        col_lo[column] = col_hi[column] = 0.0
    else:
        col_lo[column] = max(1, scheme.min_units)
    held = outcomes[:at]
    other = replace(program, col_lo=col_lo, col_hi=col_hi)
    if held:
        other = other.with_rows(
            sp.csr_array(np.vstack([outcome.objective for outcome in held])),
            np.full(len(held), -np.inf),
            np.array([held_bound(o.solution.objective or 0.0, tolerance, o.stage) for o in held]),
        )
    solution = get_backend(backend).solve(other.with_objective(outcomes[at].objective), options)
    if solution.termination.reason is not TerminationReason.OPTIMAL or solution.objective is None:
        return math.inf if units > 0 else -math.inf
    lost = float(solution.objective) - float(free)  # the stage minimises minus the value
    return lost if units > 0 else -lost


def _secant(a: int, fa: float | None, b: int, fb: float | None) -> int | None:
    """Where the line through (a, fa) and (b, fb) crosses zero (None: no such line)."""
    if fa is None or fb is None or not (math.isfinite(fa) and math.isfinite(fb)) or fa == fb:
        return None
    return round(b - fb * (b - a) / (fb - fa))


def _bracket(
    probe: Callable[[int], Probe], scheme: Scheme, total: int, inside: bool
) -> tuple[int, int]:
    """(out_at, in_at): changes at which the scheme is out and in, stepping out from today.

    Each step goes a little past where the margin's secant through the last two probes
    crosses zero, or doubles where it does not; a probe with no allocation ends the
    bracket on the out side.
    """
    sign = -1 if inside else 1
    near, far = 0, sign * max(scheme.cost_per_unit_pence, PRECISION)
    for _ in range(MAX_STEPS):
        found = probe(far)
        if found.units is None and not inside:
            raise _never_enters(scheme.scheme_id, total + near, total + far)
        if found.units is None or found.funded != inside:
            return (far, near) if inside else (near, far)
        span = abs(far - near)
        step = 2 * span
        root = _secant(near, probe(near).margin, far, found.margin)
        if root is not None and (root - far) * sign > 0:
            step = min(abs(root - far) * 9 // 8 + PRECISION, GROWTH * span)
        near, far = far, far + sign * step
    raise _never_flips(scheme.scheme_id, inside)


def _refine(probe: Callable[[int], Probe], out_at: int, in_at: int) -> tuple[int, int]:
    """The bracket narrowed to `PRECISION` by the margin's secant (Illinois' rule).

    Where two steps have not halved the bracket (a plateau of the margin on one side moves
    the other end by little), the next step halves it, so the search never takes more than
    about twice the steps of a bisection.
    """
    f_out, f_in = probe(out_at).margin, probe(in_at).margin
    moved: bool | None = None  # which end the last step moved (True: the in end)
    widths = [abs(in_at - out_at)] * 2  # so the first step halves: the far end may be well past
    while abs(in_at - out_at) > PRECISION:
        lo, hi = sorted((out_at, in_at))
        guess = _secant(out_at, f_out, in_at, f_in)
        stalled = 2 * (hi - lo) > widths[-2]
        if stalled or guess is None or not (f_in or 0.0) > 0.0 >= (f_out or 0.0):
            guess = (lo + hi) // 2
        guess = min(max(guess, lo + PRECISION // 2), hi - PRECISION // 2)
        found = probe(guess)
        if found.funded:
            in_at, f_in = guess, found.margin
        else:
            out_at, f_out = guess, found.margin
        if found.funded is moved:  # the same end twice: halve the other end's margin
            if moved and f_out is not None:
                f_out /= 2
            elif not moved and f_in is not None:
                f_in /= 2
        moved = found.funded
        widths.append(hi - lo)
    return out_at, in_at


def _bisection(
    units: Callable[[int], int | None], scheme: Scheme, scheme_id: str, total: int, inside: bool
) -> tuple[int, int]:
    """(out_at, in_at) by doubling out from today's pot and halving, within £1."""

    def funded(change: int) -> bool:
        return (units(change) or 0) > 0

    step = max(scheme.cost_per_unit_pence, PRECISION)
    lo, hi = (-step, 0) if inside else (0, step)
    for _ in range(MAX_STEPS):
        if inside and not funded(lo):
            break
        if not inside and funded(hi):
            break
        if not inside and units(hi) is None:
            raise _never_enters(scheme_id, total + lo, total + hi)
        step *= 2
        lo, hi = (lo - step, lo) if inside else (hi, hi + step)
    else:
        raise _never_flips(scheme_id, inside)
    while hi - lo > PRECISION:
        mid = (lo + hi) // 2
        if funded(mid):
            hi = mid
        else:
            lo = mid
    return lo, hi


def _answer(
    scenario: Scenario,
    scheme_id: str,
    funder_id: str | None,
    inside: bool,
    in_at: int,
    floor: bool,
    full: dict[int, int | None],
    probes: dict[int, Probe],
    method: str,
    started: float,
) -> SchemeEntry:
    final = with_pot_change(scenario, funder_id, in_at)
    notes = []
    if floor:
        notes.append(
            f"{scheme_id} stays in the plan down to the smallest pot the hard rules allow: "
            "below it there is no allocation at all."
        )
    gap = scenario.objective.mip_gap_share
    if gap > 0:
        notes.append(
            f"Answered for the exact optimum (no MIP gap). The scenario's gap of {gap:g} lets "
            f"a solve keep or drop {scheme_id} where it adds less than that share of the "
            "value objective, so a published plan near this pot may differ."
        )
    return SchemeEntry(
        scheme_id=scheme_id,
        funder_id=funder_id,
        in_plan_today=inside,
        change_pence=in_at,
        pot_pence=sum(f.amount_pence for f in final.funders),
        units_funded=int(full[in_at] or 0),
        method=method,
        full_solves=len(full),
        probes=len(probes),
        seconds=time.perf_counter() - started,
        notes=notes,
    )


def _never_enters(scheme_id: str, tried_up_to: int, rules_break_at: int) -> CannotAnswer:
    return CannotAnswer(
        f"{scheme_id} is not in the plan at any pot up to {_gbp(tried_up_to)}; "
        f"at {_gbp(rules_break_at)} the hard rules no longer all hold"
    )


def _never_flips(scheme_id: str, inside: bool) -> CannotAnswer:
    where = "any smaller pot" if inside else "any pot up to a very large one"
    return CannotAnswer(f"the plan's decision on {scheme_id} does not change at {where}")


def _gbp(pence: int) -> str:
    return f"£{pence / 100:,.2f}"
