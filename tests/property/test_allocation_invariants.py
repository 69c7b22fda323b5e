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
