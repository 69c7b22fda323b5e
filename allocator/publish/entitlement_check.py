"""Use-it-or-lose-it entitlements re-checked on the published pence.

Every lapse line adds up (claimed + lapsed = the entitlement, both within it), the lapse
lines add to each funder's and the pot's lapsed money, and what a neighbourhood's
entitlements claim is within its published eligible spend: its cells whose provider and
segment an entitling funder's ring-fences allow.
"""

from __future__ import annotations

from collections import defaultdict

from models import Scenario
from models.results import AllocationResult


def lapse_reconciliation_problems(scenario: Scenario, result: AllocationResult) -> list[str]:
    """Each lapse line, each funder's lapsed money and the pot's, from the entitlements."""
    out: list[str] = []
    given = {e.entitlement_id: e for e in scenario.entitlements}
    if {line.entitlement_id for line in result.lapses} != set(given):
        out.append("lapse lines != the scenario's entitlements")
    by_funder: dict[str, int] = defaultdict(int)
    for line in result.lapses:
        e = given.get(line.entitlement_id)
        if e is None:
            continue
        if line.entitlement_pence != e.amount_pence:
            out.append(f"entitlement {e.entitlement_id}: published amount differs")
        if line.claimed_pence + line.lapsed_pence != e.amount_pence:
            out.append(f"entitlement {e.entitlement_id}: claimed + lapsed != entitlement")
        if not 0 <= line.lapsed_pence <= e.amount_pence:
            out.append(f"entitlement {e.entitlement_id}: lapse outside 0 and the entitlement")
        by_funder[line.funder_id] += line.lapsed_pence
    for pool in result.pool:
        if pool.lapsed_pence != by_funder.get(pool.funder_id, 0):
            out.append(f"funder {pool.funder_id}: lapsed != its entitlements' lapses")
    if result.pot.lapsed_pence != sum(by_funder.values()):
        out.append("pot lapsed != the entitlements' lapses")
    return out


def _fence_allows(scenario: Scenario, funder_id: str, provider_id: str, segment_id: str) -> bool:
    kinds = {p.provider_id: p.kind for p in scenario.providers}
    fences = [f for f in scenario.ring_fences if f.funder_id == funder_id]
    if not fences:
        return True
    for fence in fences:
        ok_provider = not (fence.provider_kinds or fence.provider_ids) or (
            kinds[provider_id] in fence.provider_kinds or provider_id in fence.provider_ids
        )
        if ok_provider and (not fence.segment_ids or segment_id in fence.segment_ids):
            return True
    return False


def entitlement_problems(scenario: Scenario, result: AllocationResult) -> list[str]:
    """Neighbourhoods whose published claims exceed their published eligible spend."""
    if not scenario.entitlements:
        return []
    funders: dict[str, set[str]] = defaultdict(set)
    claimed: dict[str, int] = defaultdict(int)
    lapsed = {line.entitlement_id: line.lapsed_pence for line in result.lapses}
    for e in scenario.entitlements:
        funders[e.neighbourhood_id].add(e.funder_id)
        claimed[e.neighbourhood_id] += e.amount_pence - lapsed.get(e.entitlement_id, 0)
    eligible: dict[str, int] = defaultdict(int)
    for cell in result.cells:
        names = funders.get(cell.neighbourhood_id)
        if names and any(
            _fence_allows(scenario, f, cell.provider_id, cell.segment_id) for f in names
        ):
            eligible[cell.neighbourhood_id] += cell.budget_pence
    return [
        f"{nb}: entitlements claim {claimed[nb]}p, above its eligible spend {eligible[nb]}p"
        for nb in sorted(claimed)
        if claimed[nb] > eligible[nb]
    ]
