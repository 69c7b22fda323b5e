"""Checks of amounts: the pool adds up, and fixed commitments fit the money and the capacity.

Findings that only make the scenario infeasible (commitments above the pot, capacity below
a floor) are warnings: the solver then reports the infeasibility with the conflicting rules
and the least change that would fix it. Findings that make the pool itself meaningless
(pass-through above a funder's amount, a reserve above the pooled money) block.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from allocator.domain.money import pence_to_gbp_str as gbp
from allocator.domain.pot import pot_breakdown, reserve_pence
from allocator.errors import Issue
from allocator.validate.common import EMPTY_CONTEXT, ParseContext, blocking_issue, warning_issue
from allocator.validate.recurrent_checks import required_or_none
from models import PaymentKind, Provider, ProviderKind, Scenario, UnitLevel
from models.providers import is_small_contract

INFEASIBLE = "infeasible as it stands: "


def check_pass_through(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """A funder cannot pass through more than it brings."""
    issues: list[Issue] = []
    for i, funder in enumerate(scenario.funders):
        passed = sum(item.amount_pence for item in funder.pass_through)
        if passed > funder.amount_pence:
            issues.append(
                blocking_issue(
                    ("funders", ctx.pos("funders", i), "pass_through"),
                    f"pass-through of {gbp(passed)} exceeds funder {funder.funder_id}'s "
                    f"{gbp(funder.amount_pence)} by {gbp(passed - funder.amount_pence)}",
                )
            )
    return issues


def _pooled(scenario: Scenario) -> int:
    return sum(
        funder.amount_pence - sum(item.amount_pence for item in funder.pass_through)
        for funder in scenario.funders
    )


def check_reserve(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """The reserve is held back from the pooled money, so it cannot be larger."""
    amount = scenario.reserve.amount_pence
    pooled = _pooled(scenario)
    if amount is not None and amount > pooled and "funders" not in ctx.incomplete:
        return [
            blocking_issue(
                ("reserve", "amount_pence"),
                f"the reserve of {gbp(amount)} is larger than the pooled money "
                f"{gbp(max(pooled, 0))} (total funding less pass-through)",
            )
        ]
    return []


@dataclass
class Commitment:
    """The least a provider's budget can be under its hard rules, and why."""

    block_pence: int | None = None
    floor_pence: int = 0
    floor_rule: str = ""
    blended_fixed_pence: int = 0
    pass_through_pence: int = 0
    schemes_pence: int = 0
    fixed_costs_pence: int = 0

    @property
    def forced(self) -> bool:
        """Must the provider be funded at all (so its fixed costs apply)?"""
        return bool(
            (self.block_pence or 0) > 0
            or self.floor_pence > 0
            or self.blended_fixed_pence > 0
            or self.pass_through_pence > 0
            or self.schemes_pence > 0
        )

    def parts(self) -> dict[str, int]:
        return {
            "block payments": self.block_pence or 0,
            "pace-of-change floors": self.floor_pence,
            "blended fixed parts": self.blended_fixed_pence,
            "pass-through and required schemes": self.pass_through_pence + self.schemes_pence,
            "fixed costs": self.fixed_costs_pence if self.forced else 0,
        }

    def need(self) -> tuple[int, str]:
        """The binding minimum and which commitment sets it."""
        parts = self.parts()
        reason = max(parts, key=lambda name: parts[name])
        return parts[reason], reason


def _is_block(provider: Provider, threshold: int) -> bool:
    kind = provider.payment.kind
    small = kind in (PaymentKind.ACTIVITY, PaymentKind.BLENDED) and is_small_contract(
        provider.baseline_pence, threshold
    )
    return kind is PaymentKind.BLOCK or small


def commitments(scenario: Scenario) -> dict[str, Commitment]:
    """Each provider's least budget under hard rules (block, floors, pass-through, schemes)."""
    out: dict[str, Commitment] = {}
    threshold = scenario.small_contract_threshold_pence
    for provider in scenario.providers:
        c = Commitment(fixed_costs_pence=provider.fixed_costs_pence)
        payment = provider.payment
        if _is_block(provider, threshold):
            amount = getattr(payment, "amount_pence", None)
            c.block_pence = provider.baseline_pence if amount is None else amount
        elif payment.kind is PaymentKind.BLENDED:
            c.blended_fixed_pence = payment.fixed_pence
        if c.block_pence is None:
            for rule in scenario.pace_of_change:
                applies = not rule.provider_ids or provider.provider_id in rule.provider_ids
                if (
                    rule.hard
                    and rule.level is UnitLevel.PROVIDER
                    and applies
                    and rule.floor_growth_share is not None
                ):
                    floor = math.ceil(
                        provider.baseline_pence * (1.0 + rule.floor_growth_share) - 1e-6
                    )
                    if floor > c.floor_pence:
                        c.floor_pence, c.floor_rule = floor, rule.rule_id
        out[provider.provider_id] = c
    for funder in scenario.funders:
        for item in funder.pass_through:
            if item.provider_id in out:
                out[item.provider_id].pass_through_pence += item.amount_pence
    for scheme in scenario.schemes:
        if scheme.provider_id in out:
            out[scheme.provider_id].schemes_pence += scheme.min_units * scheme.cost_per_unit_pence
    return out


def check_commitments(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """The funders, after the reserve, cover every fixed commitment (a warning: infeasible)."""
    if ctx.incomplete & {"funders", "providers", "schemes", "pace_of_change", "minimum_spends"}:
        return []
    pooled = _pooled(scenario)
    total = scenario.total_funding_pence()
    if pooled < 0 or (scenario.reserve.amount_pence or 0) > pooled:
        return []  # check_pass_through / check_reserve report these
    reserve = reserve_pence(scenario.reserve, pooled)
    available = total - reserve
    by_provider = commitments(scenario)
    needs = {pid: c.need() for pid, c in by_provider.items()}
    total_need = sum(amount for amount, _ in needs.values())
    by_reason: dict[str, int] = {}
    for amount, reason in needs.values():
        by_reason[reason] = by_reason.get(reason, 0) + amount
    worst_rule, worst_need = None, total_need
    kinds = {p.provider_id: p.kind for p in scenario.providers}
    need_of_kind: dict[ProviderKind, int] = defaultdict(int)
    for pid, (amount, _) in needs.items():
        need_of_kind[kinds[pid]] += amount
    for rule in scenario.minimum_spends:
        if not rule.hard:
            continue
        # The commitments of the providers the rule counts: its kinds, plus the named ones.
        if not rule.provider_kinds and not rule.provider_ids:
            inside = total_need
        else:
            rule_kinds = set(rule.provider_kinds)
            named = {pid for pid in rule.provider_ids if pid in needs}
            inside = sum(need_of_kind[k] for k in rule_kinds) + sum(
                needs[pid][0] for pid in named if kinds[pid] not in rule_kinds
            )
        need = total_need - inside + max(inside, required_or_none(rule, scenario.funders) or 0)
        if need > worst_need:
            worst_rule, worst_need = rule, need
    issues: list[Issue] = []
    if worst_need > available:
        parts = ", ".join(f"{name} {gbp(amount)}" for name, amount in by_reason.items() if amount)
        extra = ""
        if worst_rule is not None:
            extra = (
                f", and minimum spend {worst_rule.rule_id!r} adds "
                f"{gbp(worst_need - total_need)} on top"
            )
        issues.append(
            warning_issue(
                ("funders",),
                INFEASIBLE + f"fixed commitments need {gbp(worst_need)} ({parts or 'none'}{extra})"
                f" but the funders bring {gbp(total)}, of which {gbp(available)} is left after "
                f"the {gbp(reserve)} reserve: a shortfall of {gbp(worst_need - available)}. "
                "Add funding, lower the reserve or relax the floors",
            )
        )
    issues += _minimum_spend_funders(scenario, ctx)
    return issues


def _minimum_spend_funders(scenario: Scenario, ctx: ParseContext) -> list[Issue]:
    """A hard minimum spend counting only some funders' money cannot exceed that money."""
    try:
        pot = pot_breakdown(scenario)
    except ValueError:
        return []
    amounts = {f.funder_id: f.amount_pence for f in scenario.funders}
    issues: list[Issue] = []
    for i, rule in enumerate(scenario.minimum_spends):
        if not rule.hard or not rule.funder_ids:
            continue
        funders = [f for f in dict.fromkeys(rule.funder_ids) if f in amounts]
        money = sum(amounts[f] - pot.reserve_by_funder_pence.get(f, 0) for f in funders)
        required = required_or_none(rule, scenario.funders) or 0
        if required > money:
            issues.append(
                warning_issue(
                    ("minimum_spends", ctx.pos("minimum_spends", i), "funder_ids"),
                    INFEASIBLE + f"minimum spend {rule.rule_id!r} needs "
                    f"{gbp(required)} from {', '.join(rule.funder_ids)}, "
                    f"which bring {gbp(money)} after their share of the reserve",
                )
            )
    return issues


def check_provider_capacity(scenario: Scenario, ctx: ParseContext = EMPTY_CONTEXT) -> list[Issue]:
    """A provider's capacity holds its fixed costs, floor, block amount and commitments."""
    issues: list[Issue] = []
    by_provider = commitments(scenario)
    for i, provider in enumerate(scenario.providers):
        at = ("providers", ctx.pos("providers", i))
        c = by_provider[provider.provider_id]
        cap = provider.capacity_pence
        name = provider.provider_id
        fixed = provider.fixed_costs_pence
        # Where the block amount comes from: the payment's amount, else the baseline.
        block_at = (
            (*at, "payment", "amount_pence")
            if getattr(provider.payment, "amount_pence", None) is not None
            else (*at, "baseline_pence")
        )
        if cap is not None and cap < fixed:
            why = (
                f"; infeasible as it stands, since its commitments ({c.need()[1]}) force it "
                "to be funded"
                if c.forced
                else "; it can never be funded"
            )
            issues.append(
                warning_issue(
                    (*at, "capacity_pence"),
                    f"provider {name}'s capacity {gbp(cap)} is below its fixed costs {gbp(fixed)}{why}",
                )
            )
        if cap is not None and c.floor_pence > cap:
            issues.append(
                warning_issue(
                    (*at, "capacity_pence"),
                    INFEASIBLE + f"provider {name} cannot meet its own pace-of-change floor "
                    f"(rule {c.floor_rule!r}): it needs at least {gbp(c.floor_pence)} "
                    f"(baseline × (1 + floor)) but its capacity is {gbp(cap)}",
                )
            )
        if c.block_pence is not None:
            if cap is not None and c.block_pence > cap:
                issues.append(
                    warning_issue(
                        block_at,
                        INFEASIBLE + f"provider {name}'s block payment {gbp(c.block_pence)} "
                        f"is above its capacity {gbp(cap)}",
                    )
                )
            if 0 < c.block_pence < fixed:
                issues.append(
                    warning_issue(
                        block_at,
                        INFEASIBLE + f"provider {name}'s block payment {gbp(c.block_pence)} "
                        f"is below its fixed costs {gbp(fixed)}",
                    )
                )
        committed = c.pass_through_pence + c.schemes_pence
        what = f"{gbp(c.pass_through_pence)} of pass-through and {gbp(c.schemes_pence)} of required schemes"
        if c.block_pence is not None and committed > c.block_pence:
            issues.append(
                warning_issue(
                    block_at,
                    INFEASIBLE + f"provider {name} receives {what}, more than its block "
                    f"payment {gbp(c.block_pence)}",
                )
            )
        if cap is not None and committed > cap:
            issues.append(
                warning_issue(
                    (*at, "capacity_pence"),
                    INFEASIBLE
                    + f"provider {name} receives {what}, more than its capacity {gbp(cap)}",
                )
            )
        if c.blended_fixed_pence and cap is not None and c.blended_fixed_pence > cap:
            issues.append(
                warning_issue(
                    (*at, "payment", "fixed_pence"),
                    INFEASIBLE + f"provider {name}'s blended fixed part "
                    f"{gbp(c.blended_fixed_pence)} is above its capacity {gbp(cap)}",
                )
            )
        payment = provider.payment
        if (
            payment.kind is PaymentKind.ACTIVITY
            and payment.max_volume is not None
            and payment.max_volume < payment.planned_volume
        ):
            issues.append(
                warning_issue(
                    (*at, "payment", "max_volume"),
                    f"maximum volume {payment.max_volume:g} is below the planned volume "
                    f"{payment.planned_volume:g}",
                )
            )
    return issues
