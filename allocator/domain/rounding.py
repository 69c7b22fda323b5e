"""Every rounding of money to whole pence, in one place.

Published figures are integer pence that must add up exactly (spec section 3).

*Apportionment* (`largest_remainder`, `largest_remainder_by_group`) splits a total
between parts by weight by largest remainder on the *exact* rational shares of the
weights: every float64 weight is an integer times a power of two, so the shares are
computed with integer arithmetic only (vectorised int64 in the usual case, Python
integers when the weights span too many binary orders of magnitude).

*Reconciliation* of solver floats: each figure is rounded to the floor or ceiling of its
solver value (after snapping values within a twentieth of a penny of a whole penny),
choosing which to round up so that every total is exact: `round_to_total` for one list,
`round_grouped` for many lists at once, and `controlled_round` for a table whose row
totals are fixed and whose column totals are either fixed too or should stay within the
floor and ceiling of their solver values. The table case is a small min-cost flow
(OR-Tools): rows hand out the pennies they are owed along their entries, preferring the
entries with the largest fractions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from allocator.types import BoolArray, FloatArray, IntArray, NumArray

_INT64_SAFE_BITS = 61  # every intermediate of the int64 path stays below 2**62


def _exact_integer_weights(
    weights: FloatArray, group: IntArray, num_groups: int
) -> tuple[IntArray, IntArray, BoolArray]:
    """Integers proportional to ``weights`` within each group, exactly, as int64 where they fit.

    Each float is ``m × 2**e`` with an integer mantissa ``m`` below ``2**53``; scaling every
    weight of a group by ``2**-min(e)`` over the group gives integers with exactly the same
    ratios. Returns the mantissas ``m``, the shifts that scale them, and per group whether
    the integers ``m << shift`` (and their sum) stay within the int64 arithmetic of
    `_divmod_scaled`; where they do not, the group needs Python integers.
    """
    mantissa, exponent = np.frexp(weights)
    m = (mantissa * 2.0**53).astype(np.int64)
    e = exponent.astype(np.int64) - 53
    nonzero = m != 0
    # Strip trailing zero bits so the integers stay as small as the ratios allow.
    lowest_bit = np.where(nonzero, m & -m, 1)
    trailing = np.frexp(lowest_bit.astype(np.float64))[1].astype(np.int64) - 1
    m = m >> trailing
    e = e + trailing
    lowest_exponent = np.zeros(num_groups, dtype=np.int64)
    lowest_exponent[group[nonzero]] = np.iinfo(np.int64).max
    np.minimum.at(lowest_exponent, group[nonzero], e[nonzero])
    shift = np.where(nonzero, e - lowest_exponent[group], 0)
    bits = np.where(nonzero, np.frexp(m.astype(np.float64))[1].astype(np.int64) + shift, 0)
    widest = np.zeros(num_groups, dtype=np.int64)
    np.maximum.at(widest, group, bits)
    size = np.bincount(group, minlength=num_groups)
    spare_bits = np.where(size > 1, np.ceil(np.log2(np.maximum(size, 1))), 0).astype(np.int64)
    fits = widest + spare_bits <= _INT64_SAFE_BITS
    return m, shift, fits


def _divmod_scaled(
    total: IntArray, u: IntArray, denominator: IntArray
) -> tuple[IntArray, IntArray]:
    """``divmod(total × u, denominator)`` elementwise, exactly.

    Requires ``0 <= u <= denominator < 2**62`` and ``0 <= total < 2**62``, so the quotient
    and remainder fit int64; where the product itself might not, it is formed in Python
    integers (an object array), which never overflow.
    """
    if np.all(total.astype(np.float64) * u.astype(np.float64) < 2.0**62):
        product = total * u
        return product // denominator, product % denominator
    product = total.astype(object) * u.astype(object)
    divisor = denominator.astype(object)
    return (product // divisor).astype(np.int64), (product % divisor).astype(np.int64)


def _largest_remainder_python(total: int, mantissa: IntArray, shift: IntArray) -> IntArray:
    """One group whose exact integer weights overflow int64: the same rule in Python integers."""
    big = [int(mi) << int(si) for mi, si in zip(mantissa.tolist(), shift.tolist(), strict=True)]
    denominator = sum(big)
    pairs = [divmod(total * x, denominator) for x in big]
    parts = np.array([q for q, _ in pairs], dtype=np.int64)
    shortfall = total - sum(q for q, _ in pairs)
    order = sorted(range(len(big)), key=lambda i: (-pairs[i][1], i))
    parts[order[:shortfall]] += 1
    return parts


def _check_weights(weights: Sequence[float] | NumArray) -> FloatArray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1:
        raise ValueError("weights must be one-dimensional")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    return w


def largest_remainder_by_group(
    totals: Sequence[int] | NumArray, group: NumArray, weights: Sequence[float] | NumArray
) -> IntArray:
    """`largest_remainder` of every group at once: ``totals[g]`` split among ``group == g``.

    The parts of each group are exactly those ``largest_remainder(totals[g], weights[group
    == g])`` returns (ties to the lower position); a group with no members is skipped. All
    groups are done together with integer array arithmetic, so splitting every place's
    target among its neighbourhoods costs one pass, not one call per place.

    >>> largest_remainder_by_group([100, 10], [0, 1, 0, 1, 0], [1, 0.5, 1, 0.5, 1]).tolist()
    [34, 5, 33, 5, 33]
    """
    total = np.asarray(totals, dtype=np.int64)
    if total.ndim != 1:
        raise ValueError("totals must be one-dimensional")
    if np.any(total < 0):
        raise ValueError(f"totals must be 0 or more, got {int(total.min())}")
    if np.any(total >= 2**62):
        raise ValueError(f"total {int(total.max())} is too large (the limit is 2**62 pence)")
    w = _check_weights(weights)
    g = np.asarray(group, dtype=np.int64)
    if g.shape != w.shape:
        raise ValueError("group and weights must have the same length")
    num_groups = total.size
    has_weight = np.bincount(g, weights=(w > 0).astype(np.float64), minlength=num_groups) > 0
    has_members = np.bincount(g, minlength=num_groups) > 0
    empty = has_members & ~has_weight & (total > 0)
    if empty.any():
        bad = int(total[np.flatnonzero(empty)[0]])
        raise ValueError(f"cannot split {bad} between parts whose weights are all zero")

    mantissa, shift, fits = _exact_integer_weights(w, g, num_groups)
    u = mantissa << np.where(fits[g], shift, 0)
    denominator = np.zeros(num_groups, dtype=np.int64)
    np.add.at(denominator, g, np.where(fits[g], u, 0))
    in_int64 = fits[g] & has_weight[g]
    quotient, remainder = _divmod_scaled(total[g[in_int64]], u[in_int64], denominator[g[in_int64]])
    parts = np.zeros(w.size, dtype=np.int64)
    parts[in_int64] = quotient
    given = np.zeros(num_groups, dtype=np.int64)
    np.add.at(given, g[in_int64], quotient)
    # The pennies left in each group go to its largest remainders (ties: lower position).
    members = np.flatnonzero(in_int64)
    order = members[np.lexsort((members, -remainder, g[in_int64]))]
    first = np.searchsorted(g[order], np.arange(num_groups))
    rank = np.arange(order.size) - first[g[order]]
    parts[order] += (rank < (total - given)[g[order]]).astype(np.int64)
    for wide_group in np.flatnonzero(~fits & has_weight):  # rare: weights span > 2**61
        at = np.flatnonzero(g == wide_group)
        parts[at] = _largest_remainder_python(int(total[wide_group]), mantissa[at], shift[at])
    return parts


def largest_remainder(total: int, weights: Sequence[float] | NumArray) -> IntArray:
    """Split ``total`` into non-negative integer parts proportional to ``weights``.

    Each part is the floor of its exact share ``total × w_i / Σw`` plus one for the
    parts with the largest remainders, so the parts sum to ``total`` exactly and each is
    within 1 of its exact share. Equal remainders go to the lower index (deterministic).
    Weights are read as float64 and must be finite and non-negative; all-zero weights
    are allowed only for a zero total.

    >>> largest_remainder(100, [1, 1, 1]).tolist()
    [34, 33, 33]
    >>> largest_remainder(10, [0.5, 0.25, 0.25]).tolist()
    [5, 3, 2]
    >>> largest_remainder(7, [0.0, 2.0, 0.0]).tolist()
    [0, 7, 0]
    >>> int(largest_remainder(10**15, [1 / 3, 1 / 3, 1 / 3]).sum())
    1000000000000000
    >>> largest_remainder(0, []).tolist()
    []
    """
    total = int(total)
    if total < 0:
        raise ValueError(f"total must be 0 or more, got {total}")
    if total >= 2**62:
        raise ValueError(f"total {total} is too large (the limit is 2**62 pence)")
    w = _check_weights(weights)
    if w.size == 0 or not np.any(w > 0):
        if total == 0:
            return np.zeros(w.size, dtype=np.int64)
        raise ValueError(f"cannot split {total} between parts whose weights are all zero")
    return largest_remainder_by_group([total], np.zeros(w.size, dtype=np.int64), w)


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

    from ortools.graph.python import min_cost_flow  # only controlled rounding needs it

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
