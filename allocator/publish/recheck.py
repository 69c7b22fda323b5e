"""Checks of a published allocation re-derived from the scenario, for tests and users.

Nothing here trusts the solver: every rule is re-checked on the published pence.
"""

from __future__ import annotations

import math
from collections import defaultdict

from allocator.publish.entitlement_check import (
    entitlement_problems,
    lapse_reconciliation_problems,
)
from allocator.publish.spend import minimum_spend_problems
from models import FairShareForm, PaceForm, PaymentKind, ProviderKind, Scenario, UnitLevel
from models.providers import is_small_contract
from models.results import AllocationResult


def reconciliation_problems(scenario: Scenario, result: AllocationResult) -> list[str]:
    """Every way the result fails to add up exactly, level by level (empty: it reconciles)."""
    out: list[str] = []
    pot = result.pot
    if pot.total_pence != sum(f.amount_pence for f in scenario.funders):
        out.append("pool total differs from the funders' contributions")
    if pot.total_pence != pot.pass_through_pence + pot.reserve_pence + pot.capitated_pence:
        out.append("pool in != pass-through + reserve + capitated pot")
    for line in result.pool:
        if line.contribution_pence != (
            line.pass_through_pence + line.reserve_pence + line.allocated_pence + line.lapsed_pence
        ):
            out.append(
                f"funder {line.funder_id}: contribution != pass-through + reserve + allocated"
                " + lapsed"
            )
        if sum(line.to_providers_pence.values()) != (
            line.contribution_pence - line.reserve_pence - line.lapsed_pence
        ):
            out.append(
                f"funder {line.funder_id}: money to providers != contribution − reserve − lapsed"
            )
    flows_by_funder: dict[str, int] = defaultdict(int)
    for flow in result.flows:
        flows_by_funder[flow.funder_id] += flow.amount_pence
    for line in result.pool:
        if flows_by_funder[line.funder_id] != line.allocated_pence:
            out.append(f"funder {line.funder_id}: flows != allocated")
    budgets = 0
    for p in result.providers:
        budgets += p.budget_pence
        if sum(p.by_segment_pence.values()) != p.budget_pence:
            out.append(f"provider {p.provider_id}: segments != budget")
        if sum(p.by_funder_pence.values()) != p.budget_pence:
            out.append(f"provider {p.provider_id}: funders != budget")
        if sum(p.by_place_pence.values()) != p.budget_pence - p.pass_through_pence:
            out.append(f"provider {p.provider_id}: places != budget − pass-through")
    if budgets != pot.capitated_pence + pot.pass_through_pence - pot.lapsed_pence:
        out.append("provider budgets != capitated pot + pass-through − lapsed")
    out += lapse_reconciliation_problems(scenario, result)
    cells_by_provider: dict[str, int] = defaultdict(int)
    for cell in result.cells:
        cells_by_provider[cell.provider_id] += cell.budget_pence
    for p in result.providers:
        if (
            cells_by_provider[p.provider_id] + p.schemes_pence
            != p.budget_pence - p.pass_through_pence
        ):
            out.append(f"provider {p.provider_id}: cells + schemes != budget − pass-through")
    place_of = {n.neighbourhood_id: n.place_id for n in scenario.neighbourhoods}
    system_of = {p.place_id: p.system_id for p in scenario.places}
    by_place: dict[str, int] = defaultdict(int)
    for n in result.neighbourhoods:
        by_place[place_of[n.unit_id]] += n.allocation_pence or 0
    by_system: dict[str, int] = defaultdict(int)
    for place in result.places:
        if by_place[place.unit_id] != place.allocation_pence:
            out.append(f"place {place.unit_id}: neighbourhoods != place")
        by_system[system_of[place.unit_id]] += place.allocation_pence or 0
    for s in result.systems:
        if by_system[s.unit_id] != s.allocation_pence:
            out.append(f"system {s.unit_id}: places != system")
    if sum(s.allocation_pence or 0 for s in result.systems) != (
        pot.capitated_pence - pot.lapsed_pence
    ):
        out.append("systems != capitated pot − lapsed")
    for level in (result.systems, result.places, result.neighbourhoods):
        if sum(u.target_pence for u in level) != pot.capitated_pence:
            out.append(f"{level[0].level} targets != capitated pot")
    return out


def rule_problems(scenario: Scenario, result: AllocationResult) -> list[str]:
    """Every hard rule the published allocation breaks (empty: all hold)."""
    out: list[str] = []
    budget = {p.provider_id: p for p in result.providers}
    providers = {p.provider_id: p for p in scenario.providers}
    threshold = scenario.small_contract_threshold_pence
    fixed = set()
    for p in scenario.providers:
        line = budget[p.provider_id]
        if p.capacity_pence is not None and line.budget_pence > p.capacity_pence:
            out.append(f"{p.provider_id}: over capacity")
        if 0 < line.budget_pence < p.fixed_costs_pence:
            out.append(f"{p.provider_id}: funded below fixed costs")
        kind = p.payment.kind
        small = kind in (PaymentKind.ACTIVITY, PaymentKind.BLENDED) and is_small_contract(
            p.baseline_pence, threshold
        )
        if kind is PaymentKind.BLOCK or small:
            fixed.add(p.provider_id)
    for rule in scenario.pace_of_change:
        if not rule.hard or rule.level is not UnitLevel.PROVIDER:
            continue
        for pid in rule.provider_ids or tuple(providers):
            if pid in fixed:
                continue
            base, got = providers[pid].baseline_pence, budget[pid].budget_pence
            if rule.floor_growth_share is not None and got < math.ceil(
                base * (1 + rule.floor_growth_share) - 1e-6
            ):
                out.append(f"{pid}: below pace-of-change floor")
            if (
                rule.form is PaceForm.FLOOR_AND_CAP
                and rule.cap_growth_share is not None
                and got > math.floor(base * (1 + rule.cap_growth_share) + 1e-6)
            ):
                out.append(f"{pid}: above pace-of-change cap")
    out += _place_pace_problems(scenario, result)
    units = {
        "place": result.places,
        "neighbourhood": result.neighbourhoods,
        "system": result.systems,
    }
    for fair in scenario.fair_shares:
        if fair.form is not FairShareForm.BAND or not fair.hard or fair.band_share is None:
            continue
        for unit in units[fair.level.value]:
            lo = math.ceil(unit.target_pence * (1 - fair.band_share))
            hi = math.floor(unit.target_pence * (1 + fair.band_share))
            if not lo <= (unit.allocation_pence or 0) <= hi:
                out.append(f"{unit.unit_id}: outside fair-share band")
    out += minimum_spend_problems(scenario, result)
    out += entitlement_problems(scenario, result)
    kinds = {p.provider_id: p.kind for p in scenario.providers}
    for fence in scenario.ring_fences:
        allowed_segments = set(fence.segment_ids)
        for flow in result.flows:
            if flow.funder_id != fence.funder_id or flow.amount_pence == 0:
                continue
            ok_provider = not (fence.provider_kinds or fence.provider_ids) or (
                kinds[flow.provider_id] in fence.provider_kinds
                or flow.provider_id in fence.provider_ids
            )
            ok_segment = not allowed_segments or flow.segment_id in allowed_segments
            if not (ok_provider and ok_segment) and not _other_fence_allows(
                scenario, flow.funder_id, flow.provider_id, flow.segment_id, kinds
            ):
                out.append(
                    f"ring-fence {fence.ringfence_id}: money to {flow.provider_id}/{flow.segment_id}"
                )
    return out


def _place_pace_problems(scenario: Scenario, result: AllocationResult) -> list[str]:
    """Hard place- and system-level pace of change, from each unit's published baseline.

    A system's baseline is the sum of its places' published baselines.
    """
    out: list[str] = []
    system_base: dict[str, int] = defaultdict(int)
    system_of = {p.place_id: p.system_id for p in scenario.places}
    for place in result.places:
        system_base[system_of[place.unit_id]] += place.baseline_pence or 0
    for rule in scenario.pace_of_change:
        if not rule.hard or rule.level not in (UnitLevel.PLACE, UnitLevel.SYSTEM):
            continue
        level = rule.level.value
        units = result.places if rule.level is UnitLevel.PLACE else result.systems
        for unit in units:
            base = (
                unit.baseline_pence if rule.level is UnitLevel.PLACE else system_base[unit.unit_id]
            )
            got = unit.allocation_pence or 0
            if base is None:
                continue
            target = unit.target_pence
            excess = base - target
            lower: float | None = None
            upper: float | None = None
            growth = rule.floor_growth_share
            if growth is not None:
                lower = base * (1 + growth)
            if rule.form is PaceForm.FLOOR_AND_CAP and rule.cap_growth_share is not None:
                over = (
                    rule.cap_over_target_share is None
                    or excess / target > rule.cap_over_target_share
                )
                upper = base * (1 + rule.cap_growth_share) if over else None
            if rule.form is PaceForm.CONVERGENCE and excess > 0:
                assert rule.convergence_share is not None
                step = base * (1 + (growth or 0.0)) - rule.convergence_share * excess
                lower = upper = math.floor(step + 1e-6)
            if rule.below_target_band_share is not None:
                lift = math.ceil(target * (1 - rule.below_target_band_share))
                if base < lift:
                    lower = max(lower if lower is not None else lift, lift)
            if lower is not None and got < math.ceil(lower - 1e-6):
                out.append(f"{unit.unit_id}: below {level} pace-of-change floor ({rule.rule_id})")
            if upper is not None and got > math.floor(upper + 1e-6):
                out.append(f"{unit.unit_id}: above {level} pace-of-change cap ({rule.rule_id})")
    return out


def _other_fence_allows(
    scenario: Scenario,
    funder_id: str,
    provider_id: str,
    segment_id: str,
    kinds: dict[str, ProviderKind],
) -> bool:
    for fence in scenario.ring_fences:
        if fence.funder_id != funder_id:
            continue
        ok_provider = not (fence.provider_kinds or fence.provider_ids) or (
            kinds[provider_id] in fence.provider_kinds or provider_id in fence.provider_ids
        )
        if ok_provider and (not fence.segment_ids or segment_id in fence.segment_ids):
            return True
    return False


def assert_reconciles(scenario: Scenario, result: AllocationResult) -> None:
    problems = reconciliation_problems(scenario, result) + rule_problems(scenario, result)
    assert not problems, "\n".join(problems)
