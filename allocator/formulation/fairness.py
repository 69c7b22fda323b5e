"""The fairness stages: largest shortfall below target (max-min), then the sum of shortfalls."""

from __future__ import annotations

import numpy as np

from allocator.formulation.builder import INF
from allocator.formulation.context import (
    BuildContext,
    Totals,
    to_units,
)
from allocator.formulation.index import Labels
from allocator.types import IntArray, RowFamily, Stage
from models import (
    FairShareForm,
    ObjectiveStage,
    UnitLevel,
)


def build_fairness(ctx: BuildContext, totals: Totals) -> list[tuple[UnitLevel, IntArray]]:
    """The largest relative shortfall and each unit's shortfall, for the fairness stages."""
    b = ctx.b
    levels = [r.level for r in ctx.scenario.fair_shares if r.form is FairShareForm.CONVERGE]
    levels = list(dict.fromkeys(levels or [ctx.scenario.objective.fairness_level]))
    fairness_units: list[tuple[UnitLevel, IntArray]] = []
    if (
        ObjectiveStage.FAIRNESS not in ctx.scenario.objective.stages
        and ctx.scenario.objective.kind.value == "lexicographic"
    ):
        return fairness_units
    largest = b.add_columns(
        "fairness.max_shortfall", Labels.of(name=["largest shortfall"]), 0.0, INF
    )
    b.add_objective(Stage.FAIRNESS_MAX, np.array([largest.start]), 1.0)
    for level in levels:
        tgt = ctx.level_targets(level)
        units = np.flatnonzero(tgt.target_pence > 0)
        fairness_units.append((level, units))
        target = to_units(tgt.target_pence[units].astype(np.float64))
        ids = np.array(tgt.ids, dtype=object)[units]
        labels = Labels.of(level=level.value, unit_id=ids)
        expr = totals.unit[level][units]
        m_expr = b.selector(
            largest, np.zeros(units.size, dtype=np.int64), target, units.size, np.arange(units.size)
        )
        ctx.rows(
            RowFamily.FAIRNESS.block(f"max.{level.value}"),
            labels,
            expr + m_expr,
            target,
            INF,
            [f"largest shortfall bound, {u}" for u in ids],
        )
        shortfall = b.add_columns(f"fairness.shortfall.{level.value}", labels, 0.0, INF)
        b.add_objective(Stage.FAIRNESS_SUM, shortfall.start + np.arange(shortfall.size), 1.0)
        shortfall_expr = b.selector(
            shortfall, np.arange(units.size), 1.0, units.size, np.arange(units.size)
        )
        ctx.rows(
            RowFamily.FAIRNESS.block(f"sum.{level.value}"),
            labels,
            expr.padded(b.num_cols) + shortfall_expr,
            target,
            INF,
            [f"shortfall below target, {u}" for u in ids],
        )
    return fairness_units
