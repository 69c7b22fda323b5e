"""The risk report's inputs, checked and turned into arrays once.

Every unknown provider, segment or agreement and every bad mix row is collected and
raised together as one located ``ScenarioInvalid``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from allocator.errors import IssueList
from allocator.riskshare.simulate import MIX_TOLERANCE
from allocator.types import FloatArray, IntArray
from models.enums import RiskShareProfile
from models.providers import Provider
from models.results import AllocationResult
from models.risk import PooledPartner, RiskShareAgreement
from models.scenario import Scenario


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """Providers in the caller's order, with their budgets, mix, agreements."""

    provider_ids: list[str]
    providers: list[Provider]
    agreements: list[RiskShareAgreement | None]
    pooled: list[bool]
    budgets_pence: IntArray
    mix: FloatArray
    segment_ids: list[str]


def pooled_partners(agreement: RiskShareAgreement, scenario: Scenario) -> list[PooledPartner]:
    """The agreement's partners; none named: every funder, contributing its pooled money."""
    if agreement.partners:
        return list(agreement.partners)
    return [
        PooledPartner(
            funder_id=f.funder_id,
            contribution_pence=f.amount_pence - sum(p.amount_pence for p in f.pass_through),
        )
        for f in scenario.funders
    ]


def _mix_matrix(
    ids: list[str],
    providers: Mapping[str, Provider],
    mix: Mapping[str, Mapping[str, float]],
    segment_ids: list[str],
    issues: IssueList,
) -> FloatArray:
    """Rows of segment shares (missing row: equal over the provider's segments)."""
    column = {s: j for j, s in enumerate(segment_ids)}
    matrix = np.zeros((len(ids), len(segment_ids)))
    for k, pid in enumerate(ids):
        provider = providers.get(pid)
        default = {} if provider is None else dict.fromkeys(provider.segment_ids, 1.0)
        row = mix.get(pid) or {s: w / max(1, len(default)) for s, w in default.items()}
        for segment_id, share in row.items():
            if segment_id not in column:
                issues.add(("mix", pid, segment_id), f"unknown segment {segment_id!r}")
            elif not share >= 0.0:
                issues.add(("mix", pid, segment_id), "a segment share must be non-negative")
            else:
                matrix[k, column[segment_id]] = share
        total = matrix[k].sum()
        if abs(total - 1.0) > MIX_TOLERANCE:
            issues.add(("mix", pid), f"segment shares sum to {total:.6f}, not 1")
        elif total > 0:
            matrix[k] /= total
    return matrix


def report_inputs(
    budgets_pence: Mapping[str, int],
    mix: Mapping[str, Mapping[str, float]],
    scenario: Scenario,
) -> ReportInputs:
    """Check the caller's budgets and mix against the scenario; raise every problem at once."""
    issues = IssueList()
    providers = {p.provider_id: p for p in scenario.providers}
    agreements = {a.agreement_id: a for a in scenario.risk_share_agreements}
    ids = list(budgets_pence)
    if not ids:
        issues.add(("budgets_pence",), "no provider budgets to assess")
    for pid in ids:
        if pid not in providers:
            issues.add(("budgets_pence", pid), f"unknown provider {pid!r}")
        elif budgets_pence[pid] < 0:
            issues.add(("budgets_pence", pid), "a budget cannot be negative")
        elif (ref := providers[pid].risk_share_agreement_id) and ref not in agreements:
            issues.add(("budgets_pence", pid), f"unknown risk-share agreement {ref!r}")
    segment_ids = [s.segment_id for s in scenario.segments]
    matrix = _mix_matrix(ids, providers, mix, segment_ids, issues)
    for i, a in enumerate(scenario.risk_share_agreements):
        if a.profile is RiskShareProfile.POOLED_PRO_RATA and not any(
            p.contribution_pence for p in pooled_partners(a, scenario)
        ):
            issues.add(("risk_share_agreements", i, "partners"), "no partner contributes")
    issues.raise_if_any("Cannot build the risk report")
    chosen = [providers[pid] for pid in ids]
    agreed = [agreements.get(p.risk_share_agreement_id or "") for p in chosen]
    return ReportInputs(
        provider_ids=ids,
        providers=chosen,
        agreements=agreed,
        pooled=[a is not None and a.profile is RiskShareProfile.POOLED_PRO_RATA for a in agreed],
        budgets_pence=np.array([budgets_pence[pid] for pid in ids], dtype=np.int64),
        mix=matrix,
        segment_ids=segment_ids,
    )


def result_budgets(
    result: AllocationResult,
) -> tuple[dict[str, int], dict[str, dict[str, float]]]:
    """A solved allocation's provider budgets (pence) and segment mix (shares of budget).

    Each provider's mix is its budget by segment; an unfunded provider gets no row (the
    risk report then spreads it equally over its segments).
    """
    budgets = {p.provider_id: p.budget_pence for p in result.providers}
    mix: dict[str, dict[str, float]] = {}
    for p in result.providers:
        total = sum(p.by_segment_pence.values())
        if total > 0:
            mix[p.provider_id] = {s: v / total for s, v in p.by_segment_pence.items()}
    return budgets, mix
