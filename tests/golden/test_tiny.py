"""The tiny example against its hand calculation (data/tiny/HAND_CALCULATION.md), to the penny."""

from __future__ import annotations

import pytest

from allocator.pipeline import solve_scenario
from allocator.publish.recheck import assert_reconciles
from models import Scenario
from models.results import AllocationResult

POUND = 100


@pytest.fixture(scope="module")
def result(tiny: Scenario) -> AllocationResult:
    return solve_scenario(tiny)


def test_pool_matches_hand_calculation(result: AllocationResult) -> None:
    assert result.pot.total_pence == 12_000_000 * POUND
    assert result.pot.reserve_pence == 240_000 * POUND
    assert result.pot.capitated_pence == 11_760_000 * POUND
    pool = {line.funder_id: line for line in result.pool}
    assert pool["NHS"].reserve_pence == 200_000 * POUND
    assert pool["LA"].reserve_pence == 40_000 * POUND
    assert pool["LA"].to_providers_pence == {"C": 1_960_000 * POUND}


def test_targets_match_hand_calculation(result: AllocationResult) -> None:
    places = {u.unit_id: u for u in result.places}
    assert places["P1"].target_pence == 4_704_000 * POUND
    assert places["P2"].target_pence == 7_056_000 * POUND
    assert places["P1"].weighted_population == pytest.approx(8_000)
    assert places["P2"].weighted_population == pytest.approx(12_000)
    assert places["P1"].need_index == pytest.approx((8_000 / 6_400) / (20_000 / 15_600))


def test_allocation_matches_hand_calculation(result: AllocationResult) -> None:
    assert result.status == "optimal"
    budgets = {p.provider_id: p.budget_pence for p in result.providers}
    assert budgets == {"G1": 4_060_000 * POUND, "G2": 5_500_000 * POUND, "C": 2_200_000 * POUND}
    care = {p.provider_id: p for p in result.providers}["C"]
    assert care.by_place_pence == {"P1": 644_000 * POUND, "P2": 1_556_000 * POUND}
    assert care.by_funder_pence == {"NHS": 240_000 * POUND, "LA": 1_960_000 * POUND}
    places = {u.unit_id: u.allocation_pence for u in result.places}
    assert places == {"P1": 4_704_000 * POUND, "P2": 7_056_000 * POUND}
    assert result.value_total == pytest.approx(150 + 40 + 60 + 44_000 * 0.05 / 1_500, rel=1e-9)


def test_allocation_reconciles(tiny: Scenario, result: AllocationResult) -> None:
    assert_reconciles(tiny, result)
