"""Publishing keeps every hard rule on the published pence, not only in the solver's floats."""

from __future__ import annotations

from allocator.pipeline import solve_scenario
from allocator.publish.recheck import reconciliation_problems, rule_problems
from allocator.publish.spend import matching_spend_pence
from allocator.synth.generator import generate_scenario


def test_generated_region_meets_every_minimum_spend_to_the_penny() -> None:
    # `allocator generate --size region --seed 1`: the better care fund minimum of system S03,
    # 8,806,995,792p, was published as 8,806,995,791p while reported binding.
    scenario = generate_scenario("region", seed=1)
    result = solve_scenario(scenario)
    assert result.feasible, result.status_detail
    short = {
        rule.rule_id: rule.required_pence(scenario.funders)
        - matching_spend_pence(rule, scenario, result)
        for rule in scenario.minimum_spends
    }
    assert short["S03-bcf-min"] <= 0
    assert all(gap <= 0 for gap in short.values()), short
    assert rule_problems(scenario, result) == []
    assert reconciliation_problems(scenario, result) == []
