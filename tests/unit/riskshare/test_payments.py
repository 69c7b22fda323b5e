"""Payment mechanisms' variable part, hand-worked to the penny (£1 = 100p)."""

from __future__ import annotations

import numpy as np
import pytest

from allocator.riskshare.volume import (
    VolumeRisk,
    payment_adjustment,
    pool_volume_pence,
    volume_terms,
    volume_value_pence,
)
from models.providers import (
    ActivityPayment,
    BlendedPayment,
    BlockPayment,
    CapitatedPayment,
    Payment,
)

PRICE = 250_000  # £2,500 a unit
BIG = 10**10  # a baseline well above the small-contract threshold
THRESHOLD = 50_000_000  # £0.5m


def adjust(payment: Payment, actual: list[float], *, baseline: int = BIG) -> tuple[list[int], str]:
    out = payment_adjustment(
        10_000,
        np.array(actual),
        payment,
        baseline_pence=baseline,
        small_contract_threshold_pence=THRESHOLD,
    )
    return out.adjustment_pence.tolist(), out.volume_risk.value


def test_two_sided_blended_at_twenty_percent() -> None:
    # Above plan: 0.2 × £2,500 × (10,400 − 10,000) = £200,000 paid by the pool.
    # Below plan: 0.2 × £2,500 × (9,700 − 10,000) = −£150,000 recovered by the pool.
    uec = BlendedPayment(fixed_pence=0, unit_price_pence=PRICE, planned_volume=10_000)
    assert adjust(uec, [10_400, 9_700, 10_000]) == ([20_000_000, -15_000_000, 0], "shared")


def test_one_sided_elective_at_seventy_five_percent_above_plan_only() -> None:
    # Above: 0.75 × £2,500 × 400 = £750,000. Below plan: nothing is recovered.
    elective = BlendedPayment(
        fixed_pence=0,
        unit_price_pence=PRICE,
        planned_volume=10_000,
        variable_rate_share=0.75,
        two_sided=False,
    )
    assert adjust(elective, [10_400, 9_000]) == ([75_000_000, 0], "shared")


def test_activity_payment_puts_all_volume_risk_on_the_pool() -> None:
    # £2,500 × 400 = £1,000,000 above plan; £2,500 × −300 = −£750,000 below.
    activity = ActivityPayment(unit_price_pence=PRICE, planned_volume=10_000)
    assert adjust(activity, [10_400, 9_700]) == ([100_000_000, -75_000_000], "pool")


def test_block_and_small_contracts_leave_volume_risk_with_the_provider() -> None:
    activity = ActivityPayment(unit_price_pence=PRICE, planned_volume=10_000)
    assert adjust(BlockPayment(), [12_000, 8_000]) == ([0, 0], "provider")
    # "£0.5m or less": a baseline at the threshold exactly is paid as a block.
    assert adjust(activity, [12_000], baseline=THRESHOLD) == ([0], "provider")
    # A penny above it is not small.
    assert adjust(activity, [10_001], baseline=THRESHOLD + 1) == ([PRICE], "pool")


def test_capitated_budgets_leave_volume_to_the_agreement() -> None:
    assert adjust(CapitatedPayment(), [12_000]) == ([0], "agreement")


def test_hundred_percent_two_sided_blended_is_all_pool() -> None:
    full = BlendedPayment(
        fixed_pence=0, unit_price_pence=PRICE, planned_volume=1, variable_rate_share=1.0
    )
    terms = volume_terms(full, baseline_pence=BIG, small_contract_threshold_pence=THRESHOLD)
    assert terms.volume_risk is VolumeRisk.POOL


def test_rounding_is_half_away_from_zero() -> None:
    # Price 1p, 50%: one unit above plan is worth 1p, the pool pays 0.5p → 1p;
    # one unit below → −1p. Fractional volumes: 3p × 0.5 units = 1.5p → 2p.
    half = BlendedPayment(
        fixed_pence=0, unit_price_pence=1, planned_volume=1, variable_rate_share=0.5
    )
    terms = volume_terms(half, baseline_pence=BIG, small_contract_threshold_pence=THRESHOLD)
    assert pool_volume_pence(np.array([1, -1, 3]), terms).tolist() == [1, -1, 2]
    assert volume_value_pence(0.5, np.array([1.0, 0.0]), 3).tolist() == [2, -2]


@pytest.mark.parametrize("actual", [[10_000], [0], [10**7]])
def test_whole_volumes_are_exact_integers(actual: list[int]) -> None:
    value = volume_value_pence(10_000, np.array(actual), 123_456_789)
    assert value.dtype == np.int64
    assert value.tolist() == [(a - 10_000) * 123_456_789 for a in actual]
