"""Rules set by the scenario: pace of change, minimum spends, fair-share bands."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from allocator.arrays import items_of_groups
from allocator.errors import Issue, ScenarioInvalid
from allocator.formulation.builder import INF, Expr
from allocator.formulation.context import (
    BuildContext,
    pass_through_items,
    soft_spec,
    to_units,
)
from allocator.formulation.index import Labels
from allocator.types import BoolArray, IntArray
from models import (
    FairShareForm,
    MinimumSpend,
    PaceForm,
    UnitLevel,
)


def build_pace_of_change(ctx: BuildContext) -> None:
    a = ctx.a
    base_prov = a.provider_baseline_pence.astype(np.float64)
    place_base = np.array(
        [p.baseline_pence if p.baseline_pence is not None else np.nan for p in ctx.s.places]
    )
    derived = np.bincount(a.cell_place, weights=ctx.cell_baseline, minlength=len(a.place_ids))
    ctx.place_baseline = np.where(np.isnan(place_base), derived, place_base)
    place_target = ctx.targets.places.target_pence.astype(np.float64)
    not_block = np.ones(len(a.provider_ids), dtype=np.bool_)
    not_block[ctx.block_providers] = False
    for rule in ctx.s.pace_of_change:
        soft = soft_spec(rule)
        label = rule.name or rule.rule_id
        if rule.level is UnitLevel.PROVIDER:
            chosen = (
                np.isin(a.provider_ids, rule.provider_ids)
                if rule.provider_ids
                else np.ones(len(a.provider_ids), bool)
            )
            idx = np.flatnonzero(chosen & not_block)
            ids = np.array(a.provider_ids, dtype=object)[idx]
            expr, base, names = (
                ctx.provider_total[idx],
                base_prov[idx],
                [ctx.provider_name(p) for p in ids],
            )
            over = np.ones(idx.size, dtype=np.bool_)
            target = None
        else:
            idx = np.arange(len(a.place_ids))
            ids = np.array(a.place_ids, dtype=object)
            expr, base, names = (
                ctx.unit_total[UnitLevel.PLACE],
                ctx.place_baseline,
                [ctx.place_name(p) for p in ids],
            )
            target = place_target
            over = (
                (base - target) / target > rule.cap_over_target_share
                if rule.cap_over_target_share is not None
                else np.ones(idx.size, dtype=np.bool_)
            )
        labels = Labels.of(unit_id=ids, rule_id=rule.rule_id)
        lower = np.full(idx.size, -INF)
        if rule.floor_growth_share is not None:
            lower = np.ceil(base * (1.0 + rule.floor_growth_share) - 1e-6)
        upper = np.full(idx.size, INF)
        if rule.form is PaceForm.FLOOR_AND_CAP and rule.cap_growth_share is not None:
            upper = np.where(over, np.floor(base * (1.0 + rule.cap_growth_share) + 1e-6), INF)
        if rule.form is PaceForm.CONVERGENCE and target is not None:
            assert rule.convergence_share is not None
            excess = base - target
            upper = np.where(
                excess > 0, np.floor(base - rule.convergence_share * excess + 1e-6), INF
            )
            lower = np.where(excess > 0, -INF, lower)
        if rule.below_target_band_share is not None and target is not None:
            lift = np.ceil(target * (1.0 - rule.below_target_band_share))
            lower = np.where(base < lift, np.maximum(lower, lift), lower)
        keep = np.isfinite(lower)
        ctx.rows(
            f"pace.floor.{rule.rule_id}",
            labels.take(keep),
            expr[np.flatnonzero(keep)],
            to_units(lower[keep]),
            INF,
            [f"pace-of-change floor ({label}), {n}" for n, k in zip(names, keep, strict=True) if k],
            soft,
        )
        keep = np.isfinite(upper)
        ctx.rows(
            f"pace.cap.{rule.rule_id}",
            labels.take(keep),
            expr[np.flatnonzero(keep)],
            -INF,
            to_units(upper[keep]),
            [f"pace-of-change cap ({label}), {n}" for n, k in zip(names, keep, strict=True) if k],
            soft,
        )


def _rule_providers(ctx: BuildContext, rules: Sequence[MinimumSpend]) -> tuple[IntArray, IntArray]:
    """(rule, provider) for every provider each rule counts, rule by rule, each pair once.

    A rule counts the providers of its kinds and the providers it names; with neither, all.
    """
    providers_of_kind = {
        kind: np.flatnonzero(ctx.kind_of == kind) for kind in dict.fromkeys(ctx.a.provider_kind)
    }
    everyone = np.arange(len(ctx.a.provider_ids))
    chosen: list[IntArray] = []
    for rule in rules:  # one entry per rule: the rule's own filter lists, not the providers
        if not (rule.provider_kinds or rule.provider_ids):
            chosen.append(everyone)
            continue
        named = [ctx.provider_at[p] for p in rule.provider_ids if p in ctx.provider_at]
        of_kinds = [providers_of_kind.get(k.value, everyone[:0]) for k in rule.provider_kinds]
        chosen.append(np.unique(np.concatenate([np.array(named, dtype=np.int64), *of_kinds])))
    rule_of_pair = np.repeat(np.arange(len(rules)), [c.size for c in chosen])
    return rule_of_pair, np.concatenate(chosen).astype(np.int64)


def _rule_filter(rules: Sequence[MinimumSpend], field: str, ids: list[str]) -> BoolArray:
    """(rules, ids) whether each rule's ``field`` filter admits each id (an empty filter: all)."""
    at = {item: k for k, item in enumerate(ids)}
    admits = np.zeros((len(rules), len(ids)), dtype=np.bool_)
    for r, rule in enumerate(rules):
        listed = getattr(rule, field)
        if listed:
            admits[r, [at[x] for x in listed if x in at]] = True
        else:
            admits[r] = True
    return admits


def build_minimum_spends(ctx: BuildContext) -> None:
    """One row per minimum spend: the money reaching the providers, segments and places it counts.

    Rules naming funders count those funders' flows; the others count cells, schemes and
    (unless they name places) pass-through. Every rule's terms are found at once, by
    pairing each rule with the providers it counts and each provider with its own flows,
    cells and schemes, so the work grows with the terms, not with rules × providers.
    """
    rules = ctx.s.minimum_spends
    if not rules:
        return
    a, b = ctx.a, ctx.b
    for rule in rules:
        if rule.funder_ids and rule.place_ids:
            raise ScenarioInvalid(
                "minimum spend cannot filter by both funder and place",
                [Issue(("minimum_spends", rule.rule_id), "give funder_ids or place_ids, not both")],
            )
    by_funder = np.array([bool(rule.funder_ids) for rule in rules])
    by_place = np.array([bool(rule.place_ids) for rule in rules])
    admits_segment = _rule_filter(rules, "segment_ids", a.segment_ids)
    admits_place = _rule_filter(rules, "place_ids", a.place_ids)
    admits_funder = _rule_filter(rules, "funder_ids", a.funder_ids)
    pair_rule, pair_provider = _rule_providers(ctx, rules)
    num_providers = len(a.provider_ids)

    # Rules naming funders: their funders' flows to the providers and segments they count.
    funder, provider, segment = ctx.flow
    pair, flow = items_of_groups(provider, num_providers, pair_provider)
    flow_rule = pair_rule[pair]
    keep = (
        by_funder[flow_rule]
        & admits_segment[flow_rule, segment[flow]]
        & admits_funder[flow_rule, funder[flow]]
    )
    flow_rule, flow = flow_rule[keep], flow[keep]
    # The other rules: cells and schemes in the segments and places they count.
    c_provider, _, c_segment = a.cells
    pair, cell = items_of_groups(c_provider, num_providers, pair_provider)
    cell_rule = pair_rule[pair]
    keep = (
        ~by_funder[cell_rule]
        & admits_segment[cell_rule, c_segment[cell]]
        & admits_place[cell_rule, a.cell_place[cell]]
    )
    cell_rule, cell = cell_rule[keep], cell[keep]
    pair, scheme = items_of_groups(ctx.scheme_provider, num_providers, pair_provider)
    scheme_rule = pair_rule[pair]
    keep = (
        ~by_funder[scheme_rule]
        & admits_segment[scheme_rule, ctx.scheme_segment[scheme]]
        & admits_place[scheme_rule, ctx.scheme_place[scheme]]
    )
    scheme_rule, scheme = scheme_rule[keep], scheme[keep]
    expr = (
        b.selector(ctx.funding_cols, flow, 1.0, len(rules), flow_rule)
        + b.selector(ctx.alloc, cell, 1.0, len(rules), cell_rule)
        + b.selector(ctx.scheme_cols, scheme, ctx.scheme_cost[scheme], len(rules), scheme_rule)
    )
    # Pass-through counts towards the rules without funders or places, as a constant.
    item_provider, item_segment, item_pence = pass_through_items(ctx)
    pair, item = items_of_groups(item_provider, num_providers, pair_provider)
    item_rule = pair_rule[pair]
    any_segment = item_segment[item] < 0
    keep = (
        ~by_funder[item_rule]
        & (any_segment | admits_segment[item_rule, np.maximum(item_segment[item], 0)])
        & ~by_place[item_rule]
    )
    passed_pence = np.zeros(len(rules), dtype=np.int64)
    np.add.at(passed_pence, item_rule[keep], item_pence[item[keep]])
    expr = Expr(expr.matrix, to_units(passed_pence.astype(np.float64)))
    for r, rule in enumerate(rules):  # one named row block per rule
        ctx.rows(
            f"minspend.{rule.rule_id}",
            Labels.of(rule_id=[rule.rule_id]),
            expr.row_range(r, r + 1),
            to_units(float(rule.required_pence())),
            INF,
            [f"minimum spend: {rule.name or rule.rule_id}"],
            soft_spec(rule),
        )


def build_fair_shares(ctx: BuildContext) -> None:
    for rule in ctx.s.fair_shares:
        if rule.form is not FairShareForm.BAND:
            continue
        assert rule.band_share is not None
        level_targets = ctx.level_targets(rule.level)
        target = level_targets.target_pence.astype(np.float64)
        expr = ctx.unit_total[rule.level]
        margin = 0.0 if rule.level is not UnitLevel.NEIGHBOURHOOD else ctx.neighbourhood_margin()
        lo = np.ceil(target * (1.0 - rule.band_share)) + margin
        hi = np.floor(target * (1.0 + rule.band_share)) - margin
        ids = level_targets.ids
        ctx.rows(
            f"fairshare.band.{rule.rule_id}",
            Labels.of(unit_id=ids, rule_id=rule.rule_id),
            expr,
            to_units(lo),
            to_units(hi),
            [f"fair-share band ±{rule.band_share:.1%} ({rule.level.value}), {u}" for u in ids],
            soft_spec(rule),
        )
