"""The risk report on the tiny scenario: reproducible, consistent, and honest about inputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from allocator.domain.pot import scenario_reserve_pence
from allocator.errors import ScenarioInvalid
from allocator.riskshare import RiskReport, risk_report
from allocator.riskshare.scaling import scale_half_away
from allocator.riskshare.simulate import simulate_outturn
from models import Scenario

M = 100_000_000
BUDGETS = {"G1": 4 * M, "G2": 5 * M, "C": 2 * M}
MIX = {"G1": {"well": 1.0}, "G2": {"well": 0.8, "frail": 0.2}, "C": {"frail": 1.0}}
CORRIDOR = {
    "agreement_id": "corridor",
    "overspend_bands": [{"width_pence": M // 10, "provider_share": 1.0}, {"provider_share": 0.5}],
    "underspend_bands": [{"provider_share": 0.5}],
    "loss_cap_pence": M // 5,
}
DEMAND_ONLY = {"system_shock_sd_share": 0.0, "provider_noise_sd_share": 0.0}


def changed(tiny: Scenario, **changes: Any) -> Scenario:
    doc = tiny.model_dump(mode="json")
    doc.update(changes)
    return Scenario.model_validate(doc)


def with_providers(tiny: Scenario, **fields: dict[str, Any]) -> list[dict[str, Any]]:
    providers: list[dict[str, Any]] = tiny.model_dump(mode="json")["providers"]
    for provider in providers:
        provider.update(fields.get(provider["provider_id"], {}))
    return providers


def test_same_seed_same_report_and_json_round_trip(tiny: Scenario) -> None:
    first = risk_report(BUDGETS, MIX, tiny, draws=2_000, seed=3)
    assert first == risk_report(BUDGETS, MIX, tiny, draws=2_000, seed=3)
    assert first != risk_report(BUDGETS, MIX, tiny, draws=2_000, seed=4)
    assert RiskReport.model_validate_json(first.model_dump_json()) == first
    assert first.scenario_hash == tiny.content_hash()


def test_without_agreements_providers_bear_everything(tiny: Scenario) -> None:
    # Tiny has no agreements and capitated budgets: the pool bears nothing, and its
    # reserve is 2% of the £12m pooled = £240,000.
    report = risk_report(BUDGETS, MIX, tiny, draws=2_000, seed=1)
    assert scenario_reserve_pence(tiny) == 24_000_000
    for row in report.providers:
        assert row.share == row.variance
        assert row.pool_share.cvar_pence == row.pool_share.expected_pence == 0
        assert sum(row.histogram.counts) == 2_000
    assert report.pool.call.cvar_pence == 0
    assert report.pool.reserve.reserve_pence == 24_000_000
    assert report.pool.reserve.prob_exceeds_reserve == 0.0


def test_agreement_shares_add_up_and_the_cap_holds(tiny: Scenario) -> None:
    scenario = changed(
        tiny,
        risk_share_agreements=[CORRIDOR],
        providers=with_providers(
            tiny, **{p: {"risk_share_agreement_id": "corridor"} for p in BUDGETS}
        ),
    )
    report = risk_report(BUDGETS, MIX, scenario, draws=5_000, seed=2)
    for row in report.providers:
        total = row.share.expected_pence + row.pool_share.expected_pence
        assert abs(total - row.variance.expected_pence) <= 1  # each mean rounded on its own
        assert row.share.var_pence <= M // 5
        assert row.agreement_id == "corridor"
    assert report.pool.call.cvar_pence > 0


def test_organisation_breakeven_calls_on_the_pool_at_least_as_much(tiny: Scenario) -> None:
    both = {p: {"risk_share_agreement_id": "corridor"} for p in BUDGETS}
    common = {"risk_share_agreements": [CORRIDOR], "providers": with_providers(tiny, **both)}
    system = risk_report(BUDGETS, MIX, changed(tiny, **common), draws=5_000, seed=2)
    organisation = risk_report(
        BUDGETS,
        MIX,
        changed(tiny, outturn={"breakeven": "organisation"}, **common),
        draws=5_000,
        seed=2,
    )
    assert organisation.pool.breakeven.value == "organisation"
    assert organisation.pool.call.expected_pence > system.pool.call.expected_pence
    assert organisation.pool.call.prob_loss >= system.pool.call.prob_loss


def test_payment_mechanisms_settle_demand_before_the_agreement(tiny: Scenario) -> None:
    # Only segment demand shocks: all variance is activity away from plan. Activity
    # payment: the pool pays it all. Blended 20% both ways: the pool pays
    # round(0.2 × v), the provider keeps the rest (no agreement). Block: all the provider's.
    price = {"unit_price_pence": 10_000, "planned_volume": 1_000.0}
    providers = with_providers(
        tiny,
        G1={"payment": {"kind": "activity", **price}},
        G2={"payment": {"kind": "blended", "fixed_pence": 0, **price}},
        C={"payment": {"kind": "block"}},
    )
    scenario = changed(tiny, providers=providers, outturn=DEMAND_ONLY)
    report = risk_report(BUDGETS, MIX, scenario, draws=3_000, seed=9)
    g1, g2, c = report.providers
    assert (g1.volume_risk.value, g2.volume_risk.value, c.volume_risk.value) == (
        "pool",
        "shared",
        "provider",
    )
    assert g1.share.cvar_pence == g1.share.expected_pence == 0
    assert g1.pool_share == g1.variance
    assert c.share == c.variance
    # Recompute G2 by hand from the same draws.
    matrix = np.array([[1.0, 0.0], [0.8, 0.2], [0.0, 1.0]])  # columns: well, frail
    out = simulate_outturn(
        np.array(list(BUDGETS.values())),
        matrix,
        scenario.outturn,
        draws=3_000,
        seed=9,
        segment_ids=["well", "frail"],
        with_demand=True,
    )
    v = out.variance_pence[:, 1]
    kept = v - scale_half_away(v, 200_000_000)
    assert g2.share.var_pence == int(np.sort(kept)[int(0.95 * 3_000) - 1])


def test_small_contracts_are_paid_as_block(tiny: Scenario) -> None:
    providers = with_providers(
        tiny, G1={"payment": {"kind": "activity", "unit_price_pence": 1, "planned_volume": 1.0}}
    )
    scenario = changed(
        tiny, providers=providers, small_contract_threshold_pence=10**9, outturn=DEMAND_ONLY
    )
    g1 = risk_report(BUDGETS, MIX, scenario, draws=500, seed=1).providers[0]
    assert g1.volume_risk.value == "provider"
    assert g1.share == g1.variance


def test_pooled_budget_split_between_partners(tiny: Scenario) -> None:
    pooled = {
        "agreement_id": "s75",
        "profile": "pooled_pro_rata",
        "partners": [
            {"funder_id": "NHS", "contribution_pence": 30 * M},
            {"funder_id": "LA", "contribution_pence": 10 * M},
        ],
    }
    providers = with_providers(tiny, C={"risk_share_agreement_id": "s75"})
    scenario = changed(tiny, risk_share_agreements=[pooled], providers=providers)
    report = risk_report(BUDGETS, MIX, scenario, draws=4_000, seed=5)
    c = report.providers[2]
    assert c.share.cvar_pence == c.share.expected_pence == 0
    assert c.pool_share == c.variance
    (budget,) = report.pooled_budgets
    assert budget.provider_ids == ("C",)
    nhs, la = budget.partners
    assert (nhs.funder_id, la.funder_id) == ("NHS", "LA")
    assert abs(nhs.share.cvar_pence - 3 * la.share.cvar_pence) <= 3
    assert budget.unallocated_expected_pence == 0
    assert budget.prob_unallocated == 0.0


def test_pooled_budget_without_partners_uses_the_funders(tiny: Scenario) -> None:
    pooled = {"agreement_id": "s75", "profile": "pooled_pro_rata"}
    providers = with_providers(tiny, C={"risk_share_agreement_id": "s75"})
    scenario = changed(tiny, risk_share_agreements=[pooled], providers=providers)
    report = risk_report(BUDGETS, MIX, scenario, draws=500, seed=5)
    (budget,) = report.pooled_budgets
    assert [p.contribution_pence for p in budget.partners] == [1_000_000_000, 200_000_000]
    assert any("names no partners" in note for note in report.notes)


def test_a_missing_mix_row_spreads_over_the_providers_segments(tiny: Scenario) -> None:
    partial = {k: v for k, v in MIX.items() if k != "G2"}
    assert risk_report(BUDGETS, partial, tiny, draws=300, seed=1).providers[1].variance


def test_bad_inputs_are_all_reported_with_locations(tiny: Scenario) -> None:
    budgets = {**BUDGETS, "NOPE": M}
    mix = {**MIX, "G1": {"well": 0.5, "moon": 0.5}, "G2": {"well": 0.5}}
    with pytest.raises(ScenarioInvalid) as error:
        risk_report(budgets, mix, tiny, draws=10, seed=1)
    locs = {issue.loc for issue in error.value.issues}
    assert {("budgets_pence", "NOPE"), ("mix", "G1", "moon"), ("mix", "G2")} <= locs


def test_reserve_is_an_amount_or_a_share_of_pooled_money(tiny: Scenario) -> None:
    # NHS passes £1m straight to G1: pooled = £12m − £1m = £11m; 2% of it = £220,000.
    funders = tiny.model_dump(mode="json")["funders"]
    funders[0]["pass_through"] = [{"provider_id": "G1", "amount_pence": M}]
    assert scenario_reserve_pence(changed(tiny, funders=funders)) == 22_000_000
    assert scenario_reserve_pence(changed(tiny, reserve={"amount_pence": 5})) == 5
    assert scenario_reserve_pence(changed(tiny, reserve={})) == 0


def test_reserve_needed_at_its_own_confidence(tiny: Scenario) -> None:
    scenario = changed(
        tiny,
        risk_share_agreements=[CORRIDOR],
        providers=with_providers(tiny, G1={"risk_share_agreement_id": "corridor"}),
    )
    at_80 = risk_report(BUDGETS, MIX, scenario, draws=4_000, seed=1, reserve_confidence=0.8)
    at_99 = risk_report(BUDGETS, MIX, scenario, draws=4_000, seed=1, reserve_confidence=0.99)
    assert at_80.pool.reserve.confidence == 0.8
    assert 0 < at_80.pool.reserve.reserve_needed_pence < at_99.pool.reserve.reserve_needed_pence
    assert at_80.pool.call == at_99.pool.call  # the level of the other figures is unchanged


def test_no_budgets_is_an_error(tiny: Scenario) -> None:
    with pytest.raises(ScenarioInvalid):
        risk_report({}, {}, tiny, draws=10, seed=1)


def test_costs_drawn_around_expected_costs_make_a_bigger_budget_a_buffer(tiny: Scenario) -> None:
    # Same draws around the same expected costs: a budget £100k higher moves every variance
    # down by exactly £100k, so the provider (bearing everything) expects a £100k gain.
    buffer = 10_000_000
    base = risk_report(BUDGETS, MIX, tiny, draws=2_000, seed=4)
    padded = {**BUDGETS, "G1": BUDGETS["G1"] + buffer}
    shifted = risk_report(padded, MIX, tiny, draws=2_000, seed=4, expected_cost_pence=BUDGETS)
    before, after = base.providers[0], shifted.providers[0]
    assert after.variance.var_pence == before.variance.var_pence - buffer
    assert abs(after.share.expected_pence - (before.share.expected_pence - buffer)) <= 1
    assert shifted.providers[1:] == base.providers[1:]
    assert any("expected costs given" in note for note in shifted.notes)
    with pytest.raises(ScenarioInvalid):
        risk_report(BUDGETS, MIX, tiny, draws=10, expected_cost_pence={"NOPE": 1})
