"""Build the risk report of a set of provider budgets under a scenario's agreements.

Per draw and provider: the outturn's variance ``v`` (cost − budget) is simulated; the
payment mechanism settles activity away from plan first (modelled as the part of the
cost shock that comes from segment demand shocks: the pool pays all of it for activity
payment, the variable rate of it for blended payment, none for block, small contracts
and capitated budgets); the rest is shared under the provider's agreement (no agreement:
the provider bears it all; a pooled budget: the pool takes it all and the partners split
it). The pool's call is then judged at the scenario's breakeven level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from allocator.domain.pot import scenario_reserve_pence
from allocator.errors import IssueList
from allocator.riskshare.agreements import PROVIDER_BEARS_ALL, compile_agreements, share_variance
from allocator.riskshare.histogram import histogram
from allocator.riskshare.inputs import (
    ReportInputs,
    pooled_partners,
    report_inputs,
    result_budgets,
)
from allocator.riskshare.measures import TailMeasures, pool_call, reserve_measures, tail_measures
from allocator.riskshare.pooled import partner_contributions, pooled_shares
from allocator.riskshare.report import (
    LossStats,
    PartnerRisk,
    PooledBudgetRisk,
    PoolRisk,
    ProviderRisk,
    ReserveRisk,
    RiskReport,
)
from allocator.riskshare.scaling import scale_signed
from allocator.riskshare.simulate import simulate_outturn
from allocator.riskshare.volume import VolumeRisk, volume_terms
from allocator.types import FloatArray, IntArray
from models.results import AllocationResult
from models.scenario import Scenario

NOTES = (
    "Volume risk is the part of each provider's cost shock that comes from segment demand "
    "shocks; the payment mechanism decides how much of it the pool pays.",
    "Providers without a risk-share agreement bear their whole remaining variance.",
    "A pooled budget's variance is the pool's; its partners split it by contribution.",
)


def _pence(value: float) -> int:
    """Round to whole pence, halves away from zero."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _stats(measures: TailMeasures, column: int | None = None) -> LossStats:
    def at(values: FloatArray | IntArray) -> float:
        return float(values if column is None else values[column])

    return LossStats(
        expected_pence=_pence(at(measures.mean)),
        expected_se_pence=_pence(at(measures.mean_se)),
        var_pence=_pence(at(measures.var)),
        cvar_pence=_pence(at(measures.cvar)),
        cvar_se_pence=_pence(at(measures.cvar_se)),
        prob_loss=at(measures.prob_loss),
    )


def volume_payment(
    inputs: ReportInputs, demand: IntArray, scenario: Scenario
) -> tuple[IntArray, list[VolumeRisk]]:
    """The pool's payment ``(draws, providers)`` for activity away from plan, and who bears
    the volume risk: the payment mechanism settles it before the agreement (none for a
    pooled budget, whose whole variance is the pool's anyway)."""
    terms = [
        volume_terms(
            p.payment,
            baseline_pence=p.baseline_pence,
            small_contract_threshold_pence=scenario.small_contract_threshold_pence,
        )
        for p in inputs.providers
    ]
    pooled = inputs.pooled
    above = np.array([0 if s else t.above_plan_ppb for t, s in zip(terms, pooled, strict=True)])
    below = np.array([0 if s else t.below_plan_ppb for t, s in zip(terms, pooled, strict=True)])
    risks = [
        VolumeRisk.AGREEMENT if s else t.volume_risk for t, s in zip(terms, pooled, strict=True)
    ]
    return scale_signed(demand, above_ppb=above, below_ppb=below), risks


def _share(
    inputs: ReportInputs, variance: IntArray, demand: IntArray, scenario: Scenario
) -> tuple[IntArray, IntArray, list[VolumeRisk]]:
    """``(provider part, pool part, volume risk)``: mechanism first, then the agreement."""
    remaining, risks = volume_payment(inputs, demand, scenario)  # the pool's payment
    np.subtract(variance, remaining, out=remaining)  # what is left for the agreement
    table = compile_agreements([a or PROVIDER_BEARS_ALL for a in inputs.agreements])
    provider_part, pool_part = share_variance(remaining, table)
    np.subtract(variance, provider_part, out=pool_part)  # volume payment + agreement part
    return provider_part, pool_part, risks


def settlement_units(inputs: ReportInputs) -> IntArray:
    """Each provider's settlement unit at organisation breakeven: a pooled budget is one."""
    unit_of: dict[str, int] = {}
    units = [
        unit_of.setdefault(
            f"agreement:{p.risk_share_agreement_id}" if s else f"provider:{p.provider_id}", k
        )
        for k, (p, s) in enumerate(zip(inputs.providers, inputs.pooled, strict=True))
    ]
    return np.array(units, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Settlement:
    """Every draw settled: the provider parts and pool parts ``(draws, providers)`` and the
    pool's call ``(draws,)`` at the scenario's breakeven level."""

    provider_pence: IntArray
    pool_pence: IntArray
    call_pence: IntArray
    volume_risk: list[VolumeRisk]


def settle(
    inputs: ReportInputs, variance: IntArray, demand: IntArray, scenario: Scenario
) -> Settlement:
    """Settle simulated variances: the mechanism, the agreements, then the pool's call."""
    provider_part, pool_part, risks = _share(inputs, variance, demand, scenario)
    call = pool_call(pool_part, scenario.outturn.breakeven, settlement_units(inputs))
    return Settlement(provider_part, pool_part, call, risks)


def _pool_risk(
    call: IntArray,
    scenario: Scenario,
    *,
    level: float,
    confidence: float,
    bins: int,
) -> PoolRisk:
    reserve = reserve_measures(call, scenario_reserve_pence(scenario), confidence)
    return PoolRisk(
        breakeven=scenario.outturn.breakeven,
        call=_stats(tail_measures(call, level)),
        reserve=ReserveRisk(
            reserve_pence=reserve.reserve_pence,
            confidence=reserve.confidence,
            expected_call_pence=_pence(reserve.expected_call),
            expected_call_se_pence=_pence(reserve.expected_call_se),
            expected_shortfall_pence=_pence(reserve.expected_shortfall),
            prob_exceeds_reserve=reserve.prob_exceeds,
            reserve_needed_pence=reserve.reserve_needed,
        ),
        histogram=histogram(call, bins),
    )


def _pooled_budgets(
    inputs: ReportInputs, variance: IntArray, scenario: Scenario, level: float
) -> tuple[list[PooledBudgetRisk], list[str]]:
    out: list[PooledBudgetRisk] = []
    notes: list[str] = []
    for agreement in scenario.risk_share_agreements:
        columns = [
            k for k, a in enumerate(inputs.agreements) if inputs.pooled[k] and a is agreement
        ]
        if not columns:
            continue
        if not agreement.partners:
            notes.append(
                f"Pooled budget {agreement.agreement_id!r} names no partners: every funder "
                "is a partner, contributing its pooled money."
            )
        partner_ids, contributions = partner_contributions(pooled_partners(agreement, scenario))
        total = variance[:, columns].sum(axis=1)
        split = pooled_shares(total, contributions)
        partner_stats = tail_measures(split.partner_pence, level)
        partners = tuple(
            PartnerRisk(
                funder_id=fid,
                contribution_pence=int(contributions[j]),
                share=_stats(partner_stats, j),
            )
            for j, fid in enumerate(partner_ids)
        )
        out.append(
            PooledBudgetRisk(
                agreement_id=agreement.agreement_id,
                provider_ids=tuple(inputs.provider_ids[k] for k in columns),
                variance=_stats(tail_measures(total, level)),
                partners=partners,
                unallocated_expected_pence=_pence(float(split.unallocated_pence.mean())),
                prob_unallocated=float((split.unallocated_pence != 0).mean()),
            )
        )
    return out, notes


def _expected_costs(inputs: ReportInputs, given: Mapping[str, int] | None) -> IntArray:
    if given is None:
        return inputs.budgets_pence
    issues = IssueList()
    for pid, cost in given.items():
        if pid not in inputs.provider_ids:
            issues.add(("expected_cost_pence", pid), f"no budget for provider {pid!r}")
        elif cost < 0:
            issues.add(("expected_cost_pence", pid), "an expected cost cannot be negative")
    issues.raise_if_any("Cannot build the risk report")
    return np.array(
        [
            given.get(pid, int(b))
            for pid, b in zip(inputs.provider_ids, inputs.budgets_pence, strict=True)
        ],
        dtype=np.int64,
    )


def risk_report(
    budgets_pence: Mapping[str, int],
    mix: Mapping[str, Mapping[str, float]],
    scenario: Scenario,
    *,
    draws: int = 20_000,
    seed: int = 1,
    level: float = 0.95,
    reserve_confidence: float | None = None,
    bins: int = 30,
    expected_cost_pence: Mapping[str, int] | None = None,
) -> RiskReport:
    """Simulate outturn for ``budgets_pence`` and report each provider's and the pool's risk.

    ``mix`` gives each provider's segment shares (rows summing to 1; a provider left out
    is spread equally over its segments). ``reserve_confidence`` (default: ``level``) is
    the confidence the reserve needed is reported at. ``expected_cost_pence`` (default:
    each budget) is the cost each provider's outturn is drawn around, so a budget above it
    is a buffer (a risk-aware allocation's reference budgets); a provider left out uses its
    budget. Raises ``ScenarioInvalid`` listing every unknown provider, segment or agreement
    and every bad mix row.
    """
    inputs = report_inputs(budgets_pence, mix, scenario)
    expected = _expected_costs(inputs, expected_cost_pence)
    outturn = simulate_outturn(
        expected,
        inputs.mix,
        scenario.outturn,
        draws=draws,
        seed=seed,
        segment_ids=inputs.segment_ids,
        with_demand=True,
    )
    variance = outturn.variance_pence + (expected - inputs.budgets_pence)
    assert outturn.demand_pence is not None
    settled = settle(inputs, variance, outturn.demand_pence, scenario)
    provider_part, pool_part, risks = (
        settled.provider_pence,
        settled.pool_pence,
        settled.volume_risk,
    )
    before = tail_measures(variance, level)
    after = tail_measures(provider_part, level)
    pool_side = tail_measures(pool_part, level)
    rows = tuple(
        ProviderRisk(
            provider_id=pid,
            budget_pence=int(inputs.budgets_pence[k]),
            agreement_id=inputs.providers[k].risk_share_agreement_id,
            payment_kind=inputs.providers[k].payment.kind,
            volume_risk=risks[k],
            variance=_stats(before, k),
            share=_stats(after, k),
            pool_share=_stats(pool_side, k),
            histogram=histogram(provider_part[:, k], bins),
        )
        for k, pid in enumerate(inputs.provider_ids)
    )
    confidence = level if reserve_confidence is None else reserve_confidence
    pool = _pool_risk(settled.call_pence, scenario, level=level, confidence=confidence, bins=bins)
    pooled_budgets, notes = _pooled_budgets(inputs, variance, scenario, level)
    if expected_cost_pence is not None:
        notes.append(
            "Costs are drawn around the expected costs given, not around the budgets: a "
            "budget above its expected cost is a buffer against overspend."
        )
    return RiskReport(
        scenario_id=scenario.scenario_id,
        scenario_hash=scenario.content_hash(),
        draws=draws,
        seed=seed,
        level=level,
        providers=rows,
        pool=pool,
        pooled_budgets=tuple(pooled_budgets),
        notes=(*NOTES, *notes),
    )


def result_risk_report(
    result: AllocationResult,
    scenario: Scenario,
    *,
    draws: int,
    seed: int,
    level: float,
    reserve_confidence: float,
) -> RiskReport:
    """`risk_report` of a solved allocation: its budgets and segment mix, and for a
    risk-aware allocation the reference budgets its costs were drawn around."""
    budgets, mix = result_budgets(result)
    limits = result.risk_limits
    return risk_report(
        budgets,
        mix,
        scenario,
        draws=draws,
        seed=seed,
        level=level,
        reserve_confidence=reserve_confidence,
        expected_cost_pence=None if limits is None else limits.reference_budgets_pence,
    )
