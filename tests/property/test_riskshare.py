"""Risk-share arithmetic: shares add up to the penny, caps hold, monotone, exact."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from allocator.riskshare.agreements import compile_agreements, provider_share, share_variance
from allocator.riskshare.pooled import pooled_shares
from allocator.riskshare.scaling import share_to_ppb
from allocator.riskshare.volume import pool_volume_pence, volume_terms
from models.providers import ActivityPayment, BlendedPayment, Payment
from models.risk import RiskShareAgreement, VarianceBand

shares = st.one_of(
    st.sampled_from([0.0, 0.2, 0.25, 1 / 3, 0.5, 0.75, 1.0]),
    st.floats(min_value=0.0, max_value=1.0),
)
variances = st.lists(st.integers(-(10**13), 10**13), min_size=1, max_size=40).map(
    lambda xs: np.array(xs, dtype=np.int64)
)


@st.composite
def band_lists(draw: st.DrawFn) -> tuple[VarianceBand, ...]:
    widths = draw(st.lists(st.integers(1, 10**12), max_size=4))
    bands = [VarianceBand(width_pence=w, provider_share=draw(shares)) for w in widths]
    unbounded_last: bool = draw(st.booleans())
    if bands and unbounded_last:
        bands[-1] = VarianceBand(provider_share=bands[-1].provider_share)
    return tuple(bands)


@st.composite
def agreements(draw: st.DrawFn) -> RiskShareAgreement:
    return RiskShareAgreement(
        agreement_id="a",
        overspend_bands=draw(band_lists()),
        underspend_bands=draw(band_lists()),
        loss_cap_pence=draw(st.none() | st.integers(0, 10**12)),
        gain_cap_pence=draw(st.none() | st.integers(0, 10**12)),
    )


def reference(v: int, agreement: RiskShareAgreement) -> int:
    """The provider's part, one band at a time in exact fractions (halves away from zero)."""

    def side(x: int, bands: tuple[VarianceBand, ...]) -> int:
        total, edge = 0, 0
        for band in bands:
            end = math.inf if band.width_pence is None else edge + band.width_pence
            inside = max(0, min(x, end) - edge)
            exact = Fraction(int(inside)) * Fraction(share_to_ppb(band.provider_share), 10**9)
            total += math.floor(exact + Fraction(1, 2))
            edge = int(min(end, 2**62))
        return total

    loss = side(max(v, 0), agreement.overspend_bands)
    gain = side(max(-v, 0), agreement.underspend_bands)
    if agreement.loss_cap_pence is not None:
        loss = min(loss, agreement.loss_cap_pence)
    if agreement.gain_cap_pence is not None:
        gain = min(gain, agreement.gain_cap_pence)
    return loss - gain


@given(v=variances, agreement=agreements())
def test_shares_add_up_exactly_and_match_the_band_by_band_reference(
    v: np.ndarray, agreement: RiskShareAgreement
) -> None:
    provider, pool = provider_share(v, agreement)
    assert (provider + pool == v).all()
    assert provider.tolist() == [reference(x, agreement) for x in v.tolist()]


@given(v=variances, agreement=agreements())
def test_caps_hold_and_signs_follow_the_variance(
    v: np.ndarray, agreement: RiskShareAgreement
) -> None:
    provider, pool = provider_share(v, agreement)
    if agreement.loss_cap_pence is not None:
        assert (provider <= agreement.loss_cap_pence).all()
    if agreement.gain_cap_pence is not None:
        assert (-provider <= agreement.gain_cap_pence).all()
    assert (provider * np.sign(v) >= 0).all() and (pool * np.sign(v) >= 0).all()
    assert (provider[v == 0] == 0).all() and (pool[v == 0] == 0).all()


@given(v=variances, agreement=agreements())
def test_a_larger_variance_never_lowers_either_share(
    v: np.ndarray, agreement: RiskShareAgreement
) -> None:
    provider, pool = provider_share(np.sort(v), agreement)
    assert (np.diff(provider) >= 0).all()
    assert (np.diff(pool) >= 0).all()


@given(
    deals=st.lists(agreements(), min_size=1, max_size=5),
    rows=st.integers(1, 30),
    seed=st.integers(0, 2**32 - 1),
)
def test_one_table_for_many_providers_matches_each_alone(
    deals: list[RiskShareAgreement], rows: int, seed: int
) -> None:
    scale = np.random.default_rng(seed).choice([10**3, 10**9, 10**14], size=(rows, 1))
    v = np.random.default_rng(seed).integers(-scale, scale, size=(rows, len(deals)))
    provider, pool = share_variance(v, compile_agreements(deals))
    assert (provider + pool == v).all()
    for k, agreement in enumerate(deals):
        assert (provider[:, k] == provider_share(v[:, k], agreement)[0]).all()
        assert provider[:, k].tolist() == [reference(x, agreement) for x in v[:, k].tolist()]


@given(
    v=variances,
    contributions=st.lists(st.integers(0, 10**12), min_size=1, max_size=6).filter(any),
)
def test_pooled_shares_add_up_stay_capped_and_pro_rata(
    v: np.ndarray, contributions: list[int]
) -> None:
    out = pooled_shares(v, contributions)
    assert (out.partner_pence.sum(axis=1) + out.unallocated_pence == v).all()
    assert (np.abs(out.partner_pence) <= np.array(contributions)).all()
    whole = sum(contributions)
    for row, x in zip(out.partner_pence.tolist(), v.tolist(), strict=True):
        shared = min(abs(x), whole)
        for part, c in zip(row, contributions, strict=True):
            assert abs(abs(part) - Fraction(shared * c, whole)) < 1


payments = st.one_of(
    st.builds(ActivityPayment, unit_price_pence=st.integers(0, 10**7), planned_volume=st.just(0)),
    st.builds(
        BlendedPayment,
        fixed_pence=st.just(0),
        unit_price_pence=st.integers(0, 10**7),
        planned_volume=st.just(0),
        variable_rate_share=shares,
        two_sided=st.booleans(),
    ),
)


@given(value=variances, payment=payments)
def test_the_pool_never_pays_more_than_the_activity_is_worth(
    value: np.ndarray, payment: Payment
) -> None:
    terms = volume_terms(payment, baseline_pence=10**12, small_contract_threshold_pence=0)
    paid = pool_volume_pence(value, terms)
    assert (np.abs(paid) <= np.abs(value)).all()
    assert (paid * np.sign(value) >= 0).all()
    if isinstance(payment, BlendedPayment) and not payment.two_sided:
        assert (paid[value < 0] == 0).all()
