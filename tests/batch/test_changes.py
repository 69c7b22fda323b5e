"""Each change is a pure Scenario -> Scenario function with exact money."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allocator.batch.changes import (
    CHANGE_ADAPTER,
    DemandGrowth,
    PaceBounds,
    PotGrowth,
    RiskShareTerms,
    UnitPriceGrowth,
    apply_changes,
    change_parameters,
    scale_pence,
)
from allocator.validate import blocking, validate_scenario
from models import Scenario
from models.providers import ActivityPayment, BlendedPayment
from tests.batch.conftest import REALISTIC
from tests.conftest import load


@pytest.fixture(scope="module")
def realistic() -> Scenario:
    return load(REALISTIC)


def test_scale_pence_rounds_half_up_on_the_growth_as_written() -> None:
    assert scale_pence(150, 0.03) == 155  # 154.5 -> 155
    assert scale_pence(50, 0.01) == 51  # 50.5 -> 51 (binary 1.01 would give 50.4999...)
    assert scale_pence(100, -0.005) == 100  # 99.5 -> 100
    assert scale_pence(0, 0.5) == 0
    assert scale_pence(231_000_000_000, 0.03) == 237_930_000_000


@given(st.integers(0, 10**13), st.integers(-1000, 1000))
def test_scale_pence_is_exact_decimal_arithmetic(amount: int, basis_points: int) -> None:
    growth = basis_points / 10_000
    exact = amount * (10_000 + basis_points)  # in 1/10,000 pence
    expected = (exact + 5_000) // 10_000  # half up (non-negative amounts)
    assert scale_pence(amount, growth) == expected


def test_pot_growth_scales_every_funder_and_leaves_the_base_alone(realistic: Scenario) -> None:
    before = realistic.model_dump_json()
    grown = PotGrowth(growth=0.02).apply(realistic)
    assert realistic.model_dump_json() == before
    for old, new in zip(realistic.funders, grown.funders, strict=True):
        assert new.amount_pence == scale_pence(old.amount_pence, 0.02)
        assert new.pass_through == old.pass_through
    only = PotGrowth(growth=0.1, funder_ids=("ICB",)).apply(realistic)
    changed = [f.funder_id for f, g in zip(realistic.funders, only.funders, strict=True) if f != g]
    assert changed == ["ICB"]


def test_demand_growth_scales_one_segment(realistic: Scenario) -> None:
    grown = DemandGrowth(segment_id="frailty", growth=0.05).apply(realistic)
    for old, new in zip(realistic.populations, grown.populations, strict=True):
        factor = 1.05 if old.segment_id == "frailty" else 1.0
        assert new.headcount == pytest.approx(old.headcount * factor, rel=1e-15)
    place = realistic.places[0].place_id
    local = DemandGrowth(segment_id="frailty", growth=0.05, place_ids=(place,)).apply(realistic)
    in_place = {n.neighbourhood_id for n in realistic.neighbourhoods if n.place_id == place}
    for old, new in zip(realistic.populations, local.populations, strict=True):
        moved = old.segment_id == "frailty" and old.neighbourhood_id in in_place
        assert (new.headcount != old.headcount) == moved


def test_unit_price_growth_touches_activity_and_blended_prices_only(realistic: Scenario) -> None:
    grown = UnitPriceGrowth(growth=0.1).apply(realistic)
    for old, new in zip(realistic.providers, grown.providers, strict=True):
        if isinstance(old.payment, ActivityPayment | BlendedPayment):
            assert isinstance(new.payment, ActivityPayment | BlendedPayment)
            expected = scale_pence(old.payment.unit_price_pence, 0.1)
            assert new.payment.unit_price_pence == expected
        else:
            assert new == old


def test_pace_bounds_set_the_named_rule_and_stay_valid(realistic: Scenario) -> None:
    changed = PaceBounds(rule_id="provider-pace", floor_growth_share=0.01).apply(realistic)
    rule = next(r for r in changed.pace_of_change if r.rule_id == "provider-pace")
    assert rule.floor_growth_share == 0.01 and rule.cap_growth_share == 0.08
    with pytest.raises(ValueError, match="cap_growth_share is below"):
        PaceBounds(rule_id="provider-pace", floor_growth_share=0.2).apply(realistic)
    with pytest.raises(ValueError, match="no pace-of-change rule"):
        PaceBounds(rule_id="nope", floor_growth_share=0.0).apply(realistic)


def test_risk_share_terms_set_band_shares_and_caps(realistic: Scenario) -> None:
    change = RiskShareTerms(
        agreement_id="acute-corridor", overspend_shares=(0.5, 0.25, 0.0), loss_cap_pence=10
    )
    agreement = next(
        a
        for a in change.apply(realistic).risk_share_agreements
        if a.agreement_id == "acute-corridor"
    )
    assert [b.provider_share for b in agreement.overspend_bands] == [0.5, 0.25, 0.0]
    assert agreement.loss_cap_pence == 10
    with pytest.raises(ValueError, match="3 overspend_bands, 2 shares"):
        RiskShareTerms(agreement_id="acute-corridor", overspend_shares=(0.5, 0.5)).apply(realistic)
    with pytest.raises(ValueError, match="needs shares or caps"):
        RiskShareTerms(agreement_id="acute-corridor")


def test_changes_compose_in_order_and_validate(realistic: Scenario) -> None:
    changes = [
        CHANGE_ADAPTER.validate_python({"kind": "pot_growth", "growth": 0.02}),
        CHANGE_ADAPTER.validate_python(
            {"kind": "demand_growth", "segment_id": "frailty", "growth": 0.03}
        ),
        CHANGE_ADAPTER.validate_python({"kind": "unit_price", "growth": 0.01}),
    ]
    out = apply_changes(realistic, changes)
    assert blocking(validate_scenario(out)) == []
    assert out.total_funding_pence() > realistic.total_funding_pence()
    assert change_parameters(changes) == {
        "pot_growth": 0.02,
        "demand_growth[frailty]": 0.03,
        "unit_price_growth": 0.01,
    }


def test_unknown_ids_are_errors(realistic: Scenario) -> None:
    with pytest.raises(ValueError, match="no segment 'nope'"):
        DemandGrowth(segment_id="nope", growth=0.1).apply(realistic)
    with pytest.raises(ValueError, match="no funder 'X'"):
        PotGrowth(growth=0.1, funder_ids=("X",)).apply(realistic)
