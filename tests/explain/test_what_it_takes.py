"""What would it take: the smallest pot, checked by an independent bisection of full solves."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.errors import AllocatorError
from allocator.explain.scheme_entry import Probe, _probe, _refine, scheme_entry
from allocator.explain.what_it_takes import smallest_pot
from allocator.io.load import load_scenario
from allocator.pipeline import solve_scenario
from models import Scenario

REALISTIC = Path(__file__).parents[2] / "data" / "realistic" / "realistic.json"
POUND = 100


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(REALISTIC)


def _moved(scenario: Scenario, funder_id: str | None, change: int) -> Scenario:
    """Today's funders with ``change`` more pence (one funder, or all in proportion)."""
    funders = list(scenario.funders)
    if funder_id is not None:
        funders = [
            f.model_copy(update={"amount_pence": f.amount_pence + change})
            if f.funder_id == funder_id
            else f
            for f in funders
        ]
    else:
        total = sum(f.amount_pence for f in funders)
        shares = [f.amount_pence * change // total for f in funders]
        shares[0] += change - sum(shares)  # exact total: the rest to the first funder
        funders = [
            f.model_copy(update={"amount_pence": f.amount_pence + d})
            for f, d in zip(funders, shares, strict=True)
        ]
    return scenario.model_copy(update={"funders": tuple(funders)})


def _ok(scenario: Scenario, bound: float | None) -> bool:
    result = solve_scenario(scenario, explain=False)
    if not result.feasible:
        return False
    if bound is None:
        return True
    largest = next(s.objective for s in result.stages if s.stage == "fairness_max")
    assert largest is not None
    return largest <= bound + 1e-12


def _bisect(scenario: Scenario, funder_id: str | None, bound: float | None, near: int) -> int:
    """The least change in pence (to a penny) that passes a full solve, by plain bisection.

    Too much money breaks the pace-of-change caps, so the pots that pass are an interval:
    the bisection starts from a bracket £10m either side of ``near``, each end checked.
    """
    lo, hi = near - 1_000_000_000, near + 1_000_000_000
    assert _ok(_moved(scenario, funder_id, hi), bound)
    assert not _ok(_moved(scenario, funder_id, lo), bound)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _ok(_moved(scenario, funder_id, mid), bound):
            hi = mid
        else:
            lo = mid
    return hi


@pytest.mark.parametrize(
    ("funder_id", "bound"),
    [(None, 0.01), ("ICB", 0.01), (None, None), ("BCF", None)],
)
def test_the_answer_matches_a_bisection_within_a_pound(
    scenario: Scenario, funder_id: str | None, bound: float | None
) -> None:
    answer = smallest_pot(scenario, max_shortfall=bound, funder_id=funder_id)
    expected = _bisect(scenario, funder_id, bound, answer.change_pence)
    assert abs(answer.change_pence - expected) <= POUND
    assert answer.pot_pence == sum(f.amount_pence for f in scenario.funders) + answer.change_pence
    if bound is not None:
        assert answer.largest_shortfall_at_answer is not None
        assert answer.largest_shortfall_at_answer <= bound + 1e-12
        # Today's pot does not meet the bound (1.59% today): it takes more money.
        assert answer.change_pence > 0
    else:
        # Without a bound the rules alone hold on less money than today's.
        assert answer.change_pence < 0


def test_a_funder_whose_money_cannot_close_the_gap_is_an_answer_not_a_crash(
    scenario: Scenario,
) -> None:
    # Local-authority money is ring-fenced to social care: it cannot lift a place's NHS shortfall.
    with pytest.raises(AllocatorError, match="no pot up to ten times"):
        smallest_pot(scenario, max_shortfall=0.01, funder_id="LA")


def test_bad_questions_are_located_errors(scenario: Scenario) -> None:
    with pytest.raises(AllocatorError, match="no funder 'XX'; the funders are: ICB"):
        smallest_pot(scenario, funder_id="XX")
    with pytest.raises(AllocatorError, match="share"):
        smallest_pot(scenario, max_shortfall=1.5)


def _funded(scenario: Scenario, scheme_id: str, change: int) -> bool | None:
    """Whether a full solve funds the scheme (None: no allocation at that pot)."""
    result = solve_scenario(_moved(scenario, None, change), explain=False, mip_gap=0.0)
    if not result.feasible:
        return None
    return any(s.scheme_id == scheme_id and s.units_funded > 0 for s in result.schemes)


def test_a_scheme_in_the_plan_stays_in_down_to_the_smallest_pot(scenario: Scenario) -> None:
    answer = scheme_entry(scenario, "virtual-ward")
    assert answer.in_plan_today
    assert _funded(scenario, "virtual-ward", answer.change_pence) is True
    assert _funded(scenario, "virtual-ward", answer.change_pence - POUND) is not True
    # The other question's parametric answer agrees: below it there is no allocation at all.
    smallest = smallest_pot(scenario).change_pence
    assert abs(answer.change_pence - smallest) <= POUND
    assert answer.notes


def test_a_scheme_that_never_enters_before_the_rules_break_says_so(scenario: Scenario) -> None:
    # The frailty hub lacks 33.6 value units a unit at every pot the pace caps allow.
    with pytest.raises(AllocatorError, match="frailty-hub is not in the plan at any pot up to"):
        scheme_entry(scenario, "frailty-hub")
    with pytest.raises(AllocatorError, match="no scheme 'nope'; the schemes are: frailty-hub"):
        scheme_entry(scenario, "nope")


def test_a_probe_of_the_fairness_and_value_stages_reads_the_published_decision(
    scenario: Scenario,
) -> None:
    # The search's probes solve only the stages with the schemes free; they must fund what
    # the published plan funds, on both sides of the smallest pot and at today's.
    position = [s.scheme_id for s in scenario.schemes].index("nursing-teams")
    smallest = smallest_pot(scenario).change_pence
    for change in (0, smallest, smallest - POUND, -3_000_000_000):
        moved = _moved(scenario, None, change)
        published = solve_scenario(moved, explain=False)
        line = next((s for s in published.schemes if s.scheme_id == "nursing-teams"), None)
        expected = line.units_funded if published.feasible and line is not None else None
        assert _probe(moved, scenario.schemes[position], position, "highs").units == expected


def _with_loose_pace(scenario: Scenario, hub_value: float) -> Scenario:
    """Pace caps at 50%, so the frailty hub's place can take it; the hub at ``hub_value``."""
    rules = [
        r.model_copy(update={"cap_growth_share": 0.5}) if r.cap_growth_share is not None else r
        for r in scenario.pace_of_change
    ]
    schemes = [
        s.model_copy(update={"value_per_unit": hub_value}) if s.scheme_id == "frailty-hub" else s
        for s in scenario.schemes
    ]
    return scenario.model_copy(update={"pace_of_change": tuple(rules), "schemes": tuple(schemes)})


@pytest.mark.parametrize("hub_value", [130.0, 160.0])
def test_a_scheme_leaves_the_plan_where_a_bisection_of_exact_full_solves_finds(
    scenario: Scenario, hub_value: float
) -> None:
    # The general case: the hub leaves the plan well above the smallest pot, at an edge set
    # by the value it adds, which no parametric answer gives.
    loose = _with_loose_pace(scenario, hub_value)
    answer = scheme_entry(loose, "frailty-hub")
    assert answer.in_plan_today
    assert answer.method == "secant on the scheme's value margin, confirmed by full solves"
    assert answer.change_pence < -1_000_000_000  # not a floor answer: the edge is £10m+ away
    assert _funded(loose, "frailty-hub", answer.change_pence) is True
    assert _funded(loose, "frailty-hub", answer.change_pence - POUND) is False
    # A bisection by such probes from the scheme's cost needs 28-30 of them.
    assert answer.probes <= 16
    assert answer.full_solves == 2
    assert any("exact optimum" in note for note in answer.notes)


@settings(max_examples=60, deadline=None)
@given(
    edge=st.integers(-(10**10), -(10**4)),
    slope_in=st.floats(1e-9, 1e-3),
    slope_out=st.floats(0.0, 1e-3),
    plateau=st.floats(0.1, 50.0),
    kink=st.integers(0, 10**9),
)
def test_the_secant_search_brackets_any_kinked_margin_to_a_pound(
    edge: int, slope_in: float, slope_out: float, plateau: float, kink: int
) -> None:
    # A margin that is linear above the edge, steeper past a kink, and on the out side
    # falls to a plateau: the shapes the realistic example shows.
    def margin(change: int) -> float:
        if change >= edge:
            steep = max(0, edge + kink - change)
            return (change - edge) * slope_in + steep * slope_in * 9 + 1e-9
        return -min(plateau, (edge - change) * max(slope_out, 1e-12))

    seen: list[int] = []

    def probe(change: int) -> Probe:
        seen.append(change)
        value = margin(change)
        return Probe(1 if value > 0 else 0, value)

    out_at, in_at = _refine(probe, edge - 3 * 10**9 - 17, 0)
    assert out_at < edge <= in_at
    assert in_at - out_at <= POUND
    assert len(seen) <= 2 * 35 + 2  # never worse than two steps per halving of the bracket
