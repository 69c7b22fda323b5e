"""What would it take for a scheme: the pot at which a named scheme enters the optimal plan.

Whether a whole-or-nothing scheme is in the plan is an integer decision of a lexicographic
MIP, and the value lost by leaving it out is not a linear function of the pot, so no single
LP gives the threshold exactly. It is found by full solves: doubling out from today's pot
in steps of the scheme's cost until the decision flips, then halving the bracket to £1.
Each full solve is the published pipeline (without the explanation), so the answer is the
plan `allocator solve` would publish on either side of it. See docs/alternatives.md.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, Field

from allocator.backends.registry import DEFAULT_BACKEND
from allocator.explain.what_it_takes import CannotAnswer, with_pot_change
from allocator.pipeline import solve_scenario
from models import Scenario

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
    method: str = "bisection by full solves"
    full_solves: int
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
    seen: dict[int, int | None] = {}

    def units(change: int) -> int | None:
        """Units funded at this change (None: no allocation there)."""
        if change not in seen:
            if total + change < 0:
                seen[change] = None
            else:
                moved = with_pot_change(scenario, funder_id, change)
                result = solve_scenario(moved, backend=name, explain=False)
                line = next((s for s in result.schemes if s.scheme_id == scheme_id), None)
                seen[change] = None if not result.feasible or line is None else line.units_funded
        return seen[change]

    def funded(change: int) -> bool:
        return (units(change) or 0) > 0

    today = units(0)
    if today is None:
        raise CannotAnswer("today's scenario has no allocation: solve it first")
    step = max(scheme.cost_per_unit_pence, PRECISION)
    inside = today > 0
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
    notes = []
    if bounded and units(lo) is None:
        notes.append(
            f"{scheme_id} stays in the plan down to the smallest pot the hard rules allow: "
            "below it there is no allocation at all."
        )
    final = with_pot_change(scenario, funder_id, hi)
    return SchemeEntry(
        scheme_id=scheme_id,
        funder_id=funder_id,
        in_plan_today=inside,
        change_pence=hi,
        pot_pence=sum(f.amount_pence for f in final.funders),
        units_funded=int(units(hi) or 0),
        full_solves=len(seen),
        seconds=time.perf_counter() - started,
        notes=notes,
    )


def _gbp(pence: int) -> str:
    return f"£{pence / 100:,.2f}"
