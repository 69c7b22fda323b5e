"""The variable part of each payment mechanism: who pays for activity away from plan.

* activity-based: the pool pays unit price × (actual − planned), both ways: all volume
  risk is the pool's;
* blended (aligned payment): the pool pays ``variable_rate_share`` × unit price × (actual −
  planned); both ways when ``two_sided`` (20% for urgent and emergency care), else above
  plan only (75% for elective activity in 2022/23): activity below plan is not recovered;
* block, and activity or blended contracts whose provider's baseline is below the
  scenario's small-contract threshold (paid as a block): nothing, all volume risk is the
  provider's;
* capitated: nothing here; the risk-share agreement handles the variance.

Money is exact: the value of the activity away from plan, ``unit price × (actual −
planned)``, is taken to the penny first (exact in integers for whole-unit volumes; for
fractional volumes formed in float64, exact below 2⁵³ pence, then rounded halves away
from zero); the pool's part of that value is then rounded to the penny, halves away from
zero, exactly, with the rate read to nine decimal places.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from allocator.riskshare.scaling import SHARE_SCALE, scale_signed, share_to_ppb
from allocator.types import IntArray, NumArray
from models.providers import (
    ActivityPayment,
    BlendedPayment,
    BlockPayment,
    CapitatedPayment,
    Payment,
    is_small_contract,
)


@enum.unique
class VolumeRisk(enum.StrEnum):
    """Who bears the cost of activity away from plan."""

    POOL = "pool"
    SHARED = "shared"
    PROVIDER = "provider"
    AGREEMENT = "agreement"


@dataclass(frozen=True, slots=True)
class VolumeTerms:
    """A mechanism's variable part: the pool's share of activity value above and below plan.

    Shares are parts per billion of the value (unit price × volume away from plan).
    """

    volume_risk: VolumeRisk
    unit_price_pence: int
    above_plan_ppb: int
    below_plan_ppb: int


@dataclass(frozen=True, slots=True)
class PaymentAdjustment:
    """What the pool pays (positive) or recovers (negative) for activity away from plan."""

    adjustment_pence: IntArray
    volume_risk: VolumeRisk


def volume_terms(
    payment: Payment, *, baseline_pence: int, small_contract_threshold_pence: int
) -> VolumeTerms:
    """The variable part of ``payment`` for a provider with ``baseline_pence``."""
    small = is_small_contract(baseline_pence, small_contract_threshold_pence)
    if isinstance(payment, CapitatedPayment):
        return VolumeTerms(VolumeRisk.AGREEMENT, 0, 0, 0)
    if isinstance(payment, BlockPayment) or small:
        return VolumeTerms(VolumeRisk.PROVIDER, 0, 0, 0)
    if isinstance(payment, ActivityPayment):
        return VolumeTerms(VolumeRisk.POOL, payment.unit_price_pence, SHARE_SCALE, SHARE_SCALE)
    assert isinstance(payment, BlendedPayment)
    rate = share_to_ppb(payment.variable_rate_share)
    below = rate if payment.two_sided else 0
    if rate == 0:
        risk = VolumeRisk.PROVIDER
    elif rate == below == SHARE_SCALE:
        risk = VolumeRisk.POOL
    else:
        risk = VolumeRisk.SHARED
    return VolumeTerms(risk, payment.unit_price_pence, rate, below)


def _round_half_away(values: NumArray) -> IntArray:
    x = np.asarray(values, dtype=np.float64)
    rounded: IntArray = (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(np.int64)
    return rounded


def volume_value_pence(
    planned_volume: NumArray | float, actual_volume: NumArray, unit_price_pence: int
) -> IntArray:
    """Unit price × (actual − planned) to the penny (halves away from zero).

    >>> volume_value_pence(10_000, np.array([10_400, 9_900]), 250_000).tolist()
    [100000000, -25000000]
    """
    planned = np.asarray(planned_volume, dtype=np.float64)
    actual = np.asarray(actual_volume, dtype=np.float64)
    whole = bool(np.all(planned == np.floor(planned)) and np.all(actual == np.floor(actual)))
    delta = actual - planned
    largest = float(np.max(np.abs(delta), initial=0.0)) * unit_price_pence
    if whole and largest < 2.0**62:
        exact: IntArray = delta.astype(np.int64) * np.int64(unit_price_pence)
        return exact
    return _round_half_away(delta * float(unit_price_pence))


def pool_volume_pence(value_pence: NumArray, terms: VolumeTerms) -> IntArray:
    """The pool's payment for activity worth ``value_pence`` away from plan (signed)."""
    return scale_signed(value_pence, above_ppb=terms.above_plan_ppb, below_ppb=terms.below_plan_ppb)


def payment_adjustment(
    planned_volume: NumArray | float,
    actual_volume: NumArray,
    payment: Payment,
    *,
    baseline_pence: int,
    small_contract_threshold_pence: int,
) -> PaymentAdjustment:
    """What the pool pays for ``actual_volume`` against plan under ``payment``.

    >>> from models.providers import BlendedPayment
    >>> uec = BlendedPayment(fixed_pence=0, unit_price_pence=250_000, planned_volume=10_000)
    >>> out = payment_adjustment(
    ...     10_000, np.array([10_400, 9_900]), uec,
    ...     baseline_pence=10**10, small_contract_threshold_pence=50_000_000,
    ... )
    >>> out.adjustment_pence.tolist(), out.volume_risk.value
    ([20000000, -5000000], 'shared')
    """
    terms = volume_terms(
        payment,
        baseline_pence=baseline_pence,
        small_contract_threshold_pence=small_contract_threshold_pence,
    )
    actual = np.asarray(actual_volume)
    if terms.above_plan_ppb == 0 and terms.below_plan_ppb == 0:
        shape = np.broadcast_shapes(np.shape(planned_volume), actual.shape)
        return PaymentAdjustment(np.zeros(shape, dtype=np.int64), terms.volume_risk)
    value = volume_value_pence(planned_volume, actual, terms.unit_price_pence)
    return PaymentAdjustment(pool_volume_pence(value, terms), terms.volume_risk)
