"""Use-it-or-lose-it entitlements (e.g. the additional roles reimbursement scheme), by hand.

Two places with one neighbourhood each (N1 in P1, N2 in P2) and one segment. G1 and G2 are
the general practices of P1 and P2; A is an acute trust serving both. The NHS funder brings
£2m unrestricted; ARRS brings £0.30m ring-fenced to general practice, as entitlements of
£0.10m for N1 and £0.20m for N2. No reserve.
"""

from __future__ import annotations

from typing import Any

import pytest

from allocator.batch.multiyear import roll_forward
from allocator.pipeline import solve_scenario
from allocator.publish.recheck import reconciliation_problems, rule_problems
from allocator.validate import blocking, validate_scenario
from models import Scenario
from models.results import AllocationResult


def _document(g1_capacity: int | None = None, stages: list[str] | None = None) -> dict[str, Any]:
    g1: dict[str, Any] = {
        "provider_id": "G1",
        "kind": "general_practice",
        "place_ids": ["P1"],
        "segment_ids": ["all"],
        "baseline_pence": 5_000_000,
    }
    if g1_capacity is not None:
        g1["capacity_pence"] = g1_capacity
    doc: dict[str, Any] = {
        "scenario_id": "arrs",
        "financial_year": "2025/26",
        "systems": [{"system_id": "S"}],
        "places": [{"place_id": "P1", "system_id": "S"}, {"place_id": "P2", "system_id": "S"}],
        "neighbourhoods": [
            {"neighbourhood_id": "N1", "place_id": "P1"},
            {"neighbourhood_id": "N2", "place_id": "P2"},
        ],
        "segments": [{"segment_id": "all", "cost_weight": 1.0}],
        "populations": [
            {"neighbourhood_id": "N1", "segment_id": "all", "headcount": 10_000},
            {"neighbourhood_id": "N2", "segment_id": "all", "headcount": 10_000},
        ],
        "funders": [
            {"funder_id": "NHS", "kind": "nhs_allocation", "amount_pence": 200_000_000},
            {"funder_id": "ARRS", "kind": "delegated_primary_care", "amount_pence": 30_000_000},
        ],
        "ring_fences": [
            {"ringfence_id": "arrs-gp", "funder_id": "ARRS", "provider_kinds": ["general_practice"]}
        ],
        "entitlements": [
            {
                "entitlement_id": "arrs-N1",
                "funder_id": "ARRS",
                "neighbourhood_id": "N1",
                "amount_pence": 10_000_000,
            },
            {
                "entitlement_id": "arrs-N2",
                "funder_id": "ARRS",
                "neighbourhood_id": "N2",
                "amount_pence": 20_000_000,
            },
        ],
        "reserve": {"share": 0.0},
        "providers": [
            g1,
            {
                "provider_id": "G2",
                "kind": "general_practice",
                "place_ids": ["P2"],
                "segment_ids": ["all"],
                "baseline_pence": 5_000_000,
            },
            {
                "provider_id": "A",
                "kind": "acute",
                "place_ids": ["P1", "P2"],
                "segment_ids": ["all"],
                "baseline_pence": 200_000_000,
            },
        ],
        "fair_shares": [{"rule_id": "converge", "level": "place", "form": "converge"}],
    }
    if stages is not None:
        doc["objective"] = {"stages": stages}
    return doc


def _solve(doc: dict[str, Any]) -> tuple[Scenario, AllocationResult]:
    scenario = Scenario.model_validate(doc)
    result = solve_scenario(scenario)
    assert result.feasible, result.status_detail
    assert reconciliation_problems(scenario, result) == []
    assert rule_problems(scenario, result) == []
    return scenario, result


def test_what_cannot_be_spent_lapses_and_the_pool_still_reconciles() -> None:
    # G1 can take at most £0.08m, so N1 can claim £0.08m of its £0.10m: £0.02m lapses.
    # N2's £0.20m is all claimed (G2 can grow). ARRS: 30,000,000 = 28,000,000 funded
    # + 0 reserve + 2,000,000 lapsed; the pot of £2.30m funds providers with £2.28m.
    _, result = _solve(_document(g1_capacity=8_000_000))
    lapses = {line.entitlement_id: line for line in result.lapses}
    assert (lapses["arrs-N1"].claimed_pence, lapses["arrs-N1"].lapsed_pence) == (
        8_000_000,
        2_000_000,
    )
    assert (lapses["arrs-N2"].claimed_pence, lapses["arrs-N2"].lapsed_pence) == (20_000_000, 0)
    arrs = next(line for line in result.pool if line.funder_id == "ARRS")
    assert (arrs.allocated_pence, arrs.lapsed_pence) == (28_000_000, 2_000_000)
    assert arrs.contribution_pence == arrs.allocated_pence + arrs.reserve_pence + arrs.lapsed_pence
    assert result.pot.lapsed_pence == 2_000_000
    budgets = {p.provider_id: p.budget_pence for p in result.providers}
    assert budgets["G1"] == 8_000_000
    assert budgets["G2"] >= 20_000_000
    assert sum(budgets.values()) == 230_000_000 - 2_000_000


def test_lapse_is_a_last_resort_even_when_stability_would_prefer_it() -> None:
    # With only the stability stage, leaving G1 and G2 at their £0.05m baselines and letting
    # ARRS lapse would change least; but money that can be spent within the rules is spent:
    # nothing lapses, N1 claims £0.10m and N2 £0.20m.
    _, result = _solve(_document(stages=["stability"]))
    assert [line.lapsed_pence for line in result.lapses] == [0, 0]
    assert result.pot.lapsed_pence == 0
    budgets = {p.provider_id: p.budget_pence for p in result.providers}
    assert budgets["G1"] >= 10_000_000 and budgets["G2"] >= 20_000_000


def test_a_multi_year_plan_does_not_carry_a_lapse_forward() -> None:
    scenario, result = _solve(_document(g1_capacity=8_000_000))
    assert result.pot.lapsed_pence == 2_000_000
    rolled = roll_forward(scenario, result, pot_growth=0.0, demand_growth={}, uplift=0.0, year=2)
    # Next year's entitlements are the scheme's own figures, not this year's plus its lapse,
    # and the ARRS funder brings what it brought (nothing added back).
    assert [e.amount_pence for e in rolled.entitlements] == [10_000_000, 20_000_000]
    assert next(f for f in rolled.funders if f.funder_id == "ARRS").amount_pence == 30_000_000


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        ({"funder_id": "NOPE"}, ("entitlements", 0, "funder_id")),
        ({"neighbourhood_id": "N9"}, ("entitlements", 0, "neighbourhood_id")),
        ({"funder_id": "NHS"}, ("entitlements", 0, "funder_id")),  # not ring-fenced
        ({"neighbourhood_id": "N2"}, ("entitlements", 1, "neighbourhood_id")),  # twice
        ({"amount_pence": 25_000_000}, ("entitlements", 1, "amount_pence")),  # above ARRS
    ],
)
def test_bad_entitlements_are_located_errors(edit: dict[str, Any], where: tuple[Any, ...]) -> None:
    doc = _document()
    doc["entitlements"][0].update(edit)
    issues = blocking(validate_scenario(Scenario.model_validate(doc)))
    assert [tuple(i.loc) for i in issues] == [where]
