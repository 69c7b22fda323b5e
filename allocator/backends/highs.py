"""HiGHS through highspy: arrays passed straight in; a native session keeps the basis warm."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from functools import cache
from importlib.util import find_spec
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from allocator.backends.base import (
    Capability,
    RawSolution,
    SolveOptions,
    SolverFailed,
    SolverUnavailable,
    Termination,
    TerminationReason,
    failure,
    relative_gap,
)
from allocator.formulation.program import LinearProgram, Sense
from allocator.types import FloatArray, IntArray

# Native model status name -> shared reason (statuses needing a look at the solution are handled below).
STATUS_MAP: dict[str, TerminationReason] = {
    "kOptimal": TerminationReason.OPTIMAL,
    "kModelEmpty": TerminationReason.OPTIMAL,
    "kInfeasible": TerminationReason.INFEASIBLE,
    "kUnbounded": TerminationReason.UNBOUNDED,
    "kModelError": TerminationReason.SOLVER_ERROR,
    "kLoadError": TerminationReason.SOLVER_ERROR,
    "kPresolveError": TerminationReason.NUMERICAL_ERROR,
    "kSolveError": TerminationReason.NUMERICAL_ERROR,
    "kPostsolveError": TerminationReason.NUMERICAL_ERROR,
    "kInterrupt": TerminationReason.SOLVER_ERROR,
}
LIMIT_STATUSES = {
    "kTimeLimit",
    "kIterationLimit",
    "kSolutionLimit",
    "kObjectiveBound",
    "kObjectiveTarget",
}


@cache
def _available() -> bool:
    return find_spec("highspy") is not None


def _highspy() -> Any:
    if not _available():
        raise SolverUnavailable(
            "HiGHS is not installed: pip install highspy, or use --backend pulp"
        )
    import highspy

    return highspy


_quiet = {"banner_shown": False}


def _new_highs(hs: Any) -> Any:
    """A Highs object; the first one in a process prints a banner to fd 1, which we silence."""
    if _quiet["banner_shown"]:
        return hs.Highs()
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        highs = hs.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)
    _quiet["banner_shown"] = True
    return highs


class HighsBackend:
    name: ClassVar[str] = "highs"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.MIP,
            Capability.DUALS,
            Capability.WARM_START,
            Capability.TIME_LIMIT,
            Capability.MIP_GAP,
        }
    )

    @classmethod
    def is_available(cls) -> bool:
        return _available()

    def solve(self, program: LinearProgram, options: SolveOptions) -> RawSolution:
        return HighsSession(program, options).solve()

    def start(self, program: LinearProgram, options: SolveOptions) -> HighsSession:
        return HighsSession(program, options)


class HighsSession:
    """One native HiGHS model, changed in place between solves (the basis is kept)."""

    def __init__(self, program: LinearProgram, options: SolveOptions) -> None:
        hs = _highspy()
        self._hs = hs
        self._program = program
        self._options = options
        self.highs = _new_highs(hs)
        self._configure(options)
        self.highs.passModel(_to_highs_lp(hs, program))

    @property
    def program(self) -> LinearProgram:
        return self._program

    def _configure(self, options: SolveOptions) -> None:
        h = self.highs
        h.setOptionValue("output_flag", bool(options.verbose))
        h.setOptionValue("mip_rel_gap", float(options.mip_gap))
        h.setOptionValue("presolve", "on" if options.presolve else "off")
        if options.time_limit_s is not None:
            h.setOptionValue("time_limit", float(options.time_limit_s))
        if options.threads is not None:
            h.setOptionValue("threads", int(options.threads))
        for key, value in options.extra.items():
            h.setOptionValue(key, value)

    def solve(self) -> RawSolution:
        started = time.perf_counter()
        try:
            self.highs.run()
        except Exception as error:  # the library itself broke
            raise SolverFailed(
                f"HiGHS failed while solving: {error}; try --backend pulp"
            ) from error
        status = self.highs.getModelStatus().name
        if status == "kUnboundedOrInfeasible":
            status = self._disambiguate()
        return self._read(status, time.perf_counter() - started)

    def _disambiguate(self) -> str:
        """Presolve may not tell infeasible from unbounded: re-solve without it."""
        probe = _new_highs(self._hs)
        probe.setOptionValue("output_flag", False)
        probe.setOptionValue("presolve", "off")
        lp = _to_highs_lp(self._hs, self._program.relaxed())
        lp.col_cost_ = np.zeros(self._program.num_cols)  # feasibility only
        probe.passModel(lp)
        probe.run()
        feasible = probe.getModelStatus().name == "kOptimal"
        return "kUnbounded" if feasible else "kInfeasible"

    def _read(self, status: str, seconds: float) -> RawSolution:
        h, program = self.highs, self._program
        info = h.getInfo()
        if status in LIMIT_STATUSES:
            has_solution = int(info.primal_solution_status) == 2
            reason = (
                TerminationReason.TIME_LIMIT_FEASIBLE
                if has_solution
                else TerminationReason.TIME_LIMIT_NO_SOLUTION
            )
        else:
            reason = STATUS_MAP.get(status, TerminationReason.SOLVER_ERROR)
        if not reason.has_solution:
            return failure(reason, status, HighsBackend.name, seconds)
        solution = h.getSolution()
        x = np.asarray(solution.col_value, dtype=np.float64)
        objective = float(program.c @ x) + program.offset if program.num_cols else program.offset
        duals = not program.is_mip and bool(solution.dual_valid)
        bound = float(info.mip_dual_bound) if program.is_mip else objective
        return RawSolution(
            termination=Termination(reason, status),
            objective=objective,
            x=x,
            row_duals=np.asarray(solution.row_dual, dtype=np.float64) if duals else None,
            reduced_costs=np.asarray(solution.col_dual, dtype=np.float64) if duals else None,
            bound=bound,
            gap=(
                float(info.mip_gap) if np.isfinite(info.mip_gap) else relative_gap(objective, bound)
            )
            if program.is_mip
            else 0.0,
            solve_time_s=seconds,
            iterations=int(info.simplex_iteration_count),
            backend=HighsBackend.name,
        )

    # In-place changes ------------------------------------------------------------------------

    def set_objective(self, c: FloatArray, sense: Sense, offset: float) -> None:
        n = self._program.num_cols
        self.highs.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(c, dtype=np.float64))
        self.highs.changeObjectiveSense(_sense(self._hs, sense))
        self.highs.changeObjectiveOffset(float(offset))
        self._program = self._program.with_objective(c, sense, offset)

    def add_rows(self, a: sp.csr_array, lo: FloatArray, hi: FloatArray) -> None:
        a = sp.csr_array(a)
        self.highs.addRows(
            a.shape[0],
            np.asarray(lo, dtype=np.float64),
            np.asarray(hi, dtype=np.float64),
            a.nnz,
            a.indptr[:-1].astype(np.int32),
            a.indices.astype(np.int32),
            a.data.astype(np.float64),
        )
        self._program = self._program.with_rows(a, lo, hi)

    def set_col_bounds(self, indices: IntArray, lo: FloatArray, hi: FloatArray) -> None:
        idx = np.asarray(indices, dtype=np.int32)
        self.highs.changeColsBounds(
            idx.size, idx, np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        )
        col_lo, col_hi = self._program.col_lo.copy(), self._program.col_hi.copy()
        col_lo[indices], col_hi[indices] = lo, hi
        self._program = replace(self._program, col_lo=col_lo, col_hi=col_hi)

    def set_row_bounds(self, indices: IntArray, lo: FloatArray, hi: FloatArray) -> None:
        idx = np.asarray(indices, dtype=np.int32)
        self.highs.changeRowsBounds(
            idx.size, idx, np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        )
        row_lo, row_hi = self._program.row_lo.copy(), self._program.row_hi.copy()
        row_lo[indices], row_hi[indices] = lo, hi
        self._program = replace(self._program, row_lo=row_lo, row_hi=row_hi)

    def set_integrality(self, indices: IntArray, is_integer: bool) -> None:
        idx = np.asarray(indices, dtype=np.int32)
        kind = self._hs.HighsVarType.kInteger if is_integer else self._hs.HighsVarType.kContinuous
        self.highs.changeColsIntegrality(idx.size, idx, np.array([kind] * idx.size))
        flags = self._program.is_integer.copy()
        flags[indices] = is_integer
        self._program = replace(self._program, is_integer=flags)


def _sense(hs: Any, sense: Sense) -> Any:
    return hs.ObjSense.kMaximize if sense is Sense.MAXIMIZE else hs.ObjSense.kMinimize


def _to_highs_lp(hs: Any, program: LinearProgram) -> Any:
    a = sp.csc_array(program.a)
    lp = hs.HighsLp()
    lp.num_col_ = program.num_cols
    lp.num_row_ = program.num_rows
    lp.col_cost_ = np.asarray(program.c, dtype=np.float64)
    lp.col_lower_ = program.col_lo
    lp.col_upper_ = program.col_hi
    lp.row_lower_ = program.row_lo
    lp.row_upper_ = program.row_hi
    lp.offset_ = float(program.offset)
    lp.sense_ = _sense(hs, program.sense)
    lp.a_matrix_.format_ = hs.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    if program.is_mip:
        kinds = np.where(program.is_integer, hs.HighsVarType.kInteger, hs.HighsVarType.kContinuous)
        lp.integrality_ = list(kinds)
    return lp
