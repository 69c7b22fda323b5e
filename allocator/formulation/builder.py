"""Assemble a `LinearProgram` from named blocks, vectorised.

Columns and rows are added a block at a time from arrays; linear expressions are sparse
matrices (one row per domain unit) plus a constant, so a rule over every provider is one
call, never a Python loop over variables. Row blocks are kept as they come (CSR) and
stacked once, in `build`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from allocator.formulation.index import Block, BlockIndex, Labels
from allocator.formulation.program import LinearProgram
from allocator.types import BoolArray, FloatArray, IntArray, Stage

if TYPE_CHECKING:
    import pandas as pd

INF = np.inf


@dataclass(frozen=True)
class Expr:
    """Linear expressions over the columns: ``matrix @ x + constant``, one per unit."""

    matrix: sp.csr_array
    constant: FloatArray

    def __getitem__(self, rows: IntArray | BoolArray | slice) -> Expr:
        return Expr(sp.csr_array(self.matrix[rows]), self.constant[rows])

    def row_range(self, start: int, stop: int) -> Expr:
        """Rows ``start:stop``, sliced straight from the CSR arrays (no scipy indexing)."""
        m = self.matrix
        first, last = int(m.indptr[start]), int(m.indptr[stop])
        matrix = sp.csr_array(
            (m.data[first:last], m.indices[first:last], m.indptr[start : stop + 1] - first),
            shape=(stop - start, m.shape[1]),
        )
        return Expr(matrix, self.constant[start:stop])

    def __add__(self, other: Expr) -> Expr:
        n = max(self.num_cols, other.num_cols)
        total = self.padded(n).matrix + other.padded(n).matrix
        return Expr(sp.csr_array(total), self.constant + other.constant)

    @property
    def num_cols(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def size(self) -> int:
        return int(self.matrix.shape[0])

    def padded(self, num_cols: int) -> Expr:
        """The same expressions over a wider column space (columns added later)."""
        m = sp.csr_array(self.matrix, copy=False)
        wide = sp.csr_array((m.data, m.indices, m.indptr), shape=(m.shape[0], num_cols))
        return Expr(wide, self.constant)


@dataclass(frozen=True)
class SoftSpec:
    """Breach columns for a soft row: penalty per solver unit, in the named objective stage."""

    penalty: float
    stage: str = Stage.SOFT
    over_penalty: float | None = None  # defaults to `penalty`


@dataclass
class ProgramBuilder:
    cols: BlockIndex = field(default_factory=BlockIndex)
    rows: BlockIndex = field(default_factory=BlockIndex)
    _col_lo: list[FloatArray] = field(default_factory=list)
    _col_hi: list[FloatArray] = field(default_factory=list)
    _integer: list[BoolArray] = field(default_factory=list)
    _row_parts: list[sp.csr_array] = field(default_factory=list)
    _row_lo: list[FloatArray] = field(default_factory=list)
    _row_hi: list[FloatArray] = field(default_factory=list)
    objectives: dict[str, list[tuple[IntArray, FloatArray]]] = field(default_factory=dict)

    @property
    def num_cols(self) -> int:
        return self.cols.size

    def add_columns(
        self,
        name: str,
        labels: Labels | pd.DataFrame,
        lo: FloatArray | float = 0.0,
        hi: FloatArray | float = INF,
        integer: bool = False,
    ) -> Block:
        block = self.cols.add(name, labels)
        n = block.size
        self._col_lo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), (n,)).copy())
        self._col_hi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), (n,)).copy())
        self._integer.append(np.full(n, integer, dtype=np.bool_))
        return block

    def selector(
        self,
        block: Block,
        local: IntArray,
        coef: FloatArray | float,
        num_units: int,
        unit: IntArray,
    ) -> Expr:
        """Expression rows ``unit[i]`` summing ``coef[i] × block column local[i]``."""
        coefs = np.broadcast_to(np.asarray(coef, dtype=np.float64), local.shape)
        matrix = sp.csr_array(
            (coefs, (unit, block.start + local)), shape=(num_units, self.num_cols)
        )
        return Expr(matrix, np.zeros(num_units))

    def zero(self, num_units: int) -> Expr:
        return Expr(sp.csr_array((num_units, self.num_cols)), np.zeros(num_units))

    def add_rows(
        self,
        name: str,
        labels: Labels | pd.DataFrame,
        expr: Expr,
        lo: FloatArray | float = -INF,
        hi: FloatArray | float = INF,
        soft: SoftSpec | None = None,
    ) -> Block | None:
        """Add ``lo <= expr <= hi`` (constants moved to the bounds). Soft rows get breach columns."""
        m = expr.size
        if m == 0:
            return None
        lo_arr = np.broadcast_to(np.asarray(lo, dtype=np.float64), (m,)) - expr.constant
        hi_arr = np.broadcast_to(np.asarray(hi, dtype=np.float64), (m,)) - expr.constant
        matrix = expr.matrix
        if soft is not None:
            if not isinstance(labels, Labels):
                labels = Labels.from_frame(labels)
            local = np.arange(m)
            for side, finite, sign in (("under", lo_arr, 1.0), ("over", hi_arr, -1.0)):
                keep = np.isfinite(finite)
                if not keep.any():
                    continue
                slack = self.add_columns(f"{name}.{side}", labels.take(keep))
                penalty = (
                    soft.penalty
                    if side == "under" or soft.over_penalty is None
                    else soft.over_penalty
                )
                self.add_objective(soft.stage, slack.start + np.arange(slack.size), penalty)
                extra = sp.csr_array(
                    (np.full(slack.size, sign), (local[keep], slack.start + np.arange(slack.size))),
                    shape=(m, self.num_cols),
                )
                matrix = _widen(matrix, self.num_cols) + extra
        block = self.rows.add(name, labels)
        self._row_parts.append(matrix)
        self._row_lo.append(lo_arr.copy())
        self._row_hi.append(hi_arr.copy())
        return block

    def add_objective(self, stage: str, columns: IntArray, coef: FloatArray | float) -> None:
        coefs = np.broadcast_to(np.asarray(coef, dtype=np.float64), columns.shape).copy()
        self.objectives.setdefault(stage, []).append((np.asarray(columns, dtype=np.int64), coefs))

    def objective_vector(self, stage: str) -> FloatArray:
        c = np.zeros(self.num_cols)
        for columns, coefs in self.objectives.get(stage, []):
            np.add.at(c, columns, coefs)
        return c

    def build(self) -> LinearProgram:
        n = self.num_cols
        parts = [_widen(part, n) for part in self._row_parts]
        a = sp.csr_array(sp.vstack(parts, format="csr")) if parts else sp.csr_array((0, n))
        a.sum_duplicates()
        a.eliminate_zeros()
        return LinearProgram(
            c=np.zeros(n),
            a=a,
            row_lo=np.concatenate(self._row_lo) if self._row_lo else np.zeros(0),
            row_hi=np.concatenate(self._row_hi) if self._row_hi else np.zeros(0),
            col_lo=np.concatenate(self._col_lo) if self._col_lo else np.zeros(0),
            col_hi=np.concatenate(self._col_hi) if self._col_hi else np.zeros(0),
            is_integer=np.concatenate(self._integer)
            if self._integer
            else np.zeros(0, dtype=np.bool_),
            rows=self.rows,
            cols=self.cols,
        )


def _widen(matrix: sp.csr_array, num_cols: int) -> sp.csr_array:
    m = sp.csr_array(matrix)
    return sp.csr_array((m.data, m.indices, m.indptr), shape=(m.shape[0], num_cols))
