"""Shadow prices against hand-derived duals (tiny example) and finite-difference re-solves."""

from __future__ import annotations

import pytest

from allocator.explain.shadow import with_funder_increase
from allocator.pipeline import solve_scenario
from models import Scenario
from models.results import AllocationResult

# Care at home's value curve for frail people in Northtown past £1,500 a head: 0.05 QALY per £1,500.
MARGINAL_CARE_VALUE = 0.05 / 1_500


@pytest.fixture(scope="module")
def result(tiny: Scenario) -> AllocationResult:
    return solve_scenario(tiny)


def test_binding_caps_carry_hand_derived_shadow_prices(result: AllocationResult) -> None:
    # Relaxing either binding cap by £1 lets £1 more reach frail people in Northtown
    # (Southvale GPs' cap: G2 +£1, C2 −£1, C1 +£1, G1 −£1, with GP value saturated).
    prices = {r.unit_id: r for r in result.rules if r.block.startswith("pace.cap")}
    assert set(prices) == {"G2", "C"}
    for line in prices.values():
        assert line.binding
        assert line.shadow_price == pytest.approx(MARGINAL_CARE_VALUE, rel=1e-6)
        assert line.shadow_price > 0  # relaxing a binding rule never loses value
        assert line.shadow_price_unit == "value units per £"
    # Per percentage point of pace: £1 × 1% of the baseline.
    assert prices["G2"].value_per_percentage_point == pytest.approx(
        MARGINAL_CARE_VALUE * 50_000, rel=1e-6
    )
    assert prices["C"].value_per_percentage_point == pytest.approx(
        MARGINAL_CARE_VALUE * 20_000, rel=1e-6
    )


def test_value_of_a_pound_in_the_pool_matches_hand_derivation(result: AllocationResult) -> None:
    # +£1 from the NHS: £0.98 after the 2% reserve; Southvale's target rises by 60% of it, which must
    # come from Care at home (its GPs are capped), so frail Northtown loses £0.588 of care.
    assert result.explanation is not None
    pool = {p.funder_id: p for p in result.explanation.pool}
    assert pool["NHS"].value_per_gbp == pytest.approx(-0.98 * 0.6 * MARGINAL_CARE_VALUE, rel=1e-6)


@pytest.mark.parametrize("funder_id", ["NHS", "LA"])
def test_value_of_a_pound_matches_a_finite_difference_resolve(
    tiny: Scenario, result: AllocationResult, funder_id: str
) -> None:
    step_pence = 1_000_000  # £10,000
    moved = solve_scenario(with_funder_increase(tiny, funder_id, step_pence), explain=False)
    finite_difference = (moved.value_total - result.value_total) / (step_pence / 100)
    assert result.explanation is not None
    dual = {p.funder_id: p for p in result.explanation.pool}[funder_id].value_per_gbp
    assert dual == pytest.approx(finite_difference, rel=0.01)
