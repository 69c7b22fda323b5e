"""Each minimum spend's line of the result: the required figure, how it was derived (a
stated minimum, a baseline grown by a share, or a baseline grown at a funder's recurrent
growth), what the published allocation spent as the rule counts it, and whether it binds."""

from __future__ import annotations

from allocator.publish.spend import matching_spend_pence
from allocator.types import RowFamily
from models import Scenario
from models.results import AllocationResult, MinimumSpendLine


def minimum_spend_lines(scenario: Scenario, result: AllocationResult) -> list[MinimumSpendLine]:
    """One line per minimum spend; the published spend only when there is an allocation."""
    binding = {
        line.block
        for line in result.rules
        if line.block.startswith(RowFamily.MINIMUM_SPEND.value)
        and (line.binding or line.breach_pence)
    }
    out: list[MinimumSpendLine] = []
    for rule in scenario.minimum_spends:
        out.append(
            MinimumSpendLine(
                rule_id=rule.rule_id,
                hard=rule.hard,
                required_pence=rule.required_pence(scenario.funders),
                derivation=rule.derivation(scenario.funders),
                published_pence=(
                    matching_spend_pence(rule, scenario, result) if result.feasible else None
                ),
                binding=RowFamily.MINIMUM_SPEND.block(rule.rule_id) in binding,
            )
        )
    return out


def with_minimum_spend_lines(scenario: Scenario, result: AllocationResult) -> AllocationResult:
    if not scenario.minimum_spends:
        return result
    return result.model_copy(update={"minimum_spends": minimum_spend_lines(scenario, result)})
