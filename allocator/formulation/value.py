"""Health value: concave piecewise-linear curves per place, segment and provider kind."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocator.formulation.builder import INF
from allocator.formulation.context import (
    PENCE_PER_UNIT,
    BuildContext,
    to_units,
)


def build_value_curves(ctx: BuildContext) -> None:
    """Concave piecewise-linear value per (place, segment, provider kind), pieces filled in order."""
    a, b = ctx.a, ctx.b
    if not ctx.s.value_curves:
        return
    place_heads = np.zeros((len(a.place_ids), len(a.segment_ids)))
    np.add.at(place_heads, a.neighbourhood_place, a.headcount)
    c_provider, _, c_segment = a.cells
    rows: list[tuple[int, int, str]] = []
    piece_group: list[int] = []
    widths: list[float] = []
    slopes: list[float] = []
    for curve in ctx.s.value_curves:
        s_idx = ctx.segment_at[curve.segment_id]
        spend = np.array([0] + [p.spend_per_head_pence for p in curve.points], dtype=np.float64)
        value = np.array([0.0] + [p.value_per_head for p in curve.points])
        d_spend, d_value = np.diff(spend), np.diff(value)
        ok = d_spend > 0
        for place in np.flatnonzero(place_heads[:, s_idx] > 0):
            g = len(rows)
            rows.append((int(place), s_idx, curve.provider_kind.value))
            heads = place_heads[place, s_idx]
            piece_group += [g] * int(ok.sum())
            widths += list(to_units(d_spend[ok] * heads))
            slopes += list(d_value[ok] / d_spend[ok] * PENCE_PER_UNIT)
    if not rows:
        return
    group_place = np.array([r[0] for r in rows])
    group_segment = np.array([r[1] for r in rows])
    group_kind = np.array([r[2] for r in rows], dtype=object)
    labels = pd.DataFrame(
        {
            "place_id": np.array(a.place_ids, dtype=object)[group_place],
            "segment_id": np.array(a.segment_ids, dtype=object)[group_segment],
            "provider_kind": group_kind,
        }
    )
    pg = np.array(piece_group, dtype=np.int64)
    pieces = b.add_columns(
        "value.piece", labels.iloc[pg].reset_index(drop=True), 0.0, np.array(widths)
    )
    b.add_objective("value", pieces.start + np.arange(pieces.size), -np.array(slopes))
    # Cells feeding each group.
    kinds = sorted(set(ctx.kind_of))
    kind_code = np.searchsorted(kinds, ctx.kind_of)
    n_s, n_k = len(a.segment_ids), len(kinds)
    lookup = np.full(len(a.place_ids) * n_s * n_k, -1, dtype=np.int64)
    group_kind_ids = np.array([r[2] for r in rows])
    group_kind = np.searchsorted(kinds, group_kind_ids)
    known = np.isin(group_kind_ids, kinds)
    groups = np.flatnonzero(known)
    lookup[(group_place[groups] * n_s + group_segment[groups]) * n_k + group_kind[groups]] = groups
    cell_group = lookup[(a.cell_place * n_s + c_segment) * n_k + kind_code[c_provider]]
    fed = np.flatnonzero(cell_group >= 0)
    expr = b.selector(pieces, np.arange(pieces.size), 1.0, len(rows), pg) + b.selector(
        ctx.alloc, fed, -1.0, len(rows), cell_group[fed]
    )
    ctx.value_groups = labels
    ctx.rows(
        "value.link",
        labels,
        expr,
        -INF,
        0.0,
        [
            f"value curve {s} × {k} in {p}"
            for p, s, k in zip(
                labels.place_id, labels.segment_id, labels.provider_kind, strict=True
            )
        ],
    )
