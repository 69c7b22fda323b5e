"""The backend contract: every solver sees only a `LinearProgram` and answers a `RawSolution`.

Infeasible, unbounded, time-limited and no-solution outcomes are `TerminationReason`
values, never exceptions; a backend raises only when its library is missing
(`SolverUnavailable`) or itself breaks (`SolverFailed`).

Dual sign convention (every backend, tested in the conformance suite): ``row_duals[i]``
is the change in the optimal objective, in the program's own sense, per unit increase of
row i's active bound; ``reduced_costs[j]`` the same for column j's active bound. For MIPs
both are None: callers fix the integer decisions and re-solve the LP.
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
        return self in (TerminationReason.OPTIMAL, TerminationReason.TIME_LIMIT_FEASIBLE)


@enum.unique
class Capability(enum.StrEnum):
    MIP = "mip"
    DUALS = "duals"
    WARM_START = "warm_start"
    TIME_LIMIT = "time_limit"
    MIP_GAP = "mip_gap"


@dataclass(frozen=True, slots=True)
class SolveOptions:
    time_limit_s: float | None = None
    mip_gap: float = 1e-6
    threads: int | None = None
    verbose: bool = False
    presolve: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Termination:
    reason: TerminationReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RawSolution:
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


class SolverUnavailable(RuntimeError):
    """The backend's library is not installed."""


class SolverFailed(RuntimeError):
    """The solver library itself broke (not an infeasible or unbounded model)."""


class SolverSession(Protocol):
    """A model kept between solves: lexicographic stages and batch runs change it in place."""

    @property
    def program(self) -> LinearProgram: ...

    def solve(self) -> RawSolution: ...

    def set_objective(self, c: FloatArray, sense: Sense, offset: float) -> None: ...

    def add_rows(self, a: sp.csr_array, lo: FloatArray, hi: FloatArray) -> None: ...

    def set_col_bounds(self, indices: IntArray, lo: FloatArray, hi: FloatArray) -> None: ...

    def set_row_bounds(self, indices: IntArray, lo: FloatArray, hi: FloatArray) -> None: ...

    def set_integrality(self, indices: IntArray, is_integer: bool) -> None: ...


class Backend(Protocol):
    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]

    @classmethod
    def is_available(cls) -> bool: ...

    def solve(self, program: LinearProgram, options: SolveOptions) -> RawSolution: ...

    def start(self, program: LinearProgram, options: SolveOptions) -> SolverSession: ...


class RebuildSession:
    """A session for backends without an incremental API: keeps arrays, re-solves from scratch."""

    def __init__(self, backend: Backend, program: LinearProgram, options: SolveOptions) -> None:
        self._backend = backend
        self._program = program
        self._options = options

    @property
    def program(self) -> LinearProgram:
        return self._program

    def solve(self) -> RawSolution:
        return self._backend.solve(self._program, self._options)

    def set_objective(self, c: FloatArray, sense: Sense, offset: float) -> None:
        self._program = self._program.with_objective(c, sense, offset)

    def add_rows(self, a: sp.csr_array, lo: FloatArray, hi: FloatArray) -> None:
        self._program = self._program.with_rows(a, lo, hi)

    def set_col_bounds(self, indices: IntArray, lo: FloatArray, hi: FloatArray) -> None:
        col_lo, col_hi = self._program.col_lo.copy(), self._program.col_hi.copy()
        col_lo[indices], col_hi[indices] = lo, hi
        self._program = replace(self._program, col_lo=col_lo, col_hi=col_hi)

    def set_row_bounds(self, indices: IntArray, lo: FloatArray, hi: FloatArray) -> None:
        row_lo, row_hi = self._program.row_lo.copy(), self._program.row_hi.copy()
        row_lo[indices], row_hi[indices] = lo, hi
        self._program = replace(self._program, row_lo=row_lo, row_hi=row_hi)

    def set_integrality(self, indices: IntArray, is_integer: bool) -> None:
        flags = self._program.is_integer.copy()
        flags[indices] = is_integer
        self._program = replace(self._program, is_integer=flags)


def failure(reason: TerminationReason, detail: str, backend: str, seconds: float) -> RawSolution:
    return RawSolution(
        Termination(reason, detail), None, None, solve_time_s=seconds, backend=backend
    )


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or not np.isfinite(bound):
        return None
    return abs(objective - bound) / max(1.0, abs(objective))


def integrality(program: LinearProgram) -> BoolArray:
    return program.is_integer
