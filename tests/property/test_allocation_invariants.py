"""Invariants of every allocation, re-derived from the published pence (not from the solver)."""

from __future__ import annotations

from hypothesis import given

from allocator.pipeline import solve_scenario
from allocator.publish.recheck import reconciliation_problems, rule_problems
from models import Scenario
from tests.strategies import feasible_scenarios


@given(feasible_scenarios())
def test_feasible_scenarios_reconcile_and_honour_every_rule(scenario: Scenario) -> None:
    result = solve_scenario(scenario)
    assert result.feasible, result.status_detail
    assert reconciliation_problems(scenario, result) == []
    assert rule_problems(scenario, result) == []


@given(feasible_scenarios(with_rules=True))
def test_published_pence_honour_minimum_spends_convergence_and_bands(scenario: Scenario) -> None:
    """Every hard rule holds on the published pence, not only in the solver's floats."""
    result = solve_scenario(scenario)
    assert result.feasible, result.status_detail
    assert reconciliation_problems(scenario, result) == []
    assert rule_problems(scenario, result) == []
