"""Alternatives for negotiation on the realistic example (issue 16, item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator.errors import AllocatorError
from allocator.explain.alternatives import AlternativesMenu, alternatives
from allocator.explain.dimension import parse_dimension
from allocator.io.load import load_scenario
from allocator.publish.recheck import reconciliation_problems, rule_problems
from models import ProviderKind, Scenario

REALISTIC = Path(__file__).parents[2] / "data" / "realistic" / "realistic.json"
WITHIN = 0.005
MILLION_PENCE = 100_000_000  # £1m


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(REALISTIC)


@pytest.fixture(scope="module")
def menu(scenario: Scenario) -> AlternativesMenu:
    return alternatives(scenario, "acute vs community", WITHIN)


def _acute_minus_community(scenario: Scenario, budgets: dict[str, int]) -> int:
    kinds = {p.provider_id: p.kind for p in scenario.providers}
    sign = {ProviderKind.ACUTE: 1, ProviderKind.COMMUNITY: -1}
    return sum(sign.get(kinds[pid], 0) * pence for pid, pence in budgets.items())


def test_three_alternatives_each_within_tolerance_reconciled_and_far_apart(
    scenario: Scenario, menu: AlternativesMenu
) -> None:
    assert len(menu.alternatives) == 3
    optimum = {p.provider_id: p.budget_pence for p in menu.optimum.providers}
    base = _acute_minus_community(scenario, optimum)
    assert base == menu.optimum_along_pence
    seen = set()
    for alt in menu.alternatives:
        result = alt.result
        assert result.feasible
        # Value within the tolerance of the optimum, on the published pence's value.
        assert result.value_total >= (1 - WITHIN) * menu.optimum.value_total
        assert result.value_total < menu.optimum.value_total  # it gave value up to move
        # Reconciles to the penny, every rule re-checked on pence.
        assert reconciliation_problems(scenario, result) == []
        assert rule_problems(scenario, result) == []
        assert alt.problems == []
        # Fairness no worse than the optimum's (to the stage hold).
        for stage in ("fairness_max", "fairness_sum"):
            best = next(s.objective for s in menu.optimum.stages if s.stage == stage)
            assert best is not None
            assert alt.fairness[stage] <= best * (1 + 1e-6) + 1e-9
        # Differs from the optimum by more than £1m along the dimension, read from pence.
        budgets = {p.provider_id: p.budget_pence for p in result.providers}
        along = _acute_minus_community(scenario, budgets)
        assert along == alt.along_pence
        assert abs(along - base) > MILLION_PENCE
        seen.add(along)
    assert len(seen) == 3  # three different allocations along the dimension


def test_the_ends_bracket_the_optimum_and_the_menu(menu: AlternativesMenu) -> None:
    low, high = menu.range_pence
    assert low < menu.optimum_along_pence < high
    alongs = [a.along_pence for a in menu.alternatives]
    # The ends are reached up to the stage holds (a few hundred pounds at most).
    assert max(alongs) == pytest.approx(high, abs=100_000)
    assert min(alongs) == pytest.approx(low, abs=100_000)
    assert all(low - 100_000 <= a <= high + 100_000 for a in alongs)


def test_a_tighter_tolerance_narrows_the_range(scenario: Scenario, menu: AlternativesMenu) -> None:
    tight = alternatives(scenario, "acute vs community", WITHIN / 10, count=2)
    assert len(tight.alternatives) == 2
    assert tight.range_pence[1] - tight.range_pence[0] < menu.range_pence[1] - menu.range_pence[0]


def test_a_place_dimension_moves_that_place(scenario: Scenario) -> None:
    place = scenario.places[0]
    menu = alternatives(scenario, f"place {place.name}", WITHIN, count=2)
    optimum = next(p for p in menu.optimum.places if p.unit_id == place.place_id)
    for alt in menu.alternatives:
        line = next(p for p in alt.result.places if p.unit_id == place.place_id)
        assert line.allocation_pence == alt.along_pence
        assert alt.change_from_optimum_pence == alt.along_pence - (optimum.allocation_pence or 0)
        assert alt.problems == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("acute vs nothing", "two different provider kinds"),
        ("place Atlantis", "no place"),
        ("provider nope", "no provider"),
        ("bananas", "name 'KIND vs KIND'"),
    ],
)
def test_unknown_dimensions_are_located_errors(scenario: Scenario, text: str, message: str) -> None:
    with pytest.raises(AllocatorError, match=message):
        parse_dimension(scenario, text)


def test_bad_tolerance_and_count_are_errors(scenario: Scenario) -> None:
    with pytest.raises(AllocatorError, match="within"):
        alternatives(scenario, "acute vs community", 0.0)
    with pytest.raises(AllocatorError, match="count"):
        alternatives(scenario, "acute vs community", WITHIN, count=0)
