"""Apply an infeasibility report's least change to a scenario (so it can be re-solved).

Each relaxed bound maps to one edit of the scenario's inputs, with a £1 margin for
rounding; `EDITS` is the table from row family to edit. Provider-level pace rules are
relaxed for that provider alone (it moves to a rule of its own); place-level rules and
fair-share bands, which apply to every unit, are relaxed by the largest change any unit
needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeAlias

from allocator.types import RowFamily
from models import PaceForm, Scenario, UnitLevel
from models.funding import Funder
from models.providers import ActivityPayment, BlendedPayment, BlockPayment, Provider
from models.results import InfeasibilityReport, Relaxation
from models.rules import FairShare, PaceOfChange

MARGIN_PENCE = 100

Edit: TypeAlias = Callable[[Scenario, Relaxation, int], Scenario]
"""(scenario, relaxation, amount in pence with the margin) -> the relaxed scenario."""


def apply_relaxations(scenario: Scenario, report: InfeasibilityReport) -> Scenario:
    """The scenario with every relaxation of the report's least change applied."""
    s = scenario
    for r in report.least_change:
        family = RowFamily.of(r.block)
        if family not in EDITS:
            raise ValueError(f"no scenario edit for rule block {r.block!r}")
        s = EDITS[family](s, r, r.amount_pence + MARGIN_PENCE)
    return s


def _rule_id(r: Relaxation) -> str:
    suffix = RowFamily.suffix(r.block)
    assert suffix is not None, r.block
    return suffix


def _edit_funder(s: Scenario, funder_id: str | None, edit: Callable[[Funder], Funder]) -> Scenario:
    funders = tuple(edit(f) if f.funder_id == funder_id else f for f in s.funders)
    return s.model_copy(update={"funders": funders})


def _edit_provider(
    s: Scenario, provider_id: str | None, edit: Callable[[Provider], Provider]
) -> Scenario:
    providers = tuple(edit(p) if p.provider_id == provider_id else p for p in s.providers)
    return s.model_copy(update={"providers": providers})


def _pot(s: Scenario, r: Relaxation, amount: int) -> Scenario:
    reserve_share = s.reserve.share or 0.0
    change = (
        math.ceil(amount / max(1e-9, 1.0 - reserve_share)) if r.direction == "raise" else -amount
    )
    return _edit_funder(
        s,
        r.unit_id,
        lambda f: f.model_copy(update={"amount_pence": max(0, f.amount_pence + change)}),
    )


def _capacity(s: Scenario, r: Relaxation, amount: int) -> Scenario:
    return _edit_provider(
        s,
        r.unit_id,
        lambda p: p.model_copy(update={"capacity_pence": (p.capacity_pence or 0) + amount}),
    )


def _viability(s: Scenario, r: Relaxation, amount: int) -> Scenario:
    return _edit_provider(
        s,
        r.unit_id,
        lambda p: p.model_copy(update={"fixed_costs_pence": max(0, p.fixed_costs_pence - amount)}),
    )


def _with_payment(p: Provider, **update: object) -> Provider:
    return p.model_copy(update={"payment": p.payment.model_copy(update=update)})


def _block_payment(s: Scenario, r: Relaxation, amount: int) -> Scenario:
    sign = 1 if r.direction == "raise" else -1

    def block(p: Provider) -> Provider:
        assert isinstance(p.payment, BlockPayment)
        current = p.payment.amount_pence if p.payment.amount_pence is not None else p.baseline_pence
        return _with_payment(p, amount_pence=max(0, current + sign * amount))

    return _edit_provider(s, r.unit_id, block)


def _activity_payment(s: Scenario, r: Relaxation, amount: int) -> Scenario:
    def activity(p: Provider) -> Provider:
        assert isinstance(p.payment, ActivityPayment)
        assert p.payment.max_volume is not None
        extra = amount / max(1, p.payment.unit_price_pence)
        return _with_payment(p, max_volume=p.payment.max_volume + extra)

    return _edit_provider(s, r.unit_id, activity)


def _blended_payment(s: Scenario, r: Relaxation, amount: int) -> Scenario:
    def blended(p: Provider) -> Provider:
        assert isinstance(p.payment, BlendedPayment)
        return _with_payment(p, fixed_pence=max(0, p.payment.fixed_pence - amount))

    return _edit_provider(s, r.unit_id, blended)


def _minimum_spend(s: Scenario, r: Relaxation, amount: int) -> Scenario:
    rule_id = _rule_id(r)
    rules = tuple(
        m.model_copy(
            update={
                "minimum_pence": max(0, m.required_pence(s.funders) - amount),
                "baseline_pence": None,
                "growth_from_recurrent": None,
            }
        )
        if m.rule_id == rule_id
        else m
        for m in s.minimum_spends
    )
    return s.model_copy(update={"minimum_spends": rules})


def _required_scheme(s: Scenario, r: Relaxation, amount: int) -> Scenario:
    # A scheme's relaxation counts units, not pence: no margin.
    schemes = tuple(
        j.model_copy(update={"min_units": max(0, j.min_units - r.amount_pence)})
        if j.scheme_id == r.unit_id
        else j
        for j in s.schemes
    )
    return s.model_copy(update={"schemes": schemes})


def _pace(kind: str) -> Edit:
    def relax(s: Scenario, r: Relaxation, amount: int) -> Scenario:
        return _relax_pace(s, r, amount, kind)

    return relax


def _relax_pace(s: Scenario, r: Relaxation, amount: int, kind: str) -> Scenario:
    rule_id = _rule_id(r)
    rule = next(p for p in s.pace_of_change if p.rule_id == rule_id)
    if rule.level is UnitLevel.PROVIDER:
        provider = next(p for p in s.providers if p.provider_id == r.unit_id)
        provider_base = max(provider.baseline_pence, 1)
        others = rule.provider_ids or tuple(p.provider_id for p in s.providers)
        kept = rule.model_copy(
            update={"provider_ids": tuple(p for p in others if p != provider.provider_id)}
        )
        own = rule.model_copy(
            update={
                "rule_id": f"{rule_id}-{provider.provider_id}",
                "provider_ids": (provider.provider_id,),
            }
        )
        own = _shift(own, kind, amount / provider_base)
        rules = [kept, own] if kept.provider_ids else [own]
        pace = tuple(x for p in s.pace_of_change for x in (rules if p.rule_id == rule_id else [p]))
        return s.model_copy(update={"pace_of_change": pace})
    # Place rules apply to every place: move the rule by what this place needs, with headroom,
    # since the bound is (1 + growth) × baseline (floor, cap) or a point between baseline and target.
    bound = float(max(abs(r.bound_pence or 0), 1))
    growth = rule.floor_growth_share if kind == "floor" else rule.cap_growth_share
    base = (
        bound / max(1e-9, 1.0 + (growth or 0.0))
        if rule.form is PaceForm.FLOOR_AND_CAP or kind == "floor"
        else bound
    )
    share = amount / base
    if rule.form is PaceForm.CONVERGENCE and kind == "cap":
        share = 1.0  # the convergence bound cannot be expressed per place: drop the required convergence
    pace = tuple(_shift(p, kind, share) if p.rule_id == rule_id else p for p in s.pace_of_change)
    return s.model_copy(update={"pace_of_change": pace})


def _shift(rule: PaceOfChange, kind: str, share: float) -> PaceOfChange:
    if kind == "floor":
        return rule.model_copy(
            update={
                "floor_growth_share": (rule.floor_growth_share or 0.0) - share,
                "below_target_band_share": None,
            }
        )
    if rule.form is PaceForm.CONVERGENCE:
        return rule.model_copy(
            update={"convergence_share": max(0.0, (rule.convergence_share or 0.0) - share)}
        )
    return rule.model_copy(update={"cap_growth_share": (rule.cap_growth_share or 0.0) + share})


def _fair_share_band(s: Scenario, r: Relaxation, amount: int) -> Scenario:
    rule_id = _rule_id(r)
    rule = next(f for f in s.fair_shares if f.rule_id == rule_id)
    band = rule.band_share or 0.0
    bound = max(abs(r.bound_pence or 0), 1)
    target = bound / (1.0 - band) if r.direction == "lower" else bound / (1.0 + band)
    needed = amount / max(target, 1.0)

    def widen(rule: FairShare) -> FairShare:
        return rule.model_copy(update={"band_share": min(1.0, (rule.band_share or 0.0) + needed)})

    fair_shares = tuple(widen(f) if f.rule_id == rule_id else f for f in s.fair_shares)
    return s.model_copy(update={"fair_shares": fair_shares})


EDITS: dict[RowFamily, Edit] = {
    RowFamily.CONSERVATION_FUNDER: _pot,
    RowFamily.CAPACITY: _capacity,
    RowFamily.VIABILITY: _viability,
    RowFamily.PAYMENT_BLOCK: _block_payment,
    RowFamily.PAYMENT_ACTIVITY: _activity_payment,
    RowFamily.PAYMENT_BLENDED: _blended_payment,
    RowFamily.MINIMUM_SPEND: _minimum_spend,
    RowFamily.SCHEME_REQUIRED: _required_scheme,
    RowFamily.PACE_FLOOR: _pace("floor"),
    RowFamily.PACE_CAP: _pace("cap"),
    RowFamily.FAIR_SHARE_BAND: _fair_share_band,
}
"""The scenario edit that relaxes each family of rules (CVaR limits are not relaxed here)."""
