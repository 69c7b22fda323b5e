"""The seeded outturn Monte Carlo: reproducible, chunk-free, with the factor model's moments."""

from __future__ import annotations

import numpy as np
import pytest

from allocator.errors import ScenarioInvalid
from allocator.riskshare import simulate
from allocator.riskshare.simulate import segment_loadings, simulate_outturn
from models.risk import OutturnVolatility, SegmentVolatility

BUDGETS = np.array([10**10, 4 * 10**9, 10**9])
MIX = np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])


def test_same_seed_same_outturn_and_another_seed_differs() -> None:
    vol = OutturnVolatility()
    a = simulate_outturn(BUDGETS, MIX, vol, draws=2_000, seed=7)
    b = simulate_outturn(BUDGETS, MIX, vol, draws=2_000, seed=7)
    c = simulate_outturn(BUDGETS, MIX, vol, draws=2_000, seed=8)
    assert a.variance_pence.dtype == np.int64
    assert np.array_equal(a.variance_pence, b.variance_pence)
    assert not np.array_equal(a.variance_pence, c.variance_pence)
    assert np.array_equal(a.cost_pence, BUDGETS + a.variance_pence)


def test_chunk_size_does_not_change_the_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    vol = OutturnVolatility()
    whole = simulate_outturn(BUDGETS, MIX, vol, draws=1_000, seed=3, with_demand=True)
    monkeypatch.setattr(simulate, "_CHUNK_ELEMENTS", 70)  # ten draws per chunk
    chunked = simulate_outturn(BUDGETS, MIX, vol, draws=1_000, seed=3, with_demand=True)
    assert np.array_equal(whole.variance_pence, chunked.variance_pence)
    assert whole.demand_pence is not None and chunked.demand_pence is not None
    assert np.array_equal(whole.demand_pence, chunked.demand_pence)


def test_standard_deviations_and_correlation_follow_the_factor_model() -> None:
    # Two one-segment providers on different segments: sd² = sys² + seg² + noise²,
    # covariance (as shares of budget) = sys² + ρ·seg².
    vol = OutturnVolatility(
        system_shock_sd_share=0.02,
        segment_shock_sd_share=0.03,
        segment_correlation=0.5,
        provider_noise_sd_share=0.04,
    )
    budgets = np.array([10**10, 10**10])
    out = simulate_outturn(budgets, np.eye(2), vol, draws=100_000, seed=11)
    shares = out.variance_pence / budgets
    sd = np.sqrt(0.02**2 + 0.03**2 + 0.04**2)
    assert shares.std(axis=0) == pytest.approx([sd, sd], rel=0.02)
    expected_corr = (0.02**2 + 0.5 * 0.03**2) / sd**2
    assert np.corrcoef(shares.T)[0, 1] == pytest.approx(expected_corr, abs=0.01)


def test_segment_overrides_apply_by_segment_id() -> None:
    vol = OutturnVolatility(
        system_shock_sd_share=0.0,
        provider_noise_sd_share=0.0,
        segment_overrides=(SegmentVolatility(segment_id="frail", sd_share=0.1),),
    )
    budgets = np.array([10**10, 10**10])
    out = simulate_outturn(
        budgets, np.eye(2), vol, draws=50_000, seed=5, segment_ids=["well", "frail"]
    )
    assert (out.variance_pence / budgets).std(axis=0) == pytest.approx([0.03, 0.1], rel=0.02)


def test_demand_part_is_the_segment_shock() -> None:
    vol = OutturnVolatility(system_shock_sd_share=0.0, provider_noise_sd_share=0.0)
    out = simulate_outturn(BUDGETS, MIX, vol, draws=500, seed=2, with_demand=True)
    assert out.demand_pence is not None
    assert np.array_equal(out.variance_pence, out.demand_pence)
    assert simulate_outturn(BUDGETS, MIX, vol, draws=5, seed=2).demand_pence is None


def test_costs_never_go_below_zero() -> None:
    wild = OutturnVolatility(system_shock_sd_share=1.0, provider_noise_sd_share=1.0)
    out = simulate_outturn(BUDGETS, MIX, wild, draws=2_000, seed=1)
    assert (out.cost_pence >= 0).all()
    assert (out.cost_pence == 0).any()


@pytest.mark.parametrize(("segments", "rho"), [(1, 0.3), (4, 0.3), (8, -0.1), (3, 1.0)])
def test_loadings_reproduce_the_equicorrelation_matrix(segments: int, rho: float) -> None:
    loadings = segment_loadings(segments, rho)
    target = np.full((segments, segments), rho)
    np.fill_diagonal(target, 1.0)
    assert np.allclose(loadings @ loadings.T, target)


def test_an_impossible_correlation_is_a_located_error() -> None:
    with pytest.raises(ScenarioInvalid) as error:
        segment_loadings(12, -0.1)  # needs ρ > −1/11
    assert error.value.issues[0].loc == ("outturn", "segment_correlation")


@pytest.mark.parametrize(
    ("mix", "message"),
    [
        (np.array([[0.5, 0.4, 0.0]] * 3), "sum to 1"),
        (np.array([[1.5, -0.5, 0.0]] * 3), "non-negative"),
        (np.ones((2, 3)) / 3, "3 rows"),
    ],
)
def test_mix_is_checked(mix: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        simulate_outturn(BUDGETS, mix, OutturnVolatility(), draws=10, seed=0)
