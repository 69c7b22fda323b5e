"""The backend contract: every solver sees only a `LinearProgram` and answers a `RawSolution`.

Infeasible, unbounded, time-limited and no-solution outcomes are `TerminationReason`
values, never exceptions. A backend raises only when its library is missing
(`SolverUnavailable`), when the library itself breaks (`SolverFailed`), or when it is
handed invalid input (`ValueError`: NaN data, an unknown native option).

Dual sign convention (every backend, enforced and tested in ``tests/conformance``):
duals are derivatives of the optimal objective, *in the program's own sense*, with
respect to the active bound.

* ``row_duals[i]`` is the change in the optimal objective per unit increase of the
  bound of row i that is active (``row_lo[i]`` or ``row_hi[i]``; either, for an
  equality row). It is 0 for a row with no active bound.
* ``reduced_costs[j]`` is the same for column j's active bound (``col_lo[j]`` or
  ``col_hi[j]``), 0 for a basic column.

So ``c == A.T @ row_duals + reduced_costs`` (stationarity) in both senses. When
minimising, a binding lower bound has a non-negative dual and a binding upper bound a
non-positive one; when maximising the signs swap: raising the rhs of a binding ``<=``
row of a maximisation never lowers the optimum, so its dual is non-negative.

For MIPs ``row_duals`` and ``reduced_costs`` are None: the caller fixes the integer
decisions and re-solves the LP.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol

import numpy as np
import scipy.sparse as sp

from allocator.formulation.program import LinearProgram, Sense
from allocator.types import BoolArray, FloatArray, IntArray


@enum.unique
class TerminationReason(enum.StrEnum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT_FEASIBLE = "time_limit_with_solution"
    TIME_LIMIT_NO_SOLUTION = "time_limit_no_solution"
    NUMERICAL_ERROR = "numerical_error"
    SOLVER_ERROR = "solver_error"

    @property
    def has_solution(self) -> bool:
        """True when the solution carries a feasible primal point ``x``."""
        return self in (TerminationReason.OPTIMAL, TerminationReason.TIME_LIMIT_FEASIBLE)


@enum.unique
class Capability(enum.StrEnum):
    MIP = "mip"
    DUALS = "duals"
    WARM_START = "warm_start"
    TIME_LIMIT = "time_limit"
    MIP_GAP = "mip_gap"
    RANGING = "ranging"
    IIS = "iis"
    FULL_PRECISION = "full_precision"  # solution values to double precision (not CBC's 8 digits)


@dataclass(frozen=True, slots=True)
class SolveOptions:
    """Backend-neutral options.

    ``mip_gap`` is relative. ``extra`` is passed through to the native solver: HiGHS option
    names, OR-Tools ``solver``/``parameters`` keys, or `pulp.COIN_CMD` keyword arguments.
    """

    time_limit_s: float | None = None
    mip_gap: float = 1e-6
    threads: int | None = None
    verbose: bool = False
    presolve: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.time_limit_s is not None and not self.time_limit_s >= 0:
            raise ValueError(f"time_limit_s must be non-negative, got {self.time_limit_s}")
        if not self.mip_gap >= 0:
            raise ValueError(f"mip_gap must be non-negative, got {self.mip_gap}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")


@dataclass(frozen=True, slots=True)
class Termination:
    reason: TerminationReason
    detail: str = ""  # the native status text


@dataclass(frozen=True, slots=True)
class RawSolution:
    """What a backend found, in the program's own sense and column/row order.

    ``objective`` is ``c @ x + offset``; ``bound`` the best proven bound (the objective
    itself for an optimal LP); ``gap`` is ``|objective - bound| / max(1, |objective|)``.
    Duals follow the module's sign convention and are None for MIPs. ``basis`` is an
    opaque, picklable warm-start object that only the producing backend understands.
    """

    termination: Termination
    objective: float | None
    x: FloatArray | None
    row_duals: FloatArray | None = None
    reduced_costs: FloatArray | None = None
    bound: float | None = None
    gap: float | None = None
    solve_time_s: float = 0.0
    iterations: int | None = None
    backend: str = ""
    basis: object | None = None


class SolverSession(Protocol):
    """A model kept between solves: lexicographic stages and batch runs change it in place."""

    @property
    def program(self) -> LinearProgram: ...

    def solve(self) -> RawSolution: ...

    def set_objective(self, c: FloatArray, sense: Sense, offset: float) -> None: ...

    def add_rows(self, a: sp.csr_array, lo: FloatArray, hi: FloatArray) -> None: ...

    def set_col_bounds(self, indices: IntArray, lo: FloatArray, hi: FloatArray) -> None: ...

    def set_row_bounds(self, indices: IntArray, lo: FloatArray, hi: FloatArray) -> None: ...

    def set_integrality(self, indices: IntArray, is_integer: bool | BoolArray) -> None: ...


class Backend(Protocol):
    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]

    @classmethod
    def is_available(cls) -> bool: ...

    def solve(self, program: LinearProgram, options: SolveOptions) -> RawSolution: ...

    def start(
        self,
        program: LinearProgram,
        options: SolveOptions,
        warm_start: RawSolution | None = None,
    ) -> SolverSession: ...


class RebuildSession:
    """A session for backends without an incremental API: keeps arrays, re-solves from scratch."""

    def __init__(self, backend: Backend, program: LinearProgram, options: SolveOptions) -> None:
        check_program(program)
        self._backend = backend
        self._program = program
        self._options = options

    @property
    def program(self) -> LinearProgram:
        return self._program

    def solve(self) -> RawSolution:
        return self._backend.solve(self._program, self._options)

    def set_objective(self, c: FloatArray, sense: Sense, offset: float) -> None:
        self._program = changed_objective(self._program, c, sense, offset)

    def add_rows(self, a: sp.csr_array, lo: FloatArray, hi: FloatArray) -> None:
        self._program = added_rows(self._program, a, lo, hi)

    def set_col_bounds(self, indices: IntArray, lo: FloatArray, hi: FloatArray) -> None:
        self._program = changed_col_bounds(self._program, indices, lo, hi)

    def set_row_bounds(self, indices: IntArray, lo: FloatArray, hi: FloatArray) -> None:
        self._program = changed_row_bounds(self._program, indices, lo, hi)

    def set_integrality(self, indices: IntArray, is_integer: bool | BoolArray) -> None:
        self._program = changed_integrality(self._program, indices, is_integer)


# Program edits shared by every session (they validate, so a native model never diverges) --


def changed_objective(
    program: LinearProgram, c: FloatArray, sense: Sense, offset: float
) -> LinearProgram:
    c = np.asarray(c, dtype=np.float64)
    if c.shape != (program.num_cols,):
        raise ValueError(f"objective has shape {c.shape}, expected ({program.num_cols},)")
    _check_finite("objective", c)
    if not np.isfinite(offset):
        raise ValueError(f"objective offset must be finite, got {offset}")
    return program.with_objective(c, Sense(sense), float(offset))


def added_rows(
    program: LinearProgram, a: sp.csr_array, lo: FloatArray, hi: FloatArray
) -> LinearProgram:
    a = sp.csr_array(a, dtype=np.float64)
    k = a.shape[0]
    if a.shape[1] != program.num_cols:
        raise ValueError(f"new rows have {a.shape[1]} columns, expected {program.num_cols}")
    lo, hi = _bounds_pair("row", lo, hi, k)
    _check_finite("new row coefficients", a.data)
    return program.with_rows(a, lo, hi)


def changed_col_bounds(
    program: LinearProgram, indices: IntArray, lo: FloatArray, hi: FloatArray
) -> LinearProgram:
    idx = _indices(indices, program.num_cols)
    lo, hi = _bounds_pair("column", lo, hi, idx.size)
    col_lo, col_hi = program.col_lo.copy(), program.col_hi.copy()
    col_lo[idx], col_hi[idx] = lo, hi
    return replace(program, col_lo=col_lo, col_hi=col_hi)


def changed_row_bounds(
    program: LinearProgram, indices: IntArray, lo: FloatArray, hi: FloatArray
) -> LinearProgram:
    idx = _indices(indices, program.num_rows)
    lo, hi = _bounds_pair("row", lo, hi, idx.size)
    row_lo, row_hi = program.row_lo.copy(), program.row_hi.copy()
    row_lo[idx], row_hi[idx] = lo, hi
    return replace(program, row_lo=row_lo, row_hi=row_hi)


def changed_integrality(
    program: LinearProgram, indices: IntArray, is_integer: bool | BoolArray
) -> LinearProgram:
    idx = _indices(indices, program.num_cols)
    flags = program.is_integer.copy()
    flags[idx] = np.broadcast_to(np.asarray(is_integer, dtype=np.bool_), idx.shape)
    return replace(program, is_integer=flags)


def _indices(indices: IntArray, size: int) -> IntArray:
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise IndexError(f"indices out of range for {size} positions")
    return idx


def _bounds_pair(
    what: str, lo: FloatArray, hi: FloatArray, size: int
) -> tuple[FloatArray, FloatArray]:
    lo_arr = np.broadcast_to(np.asarray(lo, dtype=np.float64), (size,)).copy()
    hi_arr = np.broadcast_to(np.asarray(hi, dtype=np.float64), (size,)).copy()
    if np.isnan(lo_arr).any() or np.isnan(hi_arr).any():
        raise ValueError(f"{what} bounds contain NaN")
    return lo_arr, hi_arr


def _check_finite(what: str, values: FloatArray) -> None:
    if not np.isfinite(values).all():
        raise ValueError(f"{what} contain NaN or infinite values")


def check_program(program: LinearProgram) -> None:
    """Reject NaN data (some solvers accept it silently and report nonsense)."""
    _check_finite("objective coefficients", program.c)
    _check_finite("constraint coefficients", program.a.data)
    for what, bounds in (
        ("row_lo", program.row_lo),
        ("row_hi", program.row_hi),
        ("col_lo", program.col_lo),
        ("col_hi", program.col_hi),
    ):
        if np.isnan(bounds).any():
            raise ValueError(f"{what} contains NaN")
    if not np.isfinite(program.offset):
        raise ValueError(f"objective offset must be finite, got {program.offset}")


# Helpers for building solutions ------------------------------------------------------------


def failure(
    reason: TerminationReason,
    detail: str,
    backend: str,
    seconds: float,
    iterations: int | None = None,
) -> RawSolution:
    """A solution without a primal point (infeasible, unbounded, no solution, error)."""
    return RawSolution(
        Termination(reason, detail),
        None,
        None,
        solve_time_s=seconds,
        iterations=iterations,
        backend=backend,
    )


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """``|objective - bound| / max(1, |objective|)``, None when either is unknown."""
    if objective is None or bound is None or not np.isfinite(bound):
        return None
    return abs(objective - bound) / max(1.0, abs(objective))


def objective_at(program: LinearProgram, x: FloatArray) -> float:
    """The objective recomputed from ``x`` so every backend reports it the same way."""
    return program.objective_value(x) if program.num_cols else float(program.offset)
