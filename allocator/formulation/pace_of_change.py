"""Rules set by the scenario: pace of change, minimum spends, fair-share bands."""

from __future__ import annotations

import numpy as np

from allocator.formulation.builder import INF
from allocator.formulation.context import (
    BuildContext,
    Cells,
    Totals,
    soft_spec,
    to_units,
)
from allocator.formulation.index import Labels
from allocator.types import FloatArray, IntArray, RowFamily
from models import (
    PaceForm,
    UnitLevel,
)


def convergence_amount(
    base: FloatArray, target: FloatArray, floor_growth: float | None, kappa: float
) -> FloatArray:
    """What the convergence form gives an over-target unit, in whole pence (rounded down).

    NHS England's allocation rounds hold an over-target unit to its baseline grown by the
    floor growth less the convergence step, κ × (baseline − target): not more (it gives up
    the step) and not less (what it gives up funds the under-target units).
    """
    growth = 0.0 if floor_growth is None else floor_growth
    out: FloatArray = np.floor(base * (1.0 + growth) - kappa * (base - target) + 1e-6)
    return out


def build_pace_of_change(
    ctx: BuildContext, cells: Cells, totals: Totals, block_providers: IntArray
) -> FloatArray:
    """Pace-of-change rows for providers, places and systems; returns each place's baseline (pence).

    A place without a given baseline gets the sum of its cells' shares of the providers'
    baselines, rounded to whole pence: the figure the result publishes, so a rule checked on
    the published pence (`allocator.publish.recheck`) sees the same baseline as the solve.
    A system's baseline is the sum of its places' baselines.
    """
    a = ctx.a
    base_prov = a.provider_baseline_pence.astype(np.float64)
    place_base = np.array(
        [p.baseline_pence if p.baseline_pence is not None else np.nan for p in ctx.scenario.places]
    )
    derived = np.bincount(a.cell_place, weights=cells.baseline_pence, minlength=len(a.place_ids))
    place_baseline = np.where(np.isnan(place_base), np.rint(derived), place_base)
    not_block = np.ones(len(a.provider_ids), dtype=np.bool_)
    not_block[block_providers] = False
    for rule in ctx.scenario.pace_of_change:
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
                totals.provider[idx],
                base_prov[idx],
                [ctx.provider_name(p) for p in ids],
            )
            over = np.ones(idx.size, dtype=np.bool_)
            target = None
        else:
            if rule.level is UnitLevel.SYSTEM:
                unit_ids = a.system_ids
                unit_base = np.bincount(
                    a.place_system, weights=place_baseline, minlength=len(unit_ids)
                ).astype(np.float64)
                unit_names = [ctx.system_name(u) for u in unit_ids]
            else:
                unit_ids, unit_base = a.place_ids, place_baseline
                unit_names = [ctx.place_name(u) for u in unit_ids]
            idx = np.arange(len(unit_ids))
            ids = np.array(unit_ids, dtype=object)
            expr, base, names = totals.unit[rule.level], unit_base, unit_names
            target = ctx.level_targets(rule.level).target_pence.astype(np.float64)
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
            step = convergence_amount(base, target, rule.floor_growth_share, rule.convergence_share)
            over_target = base > target
            upper = np.where(over_target, step, INF)
            lower = np.where(over_target, step, lower)
        if rule.below_target_band_share is not None and target is not None:
            lift = np.ceil(target * (1.0 - rule.below_target_band_share))
            lower = np.where(base < lift, np.maximum(lower, lift), lower)
        keep = np.isfinite(lower)
        ctx.rows(
            RowFamily.PACE_FLOOR.block(rule.rule_id),
            labels.take(keep),
            expr[np.flatnonzero(keep)],
            to_units(lower[keep]),
            INF,
            [f"pace-of-change floor ({label}), {n}" for n, k in zip(names, keep, strict=True) if k],
            soft,
        )
        keep = np.isfinite(upper)
        ctx.rows(
            RowFamily.PACE_CAP.block(rule.rule_id),
            labels.take(keep),
            expr[np.flatnonzero(keep)],
            -INF,
            to_units(upper[keep]),
            [f"pace-of-change cap ({label}), {n}" for n, k in zip(names, keep, strict=True) if k],
            soft,
        )
    return place_baseline
