"""What would it take: the smallest pot, checked by an independent bisection of full solves."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator.errors import AllocatorError
from allocator.explain.scheme_entry import _search_units, scheme_entry
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
    result = solve_scenario(_moved(scenario, None, change), explain=False)
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
        assert _search_units(moved, position, "highs") == expected
