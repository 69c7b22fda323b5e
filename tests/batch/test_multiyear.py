"""Rolling a scenario forward a year, and the plan's edges."""

from __future__ import annotations

import pytest

from allocator.batch.changes import scale_pence
from allocator.batch.multiyear import (
    matching_spend_pence,
    next_financial_year,
    plan_years,
    roll_forward,
)
from allocator.pipeline import solve_scenario
from models import Scenario
from models.providers import ActivityPayment, BlendedPayment, BlockPayment
from tests.batch.conftest import REALISTIC
from tests.conftest import load


@pytest.fixture(scope="module")
def realistic() -> Scenario:
    return load(REALISTIC)


def test_next_financial_year() -> None:
    assert next_financial_year("2025/26") == "2026/27"
    assert next_financial_year("2099/00") == "2100/01"
    assert next_financial_year("2025-26") == "2026-27"
    assert next_financial_year("2030") == "2031"
    assert next_financial_year("next year") == "next year +1"
    assert next_financial_year("") == ""


def test_roll_forward_rebases_on_last_years_allocation(realistic: Scenario) -> None:
    result = solve_scenario(realistic, explain=False)
    rolled = roll_forward(
        realistic, result, pot_growth=0.02, demand_growth={"frailty": 0.04}, uplift=0.01, year=2
    )
    assert rolled.scenario_id == "realistic-y2" and rolled.financial_year == "2026/27"
    budgets = {p.provider_id: p.budget_pence for p in result.providers}
    for old, new in zip(realistic.providers, rolled.providers, strict=True):
        assert new.baseline_pence == budgets[old.provider_id]
        if old.capacity_pence is not None:
            assert new.capacity_pence == scale_pence(old.capacity_pence, 0.01)
        if isinstance(old.payment, BlockPayment) and old.payment.amount_pence is not None:
            assert isinstance(new.payment, BlockPayment)
            assert new.payment.amount_pence == scale_pence(old.payment.amount_pence, 0.01)
        if isinstance(old.payment, ActivityPayment | BlendedPayment):
            assert isinstance(new.payment, ActivityPayment | BlendedPayment)
            assert new.payment.unit_price_pence == scale_pence(old.payment.unit_price_pence, 0.01)
    places = {u.unit_id: u.allocation_pence for u in result.places}
    assert {p.place_id: p.baseline_pence for p in rolled.places} == places
    for old_f, new_f in zip(realistic.funders, rolled.funders, strict=True):
        assert new_f.amount_pence == scale_pence(old_f.amount_pence, 0.02)
    frail_old = sum(p.headcount for p in realistic.populations if p.segment_id == "frailty")
    frail_new = sum(p.headcount for p in rolled.populations if p.segment_id == "frailty")
    assert frail_new == pytest.approx(frail_old * 1.04)
    for old_rule, new_rule in zip(realistic.minimum_spends, rolled.minimum_spends, strict=True):
        assert new_rule.baseline_pence == matching_spend_pence(old_rule, realistic, result)
        assert new_rule.min_growth_share == 0.02
    assert realistic.scenario_id == "realistic"  # the input is untouched


def test_matching_spend_counts_what_the_rule_counts(realistic: Scenario) -> None:
    result = solve_scenario(realistic, explain=False)
    for rule in realistic.minimum_spends:
        spent = matching_spend_pence(rule, realistic, result)
        assert rule.required_pence(realistic.funders) <= spent, rule.rule_id


def test_plan_stops_at_a_year_without_an_allocation(realistic: Scenario) -> None:
    plan = plan_years(realistic, years=3, pot_growth=[-0.2, 0.0])
    assert not plan.feasible
    assert [y.result.status for y in plan.years] == ["optimal", "infeasible"]
    path = plan.glide_path()
    assert path[path["year"] == 2]["allocation_pence"].isna().all()


def test_plan_arguments_are_checked(realistic: Scenario) -> None:
    with pytest.raises(ValueError, match="1 to 5 years"):
        plan_years(realistic, years=6)
    with pytest.raises(ValueError, match="one per year after the first"):
        plan_years(realistic, years=3, pot_growth=[0.01, 0.02, 0.03])
