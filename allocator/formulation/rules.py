"""Rules set by the scenario: pace of change, minimum spends, fair-share bands."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocator.errors import Issue, ScenarioInvalid
from allocator.formulation.builder import INF, Expr
from allocator.formulation.context import (
    BuildContext,
    soft_spec,
    to_units,
)
from models import (
    FairShareForm,
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
        labels = pd.DataFrame({"unit_id": ids, "rule_id": rule.rule_id})
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
            labels[keep],
            expr[np.flatnonzero(keep)],
            to_units(lower[keep]),
            INF,
            [f"pace-of-change floor ({label}), {n}" for n, k in zip(names, keep, strict=True) if k],
            soft,
        )
        keep = np.isfinite(upper)
        ctx.rows(
            f"pace.cap.{rule.rule_id}",
            labels[keep],
            expr[np.flatnonzero(keep)],
            -INF,
            to_units(upper[keep]),
            [f"pace-of-change cap ({label}), {n}" for n, k in zip(names, keep, strict=True) if k],
            soft,
        )


def build_minimum_spends(ctx: BuildContext) -> None:
    a, b = ctx.a, ctx.b
    c_provider, _, c_segment = a.cells
    for rule in ctx.s.minimum_spends:
        prov_ok = np.ones(len(a.provider_ids), dtype=np.bool_)
        if rule.provider_kinds or rule.provider_ids:
            prov_ok = np.isin(ctx.kind_of, [k.value for k in rule.provider_kinds]) | np.isin(
                a.provider_ids, rule.provider_ids
            )
        seg_ok = (
            np.isin(a.segment_ids, rule.segment_ids)
            if rule.segment_ids
            else np.ones(len(a.segment_ids), bool)
        )
        place_ok = (
            np.isin(a.place_ids, rule.place_ids)
            if rule.place_ids
            else np.ones(len(a.place_ids), bool)
        )
        if rule.funder_ids:
            if rule.place_ids:
                raise ScenarioInvalid(
                    "minimum spend cannot filter by both funder and place",
                    [
                        Issue(
                            ("minimum_spends", rule.rule_id),
                            "give funder_ids or place_ids, not both",
                        )
                    ],
                )
            funder, provider, segment = ctx.flow
            sel = np.flatnonzero(
                np.isin(np.array(a.funder_ids)[funder], rule.funder_ids)
                & prov_ok[provider]
                & seg_ok[segment]
            )
            expr = b.selector(ctx.funding_cols, sel, 1.0, 1, np.zeros(sel.size, dtype=np.int64))
        else:
            cells = np.flatnonzero(prov_ok[c_provider] & seg_ok[c_segment] & place_ok[a.cell_place])
            sch = np.flatnonzero(
                prov_ok[ctx.scheme_provider]
                & seg_ok[ctx.scheme_segment]
                & place_ok[ctx.scheme_place]
            )
            expr = b.selector(
                ctx.alloc, cells, 1.0, 1, np.zeros(cells.size, dtype=np.int64)
            ) + b.selector(
                ctx.scheme_cols,
                sch,
                ctx.scheme_cost[sch],
                1,
                np.zeros(sch.size, dtype=np.int64),
            )
            passthrough = sum(
                item.amount_pence
                for funder in ctx.s.funders
                for item in funder.pass_through
                if prov_ok[ctx.provider_at[item.provider_id]]
                and (item.segment_id is None or seg_ok[ctx.segment_at[item.segment_id]])
                and not rule.place_ids
            )
            expr = Expr(expr.matrix, to_units(np.array([passthrough], dtype=np.float64)))
        ctx.rows(
            f"minspend.{rule.rule_id}",
            pd.DataFrame({"rule_id": [rule.rule_id]}),
            expr,
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
            pd.DataFrame({"unit_id": ids, "rule_id": rule.rule_id}),
            expr,
            to_units(lo),
            to_units(hi),
            [f"fair-share band ±{rule.band_share:.1%} ({rule.level.value}), {u}" for u in ids],
            soft_spec(rule),
        )
