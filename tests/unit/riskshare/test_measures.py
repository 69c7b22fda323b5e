"""VaR, CVaR, standard errors, the pool's call and the reserve, checked by hand and closed form."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from allocator.riskshare.agreements import provider_share
from allocator.riskshare.measures import (
    conditional_value_at_risk,
    mean_and_se,
    pool_call,
    reserve_measures,
    tail_measures,
    value_at_risk,
)
from allocator.riskshare.simulate import simulate_outturn
from models.enums import BreakevenLevel
from models.risk import OutturnVolatility, RiskShareAgreement, VarianceBand


def test_var_and_cvar_by_hand() -> None:
    # Losses 1..100 at 95%: VaR is the 95th smallest = 95; CVaR = mean(96..100) = 98.
    # Losses 1..10 at 75%: nα = 7.5, so VaR = 8th smallest = 8 and the tail of 2.5 draws
    # is 9, 10 and half of 8: (0.5·8 + 9 + 10) / 2.5 = 9.2.
    assert int(value_at_risk(np.arange(1, 101), 0.95)) == 95
    assert float(conditional_value_at_risk(np.arange(1, 101), 0.95)[0]) == 98.0
    assert int(value_at_risk(np.arange(1, 11), 0.75)) == 8
    assert float(conditional_value_at_risk(np.arange(1, 11), 0.75)[0]) == pytest.approx(9.2)


def test_columns_are_measured_separately() -> None:
    losses = np.stack([np.arange(1, 101), -np.arange(1, 101), np.zeros(100, dtype=int)], axis=1)
    measures = tail_measures(losses, 0.95)
    assert measures.var.tolist() == [95, -6, 0]  # 95th smallest of −100..−1
    assert measures.cvar.tolist() == pytest.approx([98.0, -3.0, 0.0])
    assert measures.prob_loss.tolist() == [1.0, 0.0, 0.0]
    assert measures.mean.tolist() == pytest.approx([50.5, -50.5, 0.0])


def test_level_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="level"):
        value_at_risk(np.arange(5), 1.0)


def test_pool_call_at_system_and_organisation_level() -> None:
    # Two draws, three providers. System: one's gain offsets another's loss, so the call
    # is the sum: 5 − 3 + 0 = 2 and −1 − 1 + 4 = 2. Organisation: each is settled on its
    # own: 5 + 0 + 0 = 5 and 0 + 0 + 4 = 4. Grouping providers 0 and 1 as one unit:
    # max(5 − 3, 0) + 0 = 2 and max(−2, 0) + 4 = 4.
    shares = np.array([[5, -3, 0], [-1, -1, 4]])
    assert pool_call(shares, BreakevenLevel.SYSTEM).tolist() == [2, 2]
    assert pool_call(shares, BreakevenLevel.ORGANISATION).tolist() == [5, 4]
    grouped = pool_call(shares, BreakevenLevel.ORGANISATION, np.array([7, 7, 2]))
    assert grouped.tolist() == [2, 4]


def test_reserve_measures_by_hand() -> None:
    # Calls −10, 0, 10, 20, 30 against a reserve of 15: E[max(call, 0)] = 60/5 = 12;
    # P(call > 15) = 2/5; E[max(call − 15, 0)] = (5 + 15)/5 = 4; at 80% confidence the
    # reserve needed is the 4th smallest positive call (0, 0, 10, 20, 30) = 20.
    out = reserve_measures(np.array([-10, 0, 10, 20, 30]), 15, 0.8)
    assert out.expected_call == 12.0
    assert out.prob_exceeds == 0.4
    assert out.expected_shortfall == 4.0
    assert out.reserve_needed == 20


def _normal_outturn(draws: int, seed: int) -> np.ndarray:
    vol = OutturnVolatility(
        system_shock_sd_share=0.0, segment_shock_sd_share=0.0, provider_noise_sd_share=0.05
    )
    out = simulate_outturn(np.array([10**10]), np.array([[1.0]]), vol, draws=draws, seed=seed)
    return out.variance_pence[:, 0]


def test_standard_errors_halve_when_draws_quadruple() -> None:
    small, large = _normal_outturn(20_000, 1), _normal_outturn(80_000, 2)
    mean_ratio = float(mean_and_se(small)[1]) / float(mean_and_se(large)[1])
    cvar_ratio = float(conditional_value_at_risk(small)[1]) / float(
        conditional_value_at_risk(large)[1]
    )
    assert 1.6 < mean_ratio < 2.5
    assert 1.6 < cvar_ratio < 2.5


def test_cvar_of_a_linear_share_of_normal_outturn_matches_the_closed_form() -> None:
    # Provider noise only: v ~ N(0, (Bσ)²), B = £100m, σ = 5%. The provider bears θ = 40%
    # both ways (one unbounded band each side), so its loss is θ·v and
    # CVaR_α = θ·B·σ·φ(z_α)/(1 − α) at α = 95%: 0.4 × £5m × 2.0627 = £4.125m.
    theta, alpha, budget, sigma = 0.4, 0.95, 10**10, 0.05
    linear = RiskShareAgreement(
        agreement_id="linear",
        overspend_bands=(VarianceBand(provider_share=theta),),
        underspend_bands=(VarianceBand(provider_share=theta),),
    )
    loss, _ = provider_share(_normal_outturn(200_000, 42), linear)
    cvar, se = conditional_value_at_risk(loss, alpha)
    z = NormalDist().inv_cdf(alpha)
    exact = theta * budget * sigma * math.exp(-z * z / 2) / math.sqrt(2 * math.pi) / (1 - alpha)
    assert exact == pytest.approx(412_543_000, rel=1e-4)
    assert abs(float(cvar) - exact) < 3 * float(se)
    assert float(se) < 0.01 * exact


def test_wide_samples_measured_in_blocks_match_column_by_column() -> None:
    losses = np.random.default_rng(4).integers(-(10**9), 10**9, size=(50_000, 40))
    wide = tail_measures(losses, 0.9)  # 50,000 × 40 is two blocks of 32 columns
    for k in range(losses.shape[1]):
        alone = tail_measures(losses[:, k], 0.9)
        assert int(wide.var[k]) == int(alone.var)
        assert float(wide.cvar[k]) == float(alone.cvar)
        assert float(wide.mean[k]) == pytest.approx(float(alone.mean), rel=1e-12)
        assert float(wide.prob_loss[k]) == float(alone.prob_loss)
