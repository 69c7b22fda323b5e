"""Hand-worked risk-share agreements, to the penny (£1 = 100p)."""

from __future__ import annotations

import numpy as np
import pytest

from allocator.riskshare.agreements import (
    PROVIDER_BEARS_ALL,
    compile_agreements,
    provider_share,
    share_variance,
)
from models.enums import RiskShareProfile
from models.risk import RiskShareAgreement, VarianceBand

M = 100_000_000  # £1m in pence


def band(share: float, width_pence: int | None = None) -> VarianceBand:
    return VarianceBand(width_pence=width_pence, provider_share=share)


CORRIDOR_50_50 = RiskShareAgreement(
    agreement_id="corridor", overspend_bands=(band(0.5),), underspend_bands=(band(0.5),)
)
# First £0.5m provider 100%, next £2m 50%, beyond 0%; provider's loss capped at £1m.
THREE_BANDS = RiskShareAgreement(
    agreement_id="three-bands",
    overspend_bands=(band(1.0, M // 2), band(0.5, 2 * M), band(0.0)),
    loss_cap_pence=1 * M,
)
# Gains: first £1m the provider keeps 100%, next £4m 50%, beyond nothing; keeps at most £2m.
GAIN_SHARE = RiskShareAgreement(
    agreement_id="gain-share",
    underspend_bands=(band(1.0, 1 * M), band(0.5, 4 * M)),
    gain_cap_pence=2 * M,
)


def test_simple_corridor_splits_an_overspend_half_and_half() -> None:
    # Overspend £1.2m at 50/50: provider 0.5 × 1.2m = £600k, pool £600k.
    provider, pool = provider_share(np.array([120_000_000]), CORRIDOR_50_50)
    assert provider.tolist() == [60_000_000]
    assert pool.tolist() == [60_000_000]


def test_three_bands_with_a_loss_cap() -> None:
    # Overspend £3m: provider 1.0 × 0.5m + 0.5 × 2m + 0 × 0.5m = £1.5m, capped to £1m;
    # pool 3m − 1m = £2m.
    # Overspend £1m: 1.0 × 0.5m + 0.5 × 0.5m = £0.75m (under the cap); pool £0.25m.
    # Overspend £0.3m: all inside the first band, provider 100%.
    provider, pool = provider_share(np.array([3 * M, 1 * M, 30_000_000]), THREE_BANDS)
    assert provider.tolist() == [1 * M, 75_000_000, 30_000_000]
    assert pool.tolist() == [2 * M, 25_000_000, 0]


def test_beyond_the_last_bounded_band_the_pool_bears_it_all() -> None:
    # Bands 0.5m @ 100% and 2m @ 50%, no cap, nothing after: overspend £3m →
    # provider 0.5m + 1m = £1.5m; the last £0.5m is the pool's: pool £1.5m.
    bounded = RiskShareAgreement(
        agreement_id="bounded", overspend_bands=(band(1.0, M // 2), band(0.5, 2 * M))
    )
    provider, pool = provider_share(np.array([3 * M]), bounded)
    assert (provider.tolist(), pool.tolist()) == ([150_000_000], [150_000_000])


def test_gain_share_on_an_underspend_with_a_gain_cap() -> None:
    # Underspend £3m (v = −3m): keeps 1.0 × 1m + 0.5 × 2m = £2m → provider −2m, pool −1m.
    # Underspend £6m: 1.0 × 1m + 0.5 × 4m = £3m, capped to £2m; pool −6m + 2m = −£4m.
    # Overspends have no bands here: the pool bears them all.
    provider, pool = provider_share(np.array([-3 * M, -6 * M, 5 * M]), GAIN_SHARE)
    assert provider.tolist() == [-2 * M, -2 * M, 0]
    assert pool.tolist() == [-1 * M, -4 * M, 5 * M]


def test_each_band_rounds_halves_away_from_zero() -> None:
    # 50% of 7p = 3.5p → 4p (away from zero); of −7p → −4p.
    # Bands of 3p @ 50% then unbounded @ 50%: 6p → round(1.5) + round(1.5) = 2 + 2 = 4p:
    # each band's part is rounded on its own.
    # A third (read as 0.333333333) of £1 = 33.3333333p → 33p.
    split = RiskShareAgreement(
        agreement_id="split", overspend_bands=(band(0.5, 3), band(0.5)), underspend_bands=()
    )
    third = RiskShareAgreement(agreement_id="third", overspend_bands=(band(1 / 3),))
    assert provider_share(np.array([7, -7]), CORRIDOR_50_50)[0].tolist() == [4, -4]
    assert provider_share(np.array([6]), split)[0].tolist() == [4]
    assert provider_share(np.array([100]), third)[0].tolist() == [33]


def test_no_bands_leaves_everything_with_the_pool_and_no_agreement_with_the_provider() -> None:
    v = np.array([5 * M, -3 * M, 0])
    empty = RiskShareAgreement(agreement_id="empty")
    assert provider_share(v, empty)[0].tolist() == [0, 0, 0]
    assert provider_share(v, PROVIDER_BEARS_ALL)[0].tolist() == v.tolist()


def test_a_pooled_budget_agreement_leaves_the_provider_nothing() -> None:
    pooled = RiskShareAgreement(
        agreement_id="s75", profile=RiskShareProfile.POOLED_PRO_RATA, overspend_bands=(band(1.0),)
    )
    provider, pool = provider_share(np.array([7 * M, -M]), pooled)
    assert provider.tolist() == [0, 0]
    assert pool.tolist() == [7 * M, -M]


def test_vectorised_table_matches_one_agreement_at_a_time() -> None:
    agreements = [CORRIDOR_50_50, THREE_BANDS, GAIN_SHARE, PROVIDER_BEARS_ALL]
    rng = np.random.default_rng(3)
    # More draws × providers than one cache chunk, so the chunking is exercised.
    v = rng.integers(-8 * M, 8 * M, size=(60_000, len(agreements)))
    provider, pool = share_variance(v, compile_agreements(agreements))
    assert (provider + pool == v).all()
    for k, agreement in enumerate(agreements):
        alone, _ = provider_share(v[:, k], agreement)
        assert (provider[:, k] == alone).all()


def test_one_agreement_applies_to_every_column_and_shapes_are_kept() -> None:
    v = np.array([[2 * M, -2 * M, 0], [M, 3, -3]])
    provider, pool = provider_share(v, CORRIDOR_50_50)
    assert provider.shape == pool.shape == (2, 3)
    assert provider.tolist() == [[M, -M, 0], [M // 2, 2, -2]]


def test_a_table_must_fit_the_columns() -> None:
    table = compile_agreements([CORRIDOR_50_50, THREE_BANDS])
    with pytest.raises(ValueError, match="does not fit"):
        share_variance(np.zeros((4, 3), dtype=np.int64), table)


def test_columns_with_different_shares_in_one_band_keep_their_own() -> None:
    # Band 1 is 100% for one provider and 0% for the other; 1/3 against a huge variance
    # forces the overflow-safe path: 10¹⁵p × 0.333333333 = 333,333,333,000,000p exactly.
    full = RiskShareAgreement(agreement_id="full", overspend_bands=(band(1.0),))
    third = RiskShareAgreement(agreement_id="third", overspend_bands=(band(1 / 3),))
    none = RiskShareAgreement(agreement_id="none", overspend_bands=(band(0.0),))
    v = np.array([[10**15, 10**15, 10**15], [7, 7, 7]])
    provider, _ = share_variance(v, compile_agreements([full, none, third]))
    assert provider.tolist() == [[10**15, 0, 333_333_333_000_000], [7, 0, 2]]
