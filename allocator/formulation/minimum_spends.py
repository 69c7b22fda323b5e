"""Minimum spends: the mental health investment standard, the better care fund minimum and any other floor on what a set of funders spends on a set of uses."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from allocator.domain.arrays import items_of_groups
from allocator.formulation.builder import INF, Expr
from allocator.formulation.context import (
    BuildContext,
    Cells,
    Flows,
    Schemes,
    pass_through_items,
    soft_spec,
    to_units,
)
from allocator.formulation.index import Labels
from allocator.types import BoolArray, IntArray, RowFamily
from models import (
    MinimumSpend,
)


def _rule_providers(ctx: BuildContext, rules: Sequence[MinimumSpend]) -> tuple[IntArray, IntArray]:
    """(rule, provider) for every provider each rule counts, rule by rule, each pair once.

    A rule counts the providers of its kinds and the providers it names; with neither, all.
    """
    providers_of_kind = {
        kind: np.flatnonzero(ctx.kind_of == kind) for kind in dict.fromkeys(ctx.a.provider_kind)
    }
    everyone = np.arange(len(ctx.a.provider_ids))
    places_of = {ctx.provider_at[p.provider_id]: p.place_ids for p in ctx.scenario.providers}
    chosen: list[IntArray] = []
    for rule in rules:  # one entry per rule: the rule's own filter lists, not the providers
        if not (rule.provider_kinds or rule.provider_ids):
            counted = everyone
        else:
            named = [ctx.provider_at[p] for p in rule.provider_ids if p in ctx.provider_at]
            of_kinds = [providers_of_kind.get(k.value, everyone[:0]) for k in rule.provider_kinds]
            counted = np.unique(np.concatenate([np.array(named, dtype=np.int64), *of_kinds]))
        if rule.funder_ids and rule.place_ids:  # funders' money to the places' own providers
            inside = [rule.covers_places(places_of[int(k)]) for k in counted]
            counted = counted[np.array(inside, dtype=np.bool_)]
        chosen.append(counted)
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


def build_minimum_spends(ctx: BuildContext, cells: Cells, schemes: Schemes, flows: Flows) -> None:
    """One row per minimum spend: the money reaching the providers, segments and places it counts.

    Rules naming funders count those funders' flows (with places too: flows to providers
    working only in those places, as flows carry no place); the others count cells, schemes and
    (unless they name places) pass-through. Every rule's terms are found at once, by
    pairing each rule with the providers it counts and each provider with its own flows,
    cells and schemes, so the work grows with the terms, not with rules × providers.
    """
    rules = ctx.scenario.minimum_spends
    if not rules:
        return
    a, b = ctx.a, ctx.b
    by_funder = np.array([bool(rule.funder_ids) for rule in rules])
    by_place = np.array([bool(rule.place_ids) for rule in rules])
    admits_segment = _rule_filter(rules, "segment_ids", a.segment_ids)
    admits_place = _rule_filter(rules, "place_ids", a.place_ids)
    admits_funder = _rule_filter(rules, "funder_ids", a.funder_ids)
    pair_rule, pair_provider = _rule_providers(ctx, rules)
    num_providers = len(a.provider_ids)

    # Rules naming funders: their funders' flows to the providers and segments they count.
    funder, provider, segment = flows.funder, flows.provider, flows.segment
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
    pair, scheme = items_of_groups(schemes.provider, num_providers, pair_provider)
    scheme_rule = pair_rule[pair]
    keep = (
        ~by_funder[scheme_rule]
        & admits_segment[scheme_rule, schemes.segment[scheme]]
        & admits_place[scheme_rule, schemes.place[scheme]]
    )
    scheme_rule, scheme = scheme_rule[keep], scheme[keep]
    expr = (
        b.selector(flows.cols, flow, 1.0, len(rules), flow_rule)
        + b.selector(cells.cols, cell, 1.0, len(rules), cell_rule)
        + b.selector(schemes.cols, scheme, schemes.cost[scheme], len(rules), scheme_rule)
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
    headroom = rounding_headroom(ctx, rules, flow_rule, cell_rule, passed_pence)
    for r, rule in enumerate(rules):  # one named row block per rule
        ctx.rows(
            RowFamily.MINIMUM_SPEND.block(rule.rule_id),
            Labels.of(rule_id=[rule.rule_id]),
            expr.row_range(r, r + 1),
            to_units(float(rule.required_pence(ctx.scenario.funders) + headroom[r])),
            INF,
            [f"minimum spend: {rule.name or rule.rule_id}"],
            soft_spec(rule),
        )


def rounding_headroom(
    ctx: BuildContext,
    rules: Sequence[MinimumSpend],
    flow_rule: IntArray,
    cell_rule: IntArray,
    passed_pence: IntArray,
) -> IntArray:
    """Pence each hard minimum is raised by in the solve, so the published pence still meet it.

    Publishing rounds every flow and cell to the floor or ceiling of its solver value (after
    snapping values within a twentieth of a penny of a whole penny), so each of a rule's k
    rounded terms loses less than 0.95p and the published spend is more than its solver
    spend less 0.95k pence (schemes cost whole pence, pass-through is exact). Holding the
    solve k − 1 pence above the minimum therefore keeps the published spend, a whole number
    of pence more than the minimum less one, at or above it; a rule counting one term
    needs none.
    The raise never takes a minimum above the most the rule can count (its funders' money,
    or the whole pot), where the sum is exact anyway; soft rules and the infeasibility
    diagnosis (which reports the scenario's own figures) get none.
    """
    n = len(rules)
    terms = np.bincount(flow_rule, minlength=n) + np.bincount(cell_rule, minlength=n)
    allocated = {
        f: ctx.pot.pooled_by_funder_pence[f] - ctx.pot.reserve_by_funder_pence[f]
        for f in ctx.a.funder_ids
    }
    out = np.zeros(n, dtype=np.int64)
    if not ctx.headroom:
        return out
    for r, rule in enumerate(rules):
        if not rule.hard:
            continue
        if rule.funder_ids:
            most = sum(allocated.get(f, 0) for f in set(rule.funder_ids))
        else:
            most = ctx.pot.capitated_pence + int(passed_pence[r])
        required = rule.required_pence(ctx.scenario.funders)
        out[r] = max(0, min(int(terms[r]) - 1, most - required))
    return out
