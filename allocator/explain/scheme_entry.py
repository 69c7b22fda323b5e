"""What would it take for a scheme: the pot at which a named scheme enters the optimal plan.

Whether a whole-or-nothing scheme is in the plan is an integer decision of a lexicographic
MIP, and the value lost by leaving it out is not a linear function of the pot, so no single
LP gives the threshold exactly. It is found by search: doubling out from today's pot in
steps of the scheme's cost until the decision flips, then halving the bracket to £1.

The search's probes solve only the stages with the integer decisions free (fairness and
value, `search_length`): the published pipeline fixes the schemes there and its later
stages (stability, tie-break) are an LP over the same decisions, so a probe reads the
decision the published plan would take. Two full solves of the published pipeline then
confirm the answer on either side of it (the whole search is repeated with full solves
only if they disagree). When the scheme is in today's plan, the smallest pot at which
any allocation exists (`smallest_pot`, a parametric answer) is tried first: if the scheme
is funded there, that is the answer. See docs/alternatives.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel, Field

from allocator.backends.interface import TerminationReason
from allocator.backends.registry import DEFAULT_BACKEND
from allocator.explain.what_it_takes import CannotAnswer, smallest_pot, with_pot_change
from allocator.formulation.formulate import formulate
from allocator.pipeline import solve_options, solve_scenario
from allocator.stages.sequence import run_stages, search_length, stage_sequence
from models import Scenario
from models.providers import Scheme

PRECISION = 100  # £1
MAX_DOUBLINGS = 40


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
    probes: int = Field(description="Solves of the fairness and value stages only.")
    seconds: float
    notes: list[str] = Field(default_factory=list)


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
    total = sum(f.amount_pence for f in scenario.funders)
    full: dict[int, int | None] = {}
    fast: dict[int, int | None] = {}
    position = [s.scheme_id for s in scenario.schemes].index(scheme_id)

    def full_units(change: int) -> int | None:
        """Units the published plan funds at this change (None: no allocation there)."""
        if change not in full:
            if total + change < 0:
                full[change] = None
            else:
                moved = with_pot_change(scenario, funder_id, change)
                result = solve_scenario(moved, backend=name, explain=False)
                line = next((s for s in result.schemes if s.scheme_id == scheme_id), None)
                full[change] = None if not result.feasible or line is None else line.units_funded
        return full[change]

    def fast_units(change: int) -> int | None:
        """Units the fairness and value stages fund at this change (None: no allocation)."""
        if change not in fast:
            fast[change] = (
                None
                if total + change < 0
                else _search_units(with_pot_change(scenario, funder_id, change), position, name)
            )
        return fast[change]

    today = full_units(0)
    if today is None:
        raise CannotAnswer("today's scenario has no allocation: solve it first")
    inside = today > 0
    method = "bisection by fairness and value solves, confirmed by full solves"
    if inside:
        try:
            least = smallest_pot(scenario, funder_id=funder_id, backend=name).change_pence
        except CannotAnswer:
            least = None
        if least is not None and (full_units(least) or 0) > 0:
            # `smallest_pot` confirmed by full solves that £1 less has no allocation at all.
            method = "smallest pot (parametric), confirmed by full solves"
            return _answer(scenario, scheme_id, funder_id, least, True, full, fast, method, started)
    lo, hi, bounded = _search(fast_units, scheme, scheme_id, total, inside)
    if (full_units(hi) or 0) == 0 or (full_units(lo) or 0) > 0:
        lo, hi, bounded = _search(full_units, scheme, scheme_id, total, inside)
        method = "bisection by full solves"
    floor = bounded and full_units(lo) is None
    return _answer(scenario, scheme_id, funder_id, hi, floor, full, fast, method, started)


def _search_units(scenario: Scenario, position: int, backend: str) -> int | None:
    """The scheme's units after the stages with integer decisions free (None: none feasible)."""
    options = solve_options(scenario)
    for headroom in (True, False):  # as the pipeline: without the headroom if it alone fails
        formulation = formulate(scenario, headroom=headroom)
        sequence = stage_sequence(formulation)
        outcomes = run_stages(
            formulation.program,
            sequence[: search_length(sequence)],
            backend,
            options,
            scenario.objective.stage_tolerance_share,
        )
        last = outcomes[-1].solution
        solved = last.x is not None and last.termination.reason.has_solution
        if len(outcomes) == search_length(sequence) and solved:
            assert last.x is not None
            column = formulation.program.cols["scheme.units"].start + position
            return round(float(last.x[column]))
        if outcomes[0].solution.termination.reason is not TerminationReason.INFEASIBLE:
            return None
    return None


def _search(
    units: Callable[[int], int | None],
    scheme: Scheme,
    scheme_id: str,
    total: int,
    inside: bool,
) -> tuple[int, int, bool]:
    """(lo, hi, bounded): the scheme is out at lo and in at hi, hi − lo <= £1."""

    def funded(change: int) -> bool:
        return (units(change) or 0) > 0

    step = max(scheme.cost_per_unit_pence, PRECISION)
    lo, hi = (-step, 0) if inside else (0, step)
    bounded = False  # the bracket's far end is where the rules stop holding
    for _ in range(MAX_DOUBLINGS):
        if inside and not funded(lo):
            bounded = units(lo) is None
            break
        if not inside and funded(hi):
            break
        if not inside and units(hi) is None:
            raise CannotAnswer(
                f"{scheme_id} is not in the plan at any pot up to {_gbp(total + lo)}; "
                f"at {_gbp(total + hi)} the hard rules no longer all hold"
            )
        step *= 2
        lo, hi = (lo - step, lo) if inside else (hi, hi + step)
    else:
        where = "any smaller pot" if inside else "any pot up to a very large one"
        raise CannotAnswer(f"the plan's decision on {scheme_id} does not change at {where}")
    while hi - lo > PRECISION:
        mid = (lo + hi) // 2
        if funded(mid):
            hi = mid
        else:
            lo = mid
    return lo, hi, bounded


def _answer(
    scenario: Scenario,
    scheme_id: str,
    funder_id: str | None,
    hi: int,
    floor: bool,
    full: dict[int, int | None],
    fast: dict[int, int | None],
    method: str,
    started: float,
) -> SchemeEntry:
    final = with_pot_change(scenario, funder_id, hi)
    notes = []
    if floor:
        notes.append(
            f"{scheme_id} stays in the plan down to the smallest pot the hard rules allow: "
            "below it there is no allocation at all."
        )
    return SchemeEntry(
        scheme_id=scheme_id,
        funder_id=funder_id,
        in_plan_today=bool(full[0]),
        change_pence=hi,
        pot_pence=sum(f.amount_pence for f in final.funders),
        units_funded=int(full[hi] or 0),
        method=method,
        full_solves=len(full),
        probes=len(fast),
        seconds=time.perf_counter() - started,
        notes=notes,
    )


def _gbp(pence: int) -> str:
    return f"£{pence / 100:,.2f}"
