"""What would it take for convergence: the pace-of-change cap that brings every place
within a band of its fair-share target by year n of a multi-year plan.

A multi-year plan solves each year on its own, with last year's allocation as the next
baseline (`allocator.batch.multiyear`), so no single program holds all years' caps and no
LP parametric is exact here. The cap is found by a bracketed search of whole plans: a lower
cap on over-target places moves them (and the money they release) faster towards target,
so the answer is the largest cap under which every place is within the band in year n, to
the share that moves the largest capped place's budget by less than £1.

Where the cap binds, the furthest place's distance is close to linear in the cap (its
budget is its baseline times one plus the cap), so after plans at today's cap and a point
of growth from it, the search steps by the secant through two plans next to the bracket
(`_secant`) to where the distance equals the band, and probes half the precision beyond a
step that lands within the precision, which closes the bracket; a round that makes too
little progress also halves the bracket by a plan at its middle (`_search`). Every probe
is a whole plan, so the answer is the edge a bisection of plans finds. See
docs/alternatives.md.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from pydantic import BaseModel, Field

from allocator.batch.multiyear import MAX_YEARS, plan_years
from allocator.explain.what_it_takes import CannotAnswer
from models import PaceForm, Scenario, UnitLevel

HIGHEST_CAP = 1.0  # +100% a year: as good as no cap
LOWEST_FLOOR = -0.5  # a 50% cash cut: the most a floor is searched down to
BAND_NOISE = 1e-12  # a distance this far over the band is solver noise
FIRST_STEP = 0.01  # the second probe: a point of growth from today's share
CONVERGING = 4  # a secant round that cuts the nearest miss this much needs no bisection
FIELDS = {"cap": "cap_growth_share", "floor": "floor_growth_share"}


class PaceCapAnswer(BaseModel):
    rule_id: str
    by_year: int
    band_share: float
    parameter: str = Field(description="'cap' or 'floor': the growth share searched.")
    growth_share: float = Field(description="The largest one meeting the band by that year.")
    today_growth_share: float | None
    pence_precision: int = Field(description="The answer's precision on the largest baseline.")
    distances_in_year: dict[str, float] = Field(description="Each place's distance then.")
    method: str = "interpolation and bisection by multi-year plans"
    plans: int
    seconds: float


def _with_cap(scenario: Scenario, rule_id: str, cap: float, field: str = "cap") -> Scenario:
    rules = tuple(
        r.model_copy(update={FIELDS[field]: cap}) if r.rule_id == rule_id else r
        for r in scenario.pace_of_change
    )
    return scenario.model_copy(update={"pace_of_change": rules})


def pace_cap_for_band(
    scenario: Scenario,
    *,
    by_year: int,
    band_share: float | None = None,
    rule_id: str | None = None,
    parameter: str = "cap",
    pot_growth: float = 0.03,
    backend: str | None = None,
) -> PaceCapAnswer:
    """The largest cap (or floor) of a place pace rule meeting the band by ``by_year``.

    A lower cap, or a lower floor (a cash cut allowed), moves over-target places faster
    towards target; the answer is the most generous one that still gets there.
    """
    started = time.perf_counter()
    if parameter not in FIELDS:
        raise CannotAnswer(f"the parameter is 'cap' or 'floor', not {parameter!r}")
    if not 1 <= by_year <= MAX_YEARS:
        raise CannotAnswer(f"by_year must be 1 to {MAX_YEARS}, not {by_year}")
    places = [
        r
        for r in scenario.pace_of_change
        if r.level is UnitLevel.PLACE and r.form is PaceForm.FLOOR_AND_CAP
    ]
    rule = next((r for r in places if rule_id in (None, r.rule_id)), None)
    if rule is None:
        known = ", ".join(r.rule_id for r in places) or "none"
        raise CannotAnswer(
            f"no place pace rule {rule_id!r} with a floor and cap; the rules are: {known}"
        )
    band = band_share if band_share is not None else rule.cap_over_target_share
    if band is None or not 0.0 <= band < 1.0:
        raise CannotAnswer("give the band (a share of target) the places must be within")
    largest = max(p.baseline_pence or 0 for p in scenario.places) or 1
    precision = 100 / largest  # a cap share that moves the largest baseline by £1
    seen: dict[float, dict[str, float] | None] = {}

    def distances(cap: float) -> dict[str, float] | None:
        """Each place's distance in ``by_year`` under ``cap`` (None: a year had no plan)."""
        if cap not in seen:
            plan = plan_years(
                _with_cap(scenario, rule.rule_id, cap, parameter),
                years=by_year,
                pot_growth=pot_growth,
                backend=backend,
            )
            last = plan.years[-1]
            if not plan.feasible or last.year != by_year:
                seen[cap] = None
            else:
                seen[cap] = {
                    u.unit_id: float(u.distance_from_target or 0.0) for u in last.result.places
                }
        return seen[cap]

    def worst(cap: float) -> float | None:
        """The furthest place's distance in ``by_year`` (None: a year had no plan)."""
        found = distances(cap)
        return None if found is None else max((abs(d) for d in found.values()), default=0.0)

    def meets(cap: float) -> bool:
        furthest = worst(cap)
        return furthest is not None and furthest <= band + BAND_NOISE

    if parameter == "cap":
        lo = rule.floor_growth_share or 0.0  # a cap below the floor contradicts the rule
        hi = HIGHEST_CAP
    else:
        lo = LOWEST_FLOOR
        hi = rule.cap_growth_share if rule.cap_growth_share is not None else HIGHEST_CAP
    today = getattr(rule, FIELDS[parameter])
    answer = _search(worst, lo, hi, band, precision, today)
    if not meets(answer):  # only ever the bottom of the range, when nothing above it met
        raise CannotAnswer(
            f"no {parameter} brings every place within {band:.2%} of target by year {by_year}"
        )
    final = distances(answer)
    assert final is not None
    return PaceCapAnswer(
        rule_id=rule.rule_id,
        by_year=by_year,
        band_share=band,
        parameter=parameter,
        growth_share=answer,
        today_growth_share=getattr(rule, FIELDS[parameter]),
        pence_precision=round(precision * largest),
        distances_in_year=final,
        plans=len(seen),
        seconds=time.perf_counter() - started,
    )


def _search(
    worst: Callable[[float], float | None],
    lo: float,
    hi: float,
    band: float,
    precision: float,
    today: float | None,
) -> float:
    """The largest share in [lo, hi] meeting the band, to ``precision`` (``lo`` is returned
    untested when nothing above it meets: the caller checks it).

    Today's share first, then a point of growth from it towards where the answer lies (the
    top of the range too, when that may be the answer; the bottom, when nothing tried meets
    yet, so a band no share reaches is found at once). Then rounds of a secant step through
    two plans next to the bracket (`_secant`), probing its point, and half the precision
    beyond it when it landed within the precision; a round that neither halves the bracket
    nor cuts the nearest plan's miss by `CONVERGING` also probes the bracket's middle, so a
    kinked curve costs at most a bisection's plans.
    """
    seen: list[tuple[float, float]] = []
    top, bottom = hi, lo

    def probe(x: float) -> bool:
        nonlocal lo, hi
        furthest = worst(x)
        met = furthest is not None and furthest <= band + BAND_NOISE
        if met:
            lo = max(lo, x)
        else:
            hi = min(hi, x)
        if furthest is not None:
            seen.append((x, furthest))
        return met

    def inside(x: float) -> float | None:
        """``x`` moved into the open bracket (None: no room left)."""
        if hi - lo <= precision:
            return None
        return min(max(x, lo + precision / 4), hi - precision / 2)

    def miss() -> float:
        return min((abs(w - band) for _, w in seen), default=math.inf)

    start = today if today is not None and bottom < today < top else None
    if start is None or probe(start):  # the answer is above today's: is it the top?
        if probe(top):
            return lo
        near_top = inside(top) if worst(top) is None else None  # no plan at the top itself
        if near_top is not None and probe(near_top):
            return lo
        up = inside(top if start is None else start + FIRST_STEP)
        if up is not None and len(seen) < 2:
            probe(up)
    else:
        down = inside(start - FIRST_STEP)
        if down is not None and not probe(down) and not probe(bottom):
            return bottom
    while hi - lo > precision:
        width, missed = hi - lo, miss()
        step = _secant(seen, band, lo, hi, precision)
        if step is not None:
            guess, slope = step
            met = probe(guess)
            furthest = worst(guess)
            off = math.inf if furthest is None else abs(furthest - band) / slope
            beyond = guess + precision / 2 if met else guess - precision / 2
            if off < precision and hi - lo > precision and lo < beyond < hi:
                probe(beyond)  # the secant landed within the precision: close the bracket
        converging = missed < math.inf and miss() * CONVERGING <= missed
        if hi - lo > max(precision, width / 2) and not converging:
            probe((lo + hi) / 2)
    return lo


def _secant(
    seen: list[tuple[float, float]], band: float, lo: float, hi: float, precision: float
) -> tuple[float, float] | None:
    """(point, slope): where a secant through two plans next to the bracket meets the band.

    The two nearest it above (where the band is missed, never a plateau at zero), else the
    two nearest below, else one each side; the first whose point is new and inside."""
    below = sorted((p for p in seen if p[0] <= lo), key=lambda p: -p[0])
    above = sorted((p for p in seen if p[0] >= hi), key=lambda p: p[0])
    tried = [x for x, _ in seen]
    for pair in (above[:2], below[:2], [*below[:1], *above[:1]]):
        if len(pair) < 2 or pair[0][1] == pair[1][1]:
            continue
        (x1, w1), (x2, w2) = pair
        slope = (w2 - w1) / (x2 - x1)
        guess = x1 + (band - w1) / slope
        if lo < guess < hi:
            guess = min(max(guess, lo + precision / 4), hi - precision / 4)
            if all(abs(guess - x) > precision / 8 for x in tried):
                return guess, abs(slope)
    return None
