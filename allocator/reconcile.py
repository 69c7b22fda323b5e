"""Deliberate rounding of solver floats to pence that reconcile exactly.

The solver returns floats; published money is integer pence. Each figure is rounded to
the floor or ceiling of its solver value (after snapping values within a twentieth of a
penny of a whole penny), choosing which to round up so that every total is exact:
`round_to_total` for one list, `round_grouped` for many lists at once, and
`controlled_round` for a table whose row totals are fixed and whose column totals are
either fixed too or should stay within the floor and ceiling of their solver values.
The table case is a small min-cost flow (OR-Tools): rows hand out the pennies they are
owed along their entries, preferring the entries with the largest fractions.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from allocator.types import IntArray, NumArray

SNAP_PENCE = 0.05
_PREFER = 1_000  # cost scale for preferring large fractional parts
_AVOID = 1_000_000  # cost of moving a figure beyond its floor or ceiling
_OUTSIDE = 10**9  # cost of a column total outside its floor and ceiling


def snap(values: NumArray) -> NumArray:
    """Values within `SNAP_PENCE` of a whole penny become that penny; negatives within it, zero."""
    values = np.asarray(values, dtype=np.float64)
    nearest = np.rint(values)
    return np.maximum(np.where(np.abs(values - nearest) <= SNAP_PENCE, nearest, values), 0.0)


def round_grouped(values: NumArray, group: NumArray, totals: NumArray) -> IntArray:
    """Round each value to floor or ceiling so each group sums exactly to its total.

    The largest fractional parts in a group are rounded up (ties: lower position first).

    >>> round_grouped(np.array([1.5, 1.5, 2.0]), np.array([0, 0, 0]), np.array([5]))
    array([2, 1, 2])
    """
    values = snap(values)
    group = np.asarray(group, dtype=np.int64)
    totals = np.asarray(totals, dtype=np.int64)
    base = np.floor(values).astype(np.int64)
    frac = values - base
    deficit = totals - np.bincount(group, weights=base, minlength=totals.size).astype(np.int64)
    order = np.lexsort((np.arange(values.size), -frac, group))
    starts = np.searchsorted(group[order], np.arange(totals.size))
    rank = np.arange(values.size) - starts[group[order]]
    bump = np.zeros(values.size, dtype=np.int64)
    need = deficit[group[order]]
    size = np.bincount(group, minlength=totals.size)[group[order]]
    from_end = (
        size - 1 - rank
    )  # pennies taken back (solver noise only) come off the smallest fractions
    bump[order] = np.where(
        need >= 0, (rank < need).astype(np.int64), -(from_end < -need).astype(np.int64)
    )
    out: IntArray = base + bump
    return out


def round_to_total(values: NumArray, total: int) -> IntArray:
    """`round_grouped` for a single list."""
    return round_grouped(values, np.zeros(len(values), dtype=np.int64), np.array([total]))


def controlled_round(
    values: NumArray,
    row: NumArray,
    col: NumArray,
    row_totals: NumArray,
    col_totals: NumArray | None = None,
) -> IntArray:
    """Round table entries (given sparsely) so that every row total is exact.

    With ``col_totals`` every column total is exact too; without, each column total stays
    within the floor and ceiling of its solver value. Entries stay within their floor and
    ceiling wherever the totals allow it (always, for consistent solver tables).
    """
    row = np.asarray(row, dtype=np.int64)
    col = np.asarray(col, dtype=np.int64)
    solver_values = np.asarray(values, dtype=np.float64)
    values = snap(solver_values)
    base = np.floor(values).astype(np.int64)
    frac = values - base
    n_rows = len(row_totals)
    n_cols = int(col.max(initial=-1)) + 1 if col_totals is None else len(col_totals)
    row_need = np.asarray(row_totals, dtype=np.int64) - np.bincount(
        row, weights=base, minlength=n_rows
    ).astype(np.int64)
    col_base = np.bincount(col, weights=base, minlength=n_cols).astype(np.int64)

    flow = min_cost_flow.SimpleMinCostFlow()
    cols = n_rows + col
    fractional = frac > 0
    # Up: round an entry up (preferring large fractions); beyond: a further penny, or down below floor.
    up = flow.add_arcs_with_capacity_and_unit_cost(
        row,
        cols,
        np.ones(values.size, dtype=np.int64),
        np.where(fractional, np.rint(_PREFER * (1.0 - frac)), _AVOID).astype(np.int64),
    )
    more = flow.add_arcs_with_capacity_and_unit_cost(
        row,
        cols,
        np.full(values.size, 10**12, dtype=np.int64),
        np.full(values.size, _AVOID, dtype=np.int64),
    )
    down = flow.add_arcs_with_capacity_and_unit_cost(
        cols, row, base, np.full(values.size, _AVOID, dtype=np.int64)
    )
    nodes = np.arange(n_rows + n_cols + 1)
    supplies = np.zeros(nodes.size, dtype=np.int64)
    supplies[:n_rows] = row_need
    if col_totals is not None:
        supplies[n_rows : n_rows + n_cols] = -(np.asarray(col_totals, dtype=np.int64) - col_base)
    else:
        sink = n_rows + n_cols
        supplies[sink] = -row_need.sum()
        # Column ranges come from the solver's own sums, not the snapped entries': snapping
        # many entries can move a sum across a whole penny (and a rule's bound with it).
        col_value = np.bincount(col, weights=solver_values, minlength=n_cols)
        low = np.floor(col_value + SNAP_PENCE).astype(np.int64) - col_base
        high = np.ceil(col_value - SNAP_PENCE).astype(np.int64) - col_base
        heads = np.full(n_cols, sink)
        tails = n_rows + np.arange(n_cols)
        flow.add_arcs_with_capacity_and_unit_cost(
            tails, heads, np.maximum(low, 0), np.full(n_cols, -_OUTSIDE)
        )
        flow.add_arcs_with_capacity_and_unit_cost(
            tails, heads, np.maximum(high - np.maximum(low, 0), 0), np.zeros(n_cols, dtype=np.int64)
        )
        flow.add_arcs_with_capacity_and_unit_cost(
            tails, heads, np.full(n_cols, 10**12), np.full(n_cols, _OUTSIDE)
        )
        flow.add_arcs_with_capacity_and_unit_cost(
            heads, tails, np.full(n_cols, 10**12), np.full(n_cols, _OUTSIDE)
        )
    flow.set_nodes_supplies(nodes, supplies)
    if flow.solve() != flow.OPTIMAL:
        raise ValueError("the table cannot be rounded to its totals")
    bump = flow.flows(up) + flow.flows(more) - flow.flows(down)
    out: IntArray = base + bump.astype(np.int64)
    return out
