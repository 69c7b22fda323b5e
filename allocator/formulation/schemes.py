"""Whole-or-nothing schemes: units bought in whole numbers, each adding value (and, when the
diagnosis runs, required schemes as rows that may be breached)."""

from __future__ import annotations

import numpy as np

from allocator.formulation.builder import INF, SoftSpec
from allocator.formulation.context import (
    BuildContext,
    Schemes,
    to_units,
)
from allocator.formulation.index import Labels
from allocator.types import RowFamily, Stage


def build_schemes(ctx: BuildContext) -> Schemes:
    schemes = ctx.scenario.schemes
    labels = Labels.of(scheme_id=[j.scheme_id for j in schemes])
    cols = ctx.b.add_columns(
        "scheme.units",
        labels,
        lo=np.array([0 if ctx.elastic else j.min_units for j in schemes], dtype=np.float64),
        hi=np.array([j.max_units for j in schemes], dtype=np.float64),
        integer=True,
    )
    provider = np.array([ctx.provider_at[j.provider_id] for j in schemes], dtype=np.int64)
    segment = np.array([ctx.segment_at[j.segment_id] for j in schemes], dtype=np.int64)
    place = np.array([ctx.place_at[j.place_id] for j in schemes], dtype=np.int64)
    cost = to_units(np.array([j.cost_per_unit_pence for j in schemes], dtype=np.float64))
    ctx.b.add_objective(
        Stage.VALUE,
        cols.start + np.arange(len(schemes)),
        -np.array([j.value_per_unit for j in schemes], dtype=np.float64),
    )
    return Schemes(cols, provider, segment, place, cost)


def build_required_schemes(ctx: BuildContext, schemes: Schemes) -> None:
    """Elastic mode only: required schemes become rows that may be breached."""
    if not ctx.elastic:
        return
    required = np.array(
        [k for k, j in enumerate(ctx.scenario.schemes) if j.min_units > 0], dtype=np.int64
    )
    expr = ctx.b.selector(schemes.cols, required, 1.0, required.size, np.arange(required.size))
    ids = [ctx.scenario.schemes[k].scheme_id for k in required]
    ctx.rows(
        RowFamily.SCHEME_REQUIRED,
        Labels.of(scheme_id=ids),
        expr,
        np.array([ctx.scenario.schemes[k].min_units for k in required], dtype=np.float64),
        INF,
        [f"required scheme {i}" for i in ids],
        SoftSpec(float(np.mean(schemes.cost[required])) if required.size else 1.0, Stage.ELASTIC),
    )
