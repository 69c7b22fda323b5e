"""Health value: concave piecewise-linear curves per place, segment and provider kind."""

from __future__ import annotations

import numpy as np

from allocator.formulation.builder import INF
from allocator.formulation.context import (
    PENCE_PER_UNIT,
    BuildContext,
    Cells,
    to_units,
)
from allocator.formulation.index import Labels
from allocator.types import FloatArray, IntArray, RowFamily, Stage


def build_value_curves(ctx: BuildContext, cells: Cells) -> None:
    """Concave piecewise-linear value per (place, segment, provider kind), pieces filled in order.

    A group is one curve in one place with people in the curve's segment (curves in
    scenario order, places in order); its pieces are columns bounded by the piece's spend
    per head × the place's heads, and one row caps their sum by the money the group's
    cells receive.
    """
    a, b = ctx.a, ctx.b
    if not ctx.scenario.value_curves:
        return
    place_heads = np.zeros((len(a.place_ids), len(a.segment_ids)))
    np.add.at(place_heads, a.neighbourhood_place, a.headcount)
    group_place: list[IntArray] = []
    group_segment: list[IntArray] = []
    group_kind: list[str] = []
    pieces_per_group: list[IntArray] = []
    widths: list[FloatArray] = []
    slopes: list[FloatArray] = []
    for curve in ctx.scenario.value_curves:  # a handful of curves; each is vectorised over places
        curve_segment = ctx.segment_at[curve.segment_id]
        spend = np.array([0] + [p.spend_per_head_pence for p in curve.points], dtype=np.float64)
        value = np.array([0.0] + [p.value_per_head for p in curve.points])
        d_spend, d_value = np.diff(spend), np.diff(value)
        ok = d_spend > 0
        places = np.flatnonzero(place_heads[:, curve_segment] > 0)
        heads = place_heads[places, curve_segment]
        group_place.append(places)
        group_segment.append(np.full(places.size, curve_segment, dtype=np.int64))
        group_kind += [curve.provider_kind.value] * places.size
        pieces_per_group.append(np.full(places.size, int(ok.sum()), dtype=np.int64))
        widths.append(to_units(d_spend[ok][None, :] * heads[:, None]).ravel())
        slopes.append(np.tile(d_value[ok] / d_spend[ok] * PENCE_PER_UNIT, places.size))
    num_groups = len(group_kind)
    if num_groups == 0:
        return
    place = np.concatenate(group_place)
    segment = np.concatenate(group_segment)
    kind_ids = np.array(group_kind, dtype=object)
    place_ids = np.array(a.place_ids, dtype=object)[place]
    segment_ids = np.array(a.segment_ids, dtype=object)[segment]
    labels = Labels.of(place_id=place_ids, segment_id=segment_ids, provider_kind=kind_ids)
    piece_group = np.repeat(np.arange(num_groups), np.concatenate(pieces_per_group))
    pieces = b.add_columns("value.piece", labels.take(piece_group), 0.0, np.concatenate(widths))
    b.add_objective(Stage.VALUE, pieces.start + np.arange(pieces.size), -np.concatenate(slopes))
    # Cells feeding each group: same place, segment and provider kind (the last curve wins).
    kinds = sorted(set(ctx.kind_of))
    kind_code = np.searchsorted(kinds, ctx.kind_of)
    n_s, n_k = len(a.segment_ids), len(kinds)
    lookup = np.full(len(a.place_ids) * n_s * n_k, -1, dtype=np.int64)
    group_kind_code = np.searchsorted(kinds, kind_ids.astype(str))
    groups = np.flatnonzero(np.isin(kind_ids.astype(str), kinds))
    lookup[(place[groups] * n_s + segment[groups]) * n_k + group_kind_code[groups]] = groups
    c_provider, _, c_segment = a.cells
    cell_group = lookup[(a.cell_place * n_s + c_segment) * n_k + kind_code[c_provider]]
    fed = np.flatnonzero(cell_group >= 0)
    expr = b.selector(pieces, np.arange(pieces.size), 1.0, num_groups, piece_group) + b.selector(
        cells.cols, fed, -1.0, num_groups, cell_group[fed]
    )
    ctx.rows(
        RowFamily.VALUE.block("link"),
        labels,
        expr,
        -INF,
        0.0,
        [
            f"value curve {s} × {k} in {p}"
            for p, s, k in zip(place_ids, segment_ids, kind_ids, strict=True)
        ],
    )
