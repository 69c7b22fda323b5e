"""The solver-neutral program every backend receives.

Minimise (or maximise) ``c @ x + offset`` subject to ``row_lo <= A @ x <= row_hi`` and
``col_lo <= x <= col_hi``, with ``x[j]`` integer where ``is_integer[j]``. Infinite bounds
are ``-inf``/``inf``. Rows and columns are organised in named blocks (`BlockIndex`)
so that every primal value and dual maps back to the domain.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from allocator.formulation.index import BlockIndex
from allocator.types import BoolArray, FloatArray


@enum.unique
class Sense(enum.StrEnum):
    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"


@dataclass(frozen=True, slots=True)
class LinearProgram:
    """A linear or mixed-integer program held as arrays (A in CSR form)."""

    c: FloatArray
    a: sp.csr_array
    row_lo: FloatArray
    row_hi: FloatArray
    col_lo: FloatArray
    col_hi: FloatArray
    is_integer: BoolArray
    sense: Sense = Sense.MINIMIZE
    offset: float = 0.0
    rows: BlockIndex = field(default_factory=BlockIndex)
    cols: BlockIndex = field(default_factory=BlockIndex)

    def __post_init__(self) -> None:
        m, n = self.a.shape
        for name, arr, size in (
            ("c", self.c, n),
            ("col_lo", self.col_lo, n),
            ("col_hi", self.col_hi, n),
            ("is_integer", self.is_integer, n),
            ("row_lo", self.row_lo, m),
            ("row_hi", self.row_hi, m),
        ):
            if arr.shape != (size,):
                raise ValueError(f"{name} has shape {arr.shape}, expected ({size},)")

    @property
    def num_rows(self) -> int:
        return int(self.a.shape[0])

    @property
    def num_cols(self) -> int:
        return int(self.a.shape[1])

    @property
    def num_nonzeros(self) -> int:
        return int(self.a.nnz)

    @property
    def is_mip(self) -> bool:
        return bool(self.is_integer.any())

    def objective_value(self, x: FloatArray) -> float:
        """Objective at ``x`` in the program's own sense (offset included)."""
        return float(self.c @ x) + self.offset

    def with_objective(
        self, c: FloatArray, sense: Sense = Sense.MINIMIZE, offset: float = 0.0
    ) -> LinearProgram:
        return replace(self, c=np.asarray(c, dtype=np.float64), sense=sense, offset=offset)

    def relaxed(self) -> LinearProgram:
        """The LP relaxation (integrality dropped)."""
        return replace(self, is_integer=np.zeros(self.num_cols, dtype=np.bool_))

    def with_rows(self, a: sp.csr_array, lo: FloatArray, hi: FloatArray) -> LinearProgram:
        """A copy with extra rows appended (row block names are not extended)."""
        stacked = sp.csr_array(sp.vstack([self.a, sp.csr_array(a)], format="csr"))
        return replace(
            self,
            a=stacked,
            row_lo=np.concatenate([self.row_lo, lo]),
            row_hi=np.concatenate([self.row_hi, hi]),
        )

    def max_violation(self, x: FloatArray) -> float:
        """Largest violation of any row or column bound at ``x`` (0 when feasible)."""
        ax = self.a @ x
        parts = [
            np.maximum(self.row_lo - ax, 0.0),
            np.maximum(ax - self.row_hi, 0.0),
            np.maximum(self.col_lo - x, 0.0),
            np.maximum(x - self.col_hi, 0.0),
        ]
        return float(max((p.max(initial=0.0) for p in parts), default=0.0))
