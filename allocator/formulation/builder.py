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


def as_csr(matrix: sp.sparray) -> sp.csr_array:
    """``matrix`` as a CSR array: itself when it already is one (no re-validation)."""
    return matrix if isinstance(matrix, sp.csr_array) else sp.csr_array(matrix)


@dataclass(frozen=True)
class Expr:
    """Linear expressions over the columns: ``matrix @ x + constant``, one per unit."""

    matrix: sp.csr_array
    constant: FloatArray

    def __getitem__(self, rows: IntArray | BoolArray | slice) -> Expr:
        return Expr(as_csr(self.matrix[rows]), self.constant[rows])

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
        return Expr(as_csr(total), self.constant + other.constant)

    @property
    def num_cols(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def size(self) -> int:
        return int(self.matrix.shape[0])

    def padded(self, num_cols: int) -> Expr:
        """The same expressions over a wider column space (columns added later)."""
        m = self.matrix
        if isinstance(m, sp.csr_array) and m.shape[1] == num_cols:
            return self  # already that wide: no new matrix to validate
        return Expr(_widen(m, num_cols), self.constant)


@dataclass(frozen=True)
class SoftSpec:
    """Breach columns for a soft row: penalty per solver unit, in the named objective stage."""

    penalty: float
    stage: str = Stage.SOFT
    over_penalty: float | None = None  # defaults to `penalty`


@dataclass(frozen=True)
class BuilderMark:
    """The lengths of a builder's lists at one point of a build."""

    col_blocks: int
    row_blocks: int
    col_parts: int
    row_parts: int
    objectives: dict[str, int]
    num_cols: int
    num_rows: int


@dataclass(frozen=True)
class BuilderTail:
    """What a build added after ``start``: appended as it is to a build at the same point."""

    start: BuilderMark
    col_blocks: list[Block]
    row_blocks: list[Block]
    col_lo: list[FloatArray]
    col_hi: list[FloatArray]
    integer: list[BoolArray]
    row_parts: list[sp.csr_array]
    row_lo: list[FloatArray]
    row_hi: list[FloatArray]
    objectives: dict[str, list[tuple[IntArray, FloatArray]]]


def _blocks_upto(index: BlockIndex, count: int) -> BlockIndex:
    blocks = dict(list(index.blocks.items())[:count])
    return BlockIndex(blocks, max((b.stop for b in blocks.values()), default=0))


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

    def mark(self) -> BuilderMark:
        """How far the build has gone (every list is append-only)."""
        return BuilderMark(
            len(self.cols.blocks),
            len(self.rows.blocks),
            len(self._col_lo),
            len(self._row_parts),
            {stage: len(parts) for stage, parts in self.objectives.items()},
            self.cols.size,
            self.rows.size,
        )

    def since(self, mark: BuilderMark) -> BuilderTail:
        """What this build added after ``mark``."""
        return BuilderTail(
            mark,
            list(self.cols.blocks.values())[mark.col_blocks :],
            list(self.rows.blocks.values())[mark.row_blocks :],
            self._col_lo[mark.col_parts :],
            self._col_hi[mark.col_parts :],
            self._integer[mark.col_parts :],
            self._row_parts[mark.row_parts :],
            self._row_lo[mark.row_parts :],
            self._row_hi[mark.row_parts :],
            {
                stage: parts[mark.objectives.get(stage, 0) :]
                for stage, parts in self.objectives.items()
                if len(parts) > mark.objectives.get(stage, 0)
            },
        )

    def append(self, tail: BuilderTail) -> None:
        """Add another build's tail; this build must be where that one was (`mark`)."""
        if self.mark() != tail.start:
            raise ValueError("the tail was recorded from a build at another point")
        for index, blocks in ((self.cols, tail.col_blocks), (self.rows, tail.row_blocks)):
            for block in blocks:
                index.blocks[block.name] = block
                index.size = block.stop
        self._col_lo += tail.col_lo
        self._col_hi += tail.col_hi
        self._integer += tail.integer
        self._row_parts += tail.row_parts
        self._row_lo += tail.row_lo
        self._row_hi += tail.row_hi
        for stage, parts in tail.objectives.items():
            self.objectives.setdefault(stage, []).extend(parts)

    def upto(self, mark: BuilderMark) -> ProgramBuilder:
        """A new builder holding what this one held at ``mark`` (sharing its arrays)."""
        return ProgramBuilder(
            cols=_blocks_upto(self.cols, mark.col_blocks),
            rows=_blocks_upto(self.rows, mark.row_blocks),
            _col_lo=self._col_lo[: mark.col_parts],
            _col_hi=self._col_hi[: mark.col_parts],
            _integer=self._integer[: mark.col_parts],
            _row_parts=self._row_parts[: mark.row_parts],
            _row_lo=self._row_lo[: mark.row_parts],
            _row_hi=self._row_hi[: mark.row_parts],
            objectives={stage: self.objectives[stage][:n] for stage, n in mark.objectives.items()},
        )

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
    """The same rows over ``num_cols`` columns, sharing the arrays (no copy)."""
    m = matrix if isinstance(matrix, sp.csr_array) else sp.csr_array(matrix)
    if m.shape[1] == num_cols:
        return m
    return sp.csr_array((m.data, m.indices, m.indptr), shape=(m.shape[0], num_cols))
