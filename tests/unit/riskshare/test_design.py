"""The agreement design LP against cases that can be worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from allocator.errors import DesignUnavailable
from allocator.riskshare import risk_report
from allocator.riskshare.design import design_agreement
from allocator.riskshare.measures import conditional_value_at_risk
from allocator.riskshare.simulate import simulate_outturn
from models import RiskShareAgreement, Scenario
from tests.conftest import DATA, load

BUDGET = 400_000_000  # Northtown GPs (tiny): capitated, one segment, so no volume payment
DRAWS, SEED = 4_000, 5
# cost = budget × (1 + normal shocks of 2%, 3% and 2.5%): a normal variance with this sd,
# whose CVaR at 95% is sd × φ(1.645) / 0.05.
SD = BUDGET * math.sqrt(0.02**2 + 0.03**2 + 0.025**2)
NORMAL_CVAR = SD * math.exp(-(1.6448536269514722**2) / 2) / math.sqrt(2 * math.pi) / 0.05


def _sample_cvar(tiny: Scenario) -> float:
    """CVaR of the provider's variance on the design's own draws, computed independently."""
    segments = [s.segment_id for s in tiny.segments]  # the draws come one per segment
    mix = np.array([[1.0 if s == "well" else 0.0 for s in segments]])
    out = simulate_outturn(
        np.array([BUDGET]), mix, tiny.outturn, draws=DRAWS, seed=SEED, segment_ids=segments
    )
    cvar, _ = conditional_value_at_risk(out.variance_pence[:, 0], 0.95)
    return float(cvar)


def test_one_band_takes_the_share_that_puts_the_provider_at_its_limit(tiny: Scenario) -> None:
    # One band a side: the provider's loss in the worst draws is share × variance, so the
    # least-transfer share is limit / CVaR(variance); it keeps all of an underspend.
    limit = round(0.4 * NORMAL_CVAR)
    design = design_agreement(
        tiny, "G1", BUDGET, {"well": 1.0}, provider_limit_pence=limit,
        pool_limit_pence=10**12, edges_share=(), draws=DRAWS, seed=SEED, check_draws=2_000,
    )  # fmt: skip
    assert design.feasible and design.agreement is not None
    (over,) = design.agreement.overspend_bands
    (under,) = design.agreement.underspend_bands
    assert over.width_pence is None and under.provider_share == pytest.approx(1.0)
    assert over.provider_share == pytest.approx(limit / _sample_cvar(tiny), abs=1e-5)
    assert over.provider_share == pytest.approx(0.4, rel=0.05)  # the normal model's answer
    assert design.provider_cvar_pence is not None
    assert design.provider_cvar_pence <= limit + 1
    assert design.expected_transfer_pence == pytest.approx(
        (1 - over.provider_share) * design.bands[0].expected_pence, rel=1e-6
    )


def test_limits_that_cannot_both_hold_say_which_and_how_low_each_can_go(tiny: Scenario) -> None:
    # Provider at most 50% of CVaR(v), pool at most 30%: shares s ≤ 0.5 and 1 − s ≤ 0.3 clash.
    # With the pool within its limit the provider's CVaR is at least CVaR(v) − 0.3 CVaR(v).
    cvar = _sample_cvar(tiny)
    design = design_agreement(
        tiny, "G1", BUDGET, {"well": 1.0}, provider_limit_pence=round(0.5 * cvar),
        pool_limit_pence=round(0.3 * cvar), edges_share=(), draws=DRAWS, seed=SEED,
    )  # fmt: skip
    assert not design.feasible and design.agreement is None
    assert "provider's limit" in design.message and "cannot be met" in design.message
    assert design.lowest_provider_cvar_pence == pytest.approx(0.7 * cvar, rel=1e-4)
    assert design.lowest_pool_cvar_pence == pytest.approx(0.5 * cvar, rel=1e-4)


def test_a_pool_limit_below_the_volume_payments_cannot_be_met(tiny: Scenario) -> None:
    realistic = load(DATA / "realistic" / "realistic.json")
    design = design_agreement(
        realistic, "REC", 4_500_000_000, pool_limit_pence=1, draws=1_000, check_draws=1_000
    )
    assert not design.feasible
    assert design.message.startswith("The pool's limit cannot be met by any agreement")
    assert design.lowest_pool_cvar_pence is not None and design.lowest_pool_cvar_pence > 1


def test_the_recommendation_pastes_into_a_scenario_and_keeps_both_limits(tiny: Scenario) -> None:
    provider_limit, pool_limit = round(0.3 * NORMAL_CVAR), round(0.8 * NORMAL_CVAR)
    design = design_agreement(
        tiny, "G1", BUDGET, {"well": 1.0}, provider_limit_pence=provider_limit,
        pool_limit_pence=pool_limit, draws=DRAWS, seed=SEED, check_draws=2_000,
    )  # fmt: skip
    assert design.feasible and design.agreement is not None
    assert [b.from_pence for b in design.bands[:3]] == [0, 4_000_000, 12_000_000]  # 0, 1%, 3%
    agreement = RiskShareAgreement.model_validate_json(design.agreement.model_dump_json())
    doc = tiny.model_dump(mode="json")
    doc["risk_share_agreements"] = [agreement.model_dump(mode="json")]
    doc["providers"][0]["risk_share_agreement_id"] = agreement.agreement_id
    scenario = Scenario.model_validate(doc)
    report = risk_report({"G1": BUDGET}, {"G1": {"well": 1.0}}, scenario, draws=DRAWS, seed=SEED)
    (row,) = report.providers
    assert row.share.cvar_pence == design.provider_cvar_pence
    assert row.share.cvar_pence <= provider_limit + 1
    assert row.pool_share.cvar_pence <= pool_limit + 1


def test_a_provider_without_an_appetite_needs_a_limit(tiny: Scenario) -> None:
    with pytest.raises(DesignUnavailable, match="no risk appetite"):
        design_agreement(tiny, "G1", BUDGET)
    with pytest.raises(DesignUnavailable, match="no provider 'NOPE'"):
        design_agreement(tiny, "NOPE", BUDGET, provider_limit_pence=1)
