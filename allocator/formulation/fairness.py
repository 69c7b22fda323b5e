"""The fairness stages: largest shortfall below target (max-min), then the sum of shortfalls."""

from __future__ import annotations

import numpy as np

from allocator.formulation.builder import INF
from allocator.formulation.context import (
    BuildContext,
    to_units,
)
from allocator.formulation.index import Labels
from models import (
    FairShareForm,
    ObjectiveStage,
)


def build_fairness(ctx: BuildContext) -> None:
    """Largest relative shortfall m and per-unit shortfalls s for the fairness stages."""
    b = ctx.b
    levels = [r.level for r in ctx.s.fair_shares if r.form is FairShareForm.CONVERGE]
    levels = list(dict.fromkeys(levels or [ctx.s.objective.fairness_level]))
    ctx.fairness_units = []
    if (
        ObjectiveStage.FAIRNESS not in ctx.s.objective.stages
        and ctx.s.objective.kind.value == "lexicographic"
    ):
        return
    m = b.add_columns("fairness.max_shortfall", Labels.of(name=["largest shortfall"]), 0.0, INF)
    b.add_objective("fairness_max", np.array([m.start]), 1.0)
    for level in levels:
        tgt = ctx.level_targets(level)
        units = np.flatnonzero(tgt.target_pence > 0)
        ctx.fairness_units.append((level, units))
        target = to_units(tgt.target_pence[units].astype(np.float64))
        ids = np.array(tgt.ids, dtype=object)[units]
        labels = Labels.of(level=level.value, unit_id=ids)
        expr = ctx.unit_total[level][units]
        m_expr = b.selector(
            m, np.zeros(units.size, dtype=np.int64), target, units.size, np.arange(units.size)
        )
        ctx.rows(
            f"fairness.max.{level.value}",
            labels,
            expr + m_expr,
            target,
            INF,
            [f"largest shortfall bound, {u}" for u in ids],
        )
        s = b.add_columns(f"fairness.shortfall.{level.value}", labels, 0.0, INF)
        b.add_objective("fairness_sum", s.start + np.arange(s.size), 1.0)
        s_expr = b.selector(s, np.arange(units.size), 1.0, units.size, np.arange(units.size))
        ctx.rows(
            f"fairness.sum.{level.value}",
            labels,
            expr.padded(b.num_cols) + s_expr,
            target,
            INF,
            [f"shortfall below target, {u}" for u in ids],
        )
