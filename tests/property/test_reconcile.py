"""Deliberate rounding: totals exact, every figure within a penny of its solver value."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from allocator.domain.rounding import controlled_round, round_grouped, round_to_total


@st.composite
def tables(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, cols = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    mask = np.array(draw(st.lists(st.booleans(), min_size=rows * cols, max_size=rows * cols)))
    mask[: min(rows, cols)] = True
    r, c = np.divmod(np.flatnonzero(mask), cols)
    values = np.array(draw(st.lists(st.floats(0, 1e7), min_size=r.size, max_size=r.size)))
    return values, r, c


@given(st.lists(st.floats(0, 1e9), min_size=1, max_size=30))
def test_round_to_total_is_exact_and_within_a_penny(values: list[float]) -> None:
    arr = np.array(values)
    total = round(arr.sum())
    out = round_to_total(arr, total)
    assert out.sum() == total
    assert np.all(np.abs(out - arr) < 1 + 1e-6)


@given(tables())
def test_controlled_round_keeps_row_totals_and_column_floor_ceiling(table: tuple) -> None:
    values, r, c = table
    # Row totals as a solver would give them: the floor or ceiling of each row's sum.
    row_sums = np.bincount(r, weights=values)
    row_totals = round_grouped(
        row_sums, np.zeros(row_sums.size, dtype=np.int64), np.array([round(values.sum())])
    )
    out = controlled_round(values, r, c, row_totals)
    assert np.array_equal(
        np.bincount(r, weights=out, minlength=row_totals.size).astype(np.int64), row_totals
    )
    col_sums = np.bincount(c, weights=values)
    col_out = np.bincount(c, weights=out, minlength=col_sums.size)
    assert np.all(col_out >= np.floor(col_sums - 1e-6))
    assert np.all(col_out <= np.ceil(col_sums + 1e-6))
    assert np.all(out >= 0)


@given(tables())
def test_controlled_round_with_both_totals_exact(table: tuple) -> None:
    values, r, c = table
    row_sums, col_sums = np.bincount(r, weights=values), np.bincount(c, weights=values)
    total = round(values.sum())
    row_totals = round_to_total(row_sums, total)
    col_totals = round_to_total(col_sums, total)
    out = controlled_round(values, r, c, row_totals, col_totals)
    assert np.array_equal(
        np.bincount(r, weights=out, minlength=row_totals.size).astype(np.int64), row_totals
    )
    assert np.array_equal(
        np.bincount(c, weights=out, minlength=col_totals.size).astype(np.int64), col_totals
    )
    assert np.all(out >= 0)


def test_column_ranges_come_from_the_solver_sums_not_the_snapped_entries() -> None:
    # 25 entries of 10.04 pence sum to 251.0 exactly, though each snaps to 10: the column
    # (say a place held at a 251p pace-of-change floor) must not be published at 250p.
    values = np.array([10.04] * 25 + [5.5])
    col = np.array([0] * 25 + [1])
    row = np.zeros(26, dtype=np.int64)
    out = controlled_round(values, row, col, np.array([256]))
    assert out[:25].sum() == 251
    assert out[25] == 5
