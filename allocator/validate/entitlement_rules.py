"""Checks of use-it-or-lose-it entitlements, each located at the field at fault."""

from __future__ import annotations

from collections import defaultdict

from allocator.errors import Issue
from allocator.validate.common import EMPTY_CONTEXT, ParseContext, blocking_issue, unknown_message
from models import Scenario


def check_entitlements(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """Known funder and neighbourhood, a ring-fenced funder, one entitlement per funder and
    neighbourhood, unique ids, and no funder entitling more than it pools."""
    issues: list[Issue] = []
    funders = {f.funder_id: f for f in scenario.funders}
    neighbourhoods = {n.neighbourhood_id for n in scenario.neighbourhoods}
    fenced = {f.funder_id for f in scenario.ring_fences}
    seen_ids: set[str] = set()
    seen_pairs: set[tuple[str, str]] = set()
    total: dict[str, int] = defaultdict(int)
    for i, e in enumerate(scenario.entitlements):
        at = ("entitlements", ctx.pos("entitlements", i))
        if e.entitlement_id in seen_ids:
            issues.append(
                blocking_issue((*at, "entitlement_id"), f"duplicate id {e.entitlement_id!r}")
            )
        seen_ids.add(e.entitlement_id)
        if e.funder_id not in funders:
            message = unknown_message("funder", e.funder_id, funders)
            issues.append(blocking_issue((*at, "funder_id"), message))
            continue
        if e.neighbourhood_id not in neighbourhoods:
            message = unknown_message("neighbourhood", e.neighbourhood_id, neighbourhoods)
            issues.append(blocking_issue((*at, "neighbourhood_id"), message))
            continue
        if e.funder_id not in fenced:
            issues.append(
                blocking_issue(
                    (*at, "funder_id"),
                    f"funder {e.funder_id!r} has no ring-fence: an entitlement is claimed "
                    "against the eligible uses its ring-fences name",
                )
            )
        pair = (e.funder_id, e.neighbourhood_id)
        if pair in seen_pairs:
            issues.append(
                blocking_issue(
                    (*at, "neighbourhood_id"),
                    f"funder {e.funder_id!r} already has an entitlement for neighbourhood "
                    f"{e.neighbourhood_id!r}",
                )
            )
        seen_pairs.add(pair)
        total[e.funder_id] += e.amount_pence
        funder = funders[e.funder_id]
        pooled = funder.amount_pence - sum(item.amount_pence for item in funder.pass_through)
        if total[e.funder_id] > pooled:
            issues.append(
                blocking_issue(
                    (*at, "amount_pence"),
                    f"funder {e.funder_id!r}'s entitlements come to {total[e.funder_id]}p, "
                    f"more than the {pooled}p it pools",
                )
            )
    return issues
