"""A minimum spend filtered by funder and place: the funders' money to the places' own providers."""

from __future__ import annotations

import json

from allocator.pipeline import solve_scenario
from allocator.publish.spend import matching_spend_pence
from allocator.validate import WARNING, validate_scenario
from models import Scenario
from tests.conftest import DATA


def _tiny_with(minimum_pence: int) -> Scenario:
    doc = json.loads((DATA / "tiny" / "tiny.json").read_text())
    doc["minimum_spends"] = [
        {
            "rule_id": "nhs-p1",
            "funder_ids": ["NHS"],
            "place_ids": ["P1"],
            "minimum_pence": minimum_pence,
        }
    ]
    return Scenario.model_validate(doc)


def test_funder_and_place_minimum_binds_on_published_pence() -> None:
    # Unconstrained, G1 (the only provider working only in P1) gets £4,060,000.00, all NHS.
    # NHS money to P1's own providers must reach £4,300,000.00: G1 is lifted to exactly that
    # (within its +10% cap of £4,400,000.00), and C, which also works in P2, does not count.
    scenario = _tiny_with(430_000_000)
    result = solve_scenario(scenario)
    assert result.feasible, result.status_detail
    budgets = {p.provider_id: p.budget_pence for p in result.providers}
    assert budgets["G1"] == 430_000_000
    assert matching_spend_pence(scenario.minimum_spends[0], scenario, result) == 430_000_000
    issues = validate_scenario(scenario)
    straddle = [i for i in issues if "'C' also works outside" in i.message]
    assert straddle and straddle[0].code == WARNING


def test_funder_and_place_minimum_counts_only_the_places_own_providers() -> None:
    # £4,500,000.00 is above G1's cap (£4,400,000.00); C's NHS money would cover it if it
    # counted, but C works outside P1, so the scenario is infeasible.
    assert not solve_scenario(_tiny_with(450_000_000)).feasible
