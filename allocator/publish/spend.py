"""What a published allocation spent on a minimum-spend rule's uses, counted as the rule counts it."""

from __future__ import annotations

from models import Scenario
from models.funding import MinimumSpend
from models.results import AllocationResult


def matching_spend_pence(rule: MinimumSpend, scenario: Scenario, result: AllocationResult) -> int:
    """What an allocation spent on a minimum-spend rule's uses, counted as the rule counts it.

    With ``funder_ids`` it is those funders' pooled money to matching providers and
    segments (with ``place_ids`` too, providers working only in those places); otherwise matching cells and schemes, plus matching pass-through money
    when the rule does not filter by place.
    """
    kinds = {p.provider_id: p.kind for p in scenario.providers}
    places = {p.provider_id: p.place_ids for p in scenario.providers}

    def provider_ok(provider_id: str) -> bool:
        if not (rule.provider_kinds or rule.provider_ids):
            return True
        return kinds[provider_id] in rule.provider_kinds or provider_id in rule.provider_ids

    def segment_ok(segment_id: str | None) -> bool:
        return not rule.segment_ids or segment_id in rule.segment_ids

    if rule.funder_ids:
        return sum(
            f.amount_pence
            for f in result.flows
            if f.funder_id in rule.funder_ids
            and provider_ok(f.provider_id)
            and rule.covers_places(places[f.provider_id])
            and segment_ok(f.segment_id)
        )
    place_of = {n.neighbourhood_id: n.place_id for n in scenario.neighbourhoods}
    segment_of = {s.scheme_id: s.segment_id for s in scenario.schemes}

    def place_ok(place_id: str) -> bool:
        return not rule.place_ids or place_id in rule.place_ids

    cells = sum(
        c.budget_pence
        for c in result.cells
        if provider_ok(c.provider_id)
        and segment_ok(c.segment_id)
        and place_ok(place_of[c.neighbourhood_id])
    )
    schemes = sum(
        s.cost_pence
        for s in result.schemes
        if provider_ok(s.provider_id)
        and segment_ok(segment_of[s.scheme_id])
        and place_ok(s.place_id)
    )
    passed = sum(
        item.amount_pence
        for funder in scenario.funders
        for item in funder.pass_through
        if provider_ok(item.provider_id) and segment_ok(item.segment_id) and not rule.place_ids
    )
    return cells + schemes + passed


def minimum_spend_problems(scenario: Scenario, result: AllocationResult) -> list[str]:
    """Every hard minimum spend the published pence fall short of (empty: all met)."""
    out: list[str] = []
    for rule in scenario.minimum_spends:
        if not rule.hard:
            continue
        spent = matching_spend_pence(rule, scenario, result)
        required = rule.required_pence(scenario.funders)
        if spent < required:
            short = required - spent
            out.append(f"minimum spend {rule.rule_id}: {short}p short of its minimum")
    return out
