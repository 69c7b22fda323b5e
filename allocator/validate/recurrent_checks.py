"""Checks of minimum spends grown at a funder's recurrent growth (the mental health
investment standard tied to its base), each located at the field at fault."""

from __future__ import annotations

from collections.abc import Iterable

from allocator.errors import Issue
from allocator.validate.common import EMPTY_CONTEXT, ParseContext, blocking_issue, unknown_message
from models import Scenario
from models.funding import Funder, MinimumSpend


def required_or_none(rule: MinimumSpend, funders: Iterable[Funder]) -> int | None:
    """The rule's minimum, or None when its recurrent growth cannot be read (reported by
    `check_recurrent_growth`), so other checks do not cascade."""
    try:
        return rule.required_pence(funders)
    except ValueError:
        return None


def check_recurrent_growth(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """Funders give both recurrent figures or neither (last year's above 0); a rule growing
    at a funder's recurrent growth names a known funder that has them, has a baseline to
    grow, and states its growth one way only."""
    issues: list[Issue] = []
    funders = {f.funder_id: f for f in scenario.funders}
    for i, funder in enumerate(scenario.funders):
        if funder.last_year_recurrent_pence is None and funder.recurrent_pence is None:
            continue
        problem = funder.recurrent_problem()
        if problem is not None:
            issues.append(
                blocking_issue(("funders", ctx.pos("funders", i), problem[0]), problem[1])
            )
    for i, rule in enumerate(scenario.minimum_spends):
        named = rule.growth_from_recurrent
        if named is None:
            continue
        at = ("minimum_spends", ctx.pos("minimum_spends", i))
        head = f"minimum spend {rule.rule_id!r}: "
        if rule.baseline_pence is None:
            issues.append(
                blocking_issue(
                    (*at, "growth_from_recurrent"),
                    head + "growth_from_recurrent grows a baseline; give baseline_pence "
                    "instead of minimum_pence",
                )
            )
        if rule.min_growth_share != 0.0:
            issues.append(
                blocking_issue(
                    (*at, "min_growth_share"),
                    head + f"give one way of stating growth: min_growth_share "
                    f"({rule.min_growth_share!r}) or growth_from_recurrent ({named!r}), not both",
                )
            )
        grower = funders.get(named)
        if grower is None:
            if named not in ctx.failed_ids.get("funders", {}):
                message = head + unknown_message("funder", named, funders)
                issues.append(blocking_issue((*at, "growth_from_recurrent"), message))
            continue
        trouble = grower.recurrent_problem()
        if trouble is not None:
            issues.append(
                blocking_issue(
                    (*at, "growth_from_recurrent"),
                    head + f"grows at {named!r}'s recurrent growth, but {trouble[1]}",
                )
            )
    return issues
