"""Health value of spend, evaluated directly from the value curves (not from the solver)."""

from __future__ import annotations

import numpy as np

from allocator.arrays import ScenarioArrays
from allocator.types import IntArray
from models import Scenario, ValueCurve


def curve_value(curve: ValueCurve, spend_pence: float, heads: float) -> float:
    """Value of a total spend on a segment of `heads` people (per-head curve, flat after the last point)."""
    if heads <= 0:
        return 0.0
    xs = np.array([0.0] + [p.spend_per_head_pence for p in curve.points]) * heads
    ys = np.array([0.0] + [p.value_per_head for p in curve.points]) * heads
    return float(np.interp(spend_pence, xs, ys))


def value_of_spend(
    scenario: Scenario, arrays: ScenarioArrays, cell_pence: IntArray
) -> list[tuple[str, str, str, int, float]]:
    """(place, segment, provider kind, spend, value) for every curve and place with people."""
    c_provider, _, c_segment = arrays.cells
    kinds = np.array(arrays.provider_kind, dtype=object)[c_provider]
    place_heads = np.zeros((len(arrays.place_ids), len(arrays.segment_ids)))
    np.add.at(place_heads, arrays.neighbourhood_place, arrays.headcount)
    out = []
    for curve in scenario.value_curves:
        s = arrays.segment_ids.index(curve.segment_id)
        mask = (c_segment == s) & (kinds == curve.provider_kind.value)
        spend = np.bincount(
            arrays.cell_place[mask], weights=cell_pence[mask], minlength=len(arrays.place_ids)
        )
        for place in np.flatnonzero(place_heads[:, s] > 0):
            out.append(
                (
                    arrays.place_ids[place],
                    curve.segment_id,
                    curve.provider_kind.value,
                    int(spend[place]),
                    curve_value(curve, float(spend[place]), float(place_heads[place, s])),
                )
            )
    return out
