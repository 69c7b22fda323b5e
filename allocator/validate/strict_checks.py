"""Checks of inputs that parse but cannot mean what they say: pooled-budget partners that
name no funder or bring more than their funder pools, and adjustment factors so small that a
neighbourhood's fair-share target rounds to nothing."""

from __future__ import annotations

from collections import defaultdict

from allocator.domain.money import pence_to_gbp_str
from allocator.errors import Issue
from allocator.validate.common import (
    EMPTY_CONTEXT,
    Known,
    ParseContext,
    blocking_issue,
    warning_issue,
)
from models import Scenario


def check_pooled_partners(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """Each partner names a funder and contributes at most that funder's pooled money."""
    known = Known(scenario, ctx)
    pooled = {
        f.funder_id: f.amount_pence - sum(item.amount_pence for item in f.pass_through)
        for f in scenario.funders
    }
    issues: list[Issue] = []
    for i, agreement in enumerate(scenario.risk_share_agreements):
        at = ("risk_share_agreements", ctx.pos("risk_share_agreements", i), "partners")
        for j, partner in enumerate(agreement.partners):
            message = known.unknown("funders", partner.funder_id)
            if message:
                issues.append(blocking_issue((*at, j, "funder_id"), message))
                continue
            has = pooled.get(partner.funder_id)
            if has is not None and partner.contribution_pence > has:
                issues.append(
                    blocking_issue(
                        (*at, j, "contribution_pence"),
                        f"partner {partner.funder_id!r} contributes "
                        f"{pence_to_gbp_str(partner.contribution_pence)} but its funder pools "
                        f"only {pence_to_gbp_str(has)}; lower the contribution",
                    )
                )
    return issues


def check_zeroing_adjustments(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """Warn where adjustment factors leave a neighbourhood with people a target under a penny.

    The bound used is generous: the neighbourhood's share of the whole scenario's weighted
    population times all the money, so a warning means the target is surely zero pence.
    """
    if ctx.incomplete & {"populations", "segments", "local_adjustments", "neighbourhoods"}:
        return []
    weight = {s.segment_id: s.cost_weight for s in scenario.segments}
    factor: dict[str, float] = defaultdict(lambda: 1.0)
    for adjustment in scenario.local_adjustments:
        factor[adjustment.neighbourhood_id] *= adjustment.factor
    raw: dict[str, float] = defaultdict(float)
    for row in scenario.populations:
        raw[row.neighbourhood_id] += row.headcount * weight.get(row.segment_id, 0.0)
    total = sum(wp * factor[n] for n, wp in raw.items())
    money = scenario.total_funding_pence()
    issues: list[Issue] = []
    for i, adjustment in enumerate(scenario.local_adjustments):
        n = adjustment.neighbourhood_id
        if raw.get(n, 0.0) <= 0 or total <= 0:
            continue
        if money * raw[n] * factor[n] / total < 0.5:
            issues.append(
                warning_issue(
                    ("local_adjustments", ctx.pos("local_adjustments", i), "factor"),
                    f"the adjustment factor {adjustment.factor:g} (combined {factor[n]:g}) makes "
                    f"neighbourhood {n!r}'s fair-share target zero although it has people; "
                    "check the factor",
                )
            )
    return issues


def check_funder_place_minimums(
    scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT
) -> list[Issue]:
    """Warn where a funder-and-place minimum spend leaves out a provider that straddles its places.

    Such a rule counts its funders' money to providers working only in its places; a provider
    working in some of them and elsewhere cannot have its money split by place, so it is left out.
    """
    issues: list[Issue] = []
    for i, rule in enumerate(scenario.minimum_spends):
        if not (rule.funder_ids and rule.place_ids):
            continue
        wanted = set(rule.place_ids)
        for provider in scenario.providers:
            if wanted & set(provider.place_ids) and not rule.covers_places(provider.place_ids):
                issues.append(
                    warning_issue(
                        ("minimum_spends", ctx.pos("minimum_spends", i), "place_ids"),
                        f"provider {provider.provider_id!r} also works outside these places, so "
                        f"its money does not count towards {rule.rule_id!r}",
                    )
                )
    return issues


STRICT_CHECKS = (check_pooled_partners, check_zeroing_adjustments, check_funder_place_minimums)
