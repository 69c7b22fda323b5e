"""Health value of spend, evaluated directly from the value curves (not from the solver)."""

from __future__ import annotations

import numpy as np

from allocator.domain.arrays import ScenarioArrays
from allocator.types import FloatArray, IntArray
from models import Scenario, ValueCurve


def curve_values(curve: ValueCurve, spend_pence: FloatArray, heads: FloatArray) -> FloatArray:
    """The value of each (spend, heads) pair on a curve (heads > 0).

    The curve's points scaled by each pair's heads, interpolated linearly exactly as
    ``np.interp`` does for one pair (same operations, so the same floats); spend beyond
    the last point is worth the last point's value. Spend per head rises strictly from
    point to point (`check_value_curves`).
    """
    spend_per_head = np.array([0.0] + [p.spend_per_head_pence for p in curve.points])
    value_per_head = np.array([0.0] + [p.value_per_head for p in curve.points])
    xs = spend_per_head[None, :] * heads[:, None]
    ys = value_per_head[None, :] * heads[:, None]
    x = spend_pence[:, None]
    last = xs.shape[1] - 1
    piece = np.minimum((xs <= x).sum(axis=1) - 1, last)  # xs[piece] <= spend < xs[piece + 1]
    rows = np.arange(x.shape[0])
    beyond = piece == last
    nxt = np.minimum(piece + 1, last)
    x0, x1, y0, y1 = xs[rows, piece], xs[rows, nxt], ys[rows, piece], ys[rows, nxt]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (y1 - y0) / (x1 - x0)
        inside = slope * (x[:, 0] - x0) + y0
    on_point = beyond | (x0 == x[:, 0])
    values: FloatArray = np.where(on_point, y0, inside)
    return values


def value_of_spend(
    scenario: Scenario, arrays: ScenarioArrays, cell_pence: IntArray
) -> list[tuple[str, str, str, int, float]]:
    """(place, segment, provider kind, spend, value) for every curve and place with people."""
    c_provider, _, c_segment = arrays.cells
    kinds = np.array(arrays.provider_kind, dtype=object)[c_provider]
    place_heads = np.zeros((len(arrays.place_ids), len(arrays.segment_ids)))
    np.add.at(place_heads, arrays.neighbourhood_place, arrays.headcount)
    place_ids = np.array(arrays.place_ids, dtype=object)
    out: list[tuple[str, str, str, int, float]] = []
    for curve in scenario.value_curves:  # a handful of curves, each vectorised over places
        s = arrays.segment_ids.index(curve.segment_id)
        mask = (c_segment == s) & (kinds == curve.provider_kind.value)
        spend = np.bincount(
            arrays.cell_place[mask], weights=cell_pence[mask], minlength=len(arrays.place_ids)
        ).astype(np.float64)
        places = np.flatnonzero(place_heads[:, s] > 0)
        spent = spend[places]
        values = curve_values(curve, spent, place_heads[places, s])
        kind = curve.provider_kind.value
        out += [
            (place, curve.segment_id, kind, int(pence), value)
            for place, pence, value in zip(
                place_ids[places].tolist(), spent.tolist(), values.tolist(), strict=True
            )
        ]
    return out
