"""HiGHS through highspy: arrays passed straight in; a native session keeps the basis warm.

HiGHS already reports duals as d(objective)/d(bound) in the model's own sense, for both
minimisation and maximisation, so they are passed through unchanged. Its presolve can
answer "unbounded or infeasible"; the session then re-solves without presolve (and, if
still ambiguous, checks feasibility with a zero objective) so the caller always gets
INFEASIBLE or UNBOUNDED.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from allocator.backends.base import (
    Capability,
    RawSolution,
    SolveOptions,
    SolverFailed,
    SolverUnavailable,
    Termination,
    TerminationReason,
    added_rows,
    changed_col_bounds,
    changed_integrality,
    changed_objective,
    changed_row_bounds,
    check_program,
    failure,
    objective_at,
    relative_gap,
)
from allocator.formulation.program import LinearProgram, Sense
from allocator.types import BoolArray, FloatArray, IntArray

# Native model status -> reason. A limit (time, iterations, solution count, objective
# target, interrupt) maps to TIME_LIMIT_FEASIBLE, downgraded to TIME_LIMIT_NO_SOLUTION when
# HiGHS holds no feasible point. "kUnboundedOrInfeasible" is resolved before this lookup.
STATUS_MAP: dict[str, TerminationReason] = {
    "kOptimal": TerminationReason.OPTIMAL,
    "kModelEmpty": TerminationReason.OPTIMAL,
    "kInfeasible": TerminationReason.INFEASIBLE,
    "kUnbounded": TerminationReason.UNBOUNDED,
    "kTimeLimit": TerminationReason.TIME_LIMIT_FEASIBLE,
    "kIterationLimit": TerminationReason.TIME_LIMIT_FEASIBLE,
    "kSolutionLimit": TerminationReason.TIME_LIMIT_FEASIBLE,
    "kObjectiveBound": TerminationReason.TIME_LIMIT_FEASIBLE,
    "kObjectiveTarget": TerminationReason.TIME_LIMIT_FEASIBLE,
    "kInterrupt": TerminationReason.TIME_LIMIT_FEASIBLE,
    "kPresolveError": TerminationReason.NUMERICAL_ERROR,
    "kSolveError": TerminationReason.NUMERICAL_ERROR,
    "kPostsolveError": TerminationReason.NUMERICAL_ERROR,
    "kModelError": TerminationReason.SOLVER_ERROR,
    "kLoadError": TerminationReason.SOLVER_ERROR,
    "kMemoryLimit": TerminationReason.SOLVER_ERROR,
    "kNotset": TerminationReason.SOLVER_ERROR,
    "kUnknown": TerminationReason.SOLVER_ERROR,
}
AMBIGUOUS = "kUnboundedOrInfeasible"
_FEASIBLE = 2  # HiGHS kSolutionStatusFeasible
_BASIC = 1  # HighsBasisStatus.kBasic
_CONTINUOUS, _INTEGER = 0, 1  # HighsVarType
_COLWISE = 1  # MatrixFormat.kColwise


@cache
def _available() -> bool:
    return find_spec("highspy") is not None


def _highspy() -> Any:
    if not _available():
        raise SolverUnavailable(
            "the 'highs' backend needs highspy: pip install highspy, "
            "or choose another backend (--backend ortools / --backend pulp)"
        )
    import highspy

    return highspy


_banner_lock = threading.Lock()
_banner = {"shown": False}


def _new_highs(hs: Any) -> Any:
    """A Highs object; the first one in a process prints a banner to fd 1, which we silence."""
    with _banner_lock:
        if _banner["shown"]:
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
        _banner["shown"] = True
        return highs


@dataclass(frozen=True, slots=True)
class HighsBasisData:
    """A picklable copy of a HiGHS simplex basis (``HighsBasisStatus`` codes)."""

    col_status: npt.NDArray[np.int8]
    row_status: npt.NDArray[np.int8]


@dataclass(frozen=True, slots=True)
class Ranging:
    """HiGHS sensitivity ranges of an optimal LP basis, in the program's own sense.

    ``cost_lo[j]..cost_hi[j]``: the range of ``c[j]`` over which the current solution stays
    optimal; ``cost_*_objective`` the optimal objective at each end. ``rhs_lo[i]..rhs_hi[i]``:
    the range of row i's active bound (its activity, for a non-binding row) over which
    ``row_duals[i]`` stays valid; ``rhs_*_objective`` the objective at each end.
    ``col_bound_*`` is the same for column bounds. Unlimited ends are ``-inf``/``inf``.
    """

    cost_lo: FloatArray
    cost_hi: FloatArray
    cost_lo_objective: FloatArray
    cost_hi_objective: FloatArray
    rhs_lo: FloatArray
    rhs_hi: FloatArray
    rhs_lo_objective: FloatArray
    rhs_hi_objective: FloatArray
    col_bound_lo: FloatArray
    col_bound_hi: FloatArray
    col_bound_lo_objective: FloatArray
    col_bound_hi_objective: FloatArray


class HighsBackend:
    name: ClassVar[str] = "highs"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.MIP,
            Capability.DUALS,
            Capability.WARM_START,
            Capability.TIME_LIMIT,
            Capability.MIP_GAP,
            Capability.RANGING,
            Capability.FULL_PRECISION,
        }
    )

    @classmethod
    def is_available(cls) -> bool:
        return _available()

    def solve(self, program: LinearProgram, options: SolveOptions) -> RawSolution:
        return HighsSession(program, options).solve()

    def start(
        self,
        program: LinearProgram,
        options: SolveOptions,
        warm_start: RawSolution | None = None,
    ) -> HighsSession:
        return HighsSession(program, options, warm_start)


class HighsSession:
    """One native HiGHS model changed in place between solves.

    HiGHS keeps the simplex basis across cost, bound and row changes, so LP re-solves are
    warm; for MIPs the previous solution is offered as the starting incumbent.
    """

    def __init__(
        self,
        program: LinearProgram,
        options: SolveOptions,
        warm_start: RawSolution | None = None,
    ) -> None:
        check_program(program)
        self._hs = _highspy()
        self._program = program
        self._options = options
        self.highs = _new_highs(self._hs)
        _configure(self.highs, options)
        self._loaded = _pass_model(self.highs, program)
        self._last_x: FloatArray | None = None
        self._last_reason: TerminationReason | None = None
        if warm_start is not None and self._loaded:
            self._warm(warm_start)

    @property
    def program(self) -> LinearProgram:
        return self._program

    # Solving ---------------------------------------------------------------------------------

    def solve(self) -> RawSolution:
        started = time.perf_counter()
        if not self._loaded:
            return failure(
                TerminationReason.SOLVER_ERROR,
                "HiGHS rejected the model (passModel returned kError)",
                HighsBackend.name,
                time.perf_counter() - started,
            )
        if self._program.is_mip and self._last_x is not None:
            self._offer_incumbent(self._last_x)
        status = self._run()
        if status == AMBIGUOUS:
            status = self._disambiguate()
        solution = self._read(status, time.perf_counter() - started)
        self._last_reason = solution.termination.reason
        if solution.x is not None:
            self._last_x = solution.x
        return solution

    def _run(self) -> str:
        try:
            self.highs.run()
        except Exception as error:  # the library itself broke
            raise SolverFailed(
                f"HiGHS failed while solving: {error}; retry with --backend ortools or pulp"
            ) from error
        return str(self.highs.getModelStatus().name)

    def _disambiguate(self) -> str:
        """Presolve could not tell infeasible from unbounded: re-solve without it."""
        h = self.highs
        h.setOptionValue("presolve", "off")
        try:
            status = self._run()
        finally:
            h.setOptionValue("presolve", "choose" if self._options.presolve else "off")
        if status != AMBIGUOUS:
            return status
        # Still ambiguous: the model is unbounded exactly when its constraints are satisfiable.
        probe = _new_highs(self._hs)
        _configure(probe, self._options)
        probe.setOptionValue("presolve", "off")
        zero = self._program.with_objective(np.zeros(self._program.num_cols))
        _pass_model(probe, zero)
        probe.run()
        feasible = str(probe.getModelStatus().name)
        if feasible in ("kOptimal", "kModelEmpty"):
            return "kUnbounded"
        return "kInfeasible" if feasible == "kInfeasible" else AMBIGUOUS

    def _read(self, status: str, seconds: float) -> RawSolution:
        h, program = self.highs, self._program
        info = h.getInfo()
        reason = STATUS_MAP.get(status, TerminationReason.SOLVER_ERROR)
        if (
            reason is TerminationReason.TIME_LIMIT_FEASIBLE
            and int(info.primal_solution_status) != _FEASIBLE
        ):
            reason = TerminationReason.TIME_LIMIT_NO_SOLUTION
        iterations = _iterations(info)
        if not reason.has_solution:
            return failure(reason, status, HighsBackend.name, seconds, iterations)
        solution = h.getSolution()
        n, m = program.num_cols, program.num_rows
        x = np.asarray(solution.col_value, dtype=np.float64)[:n]
        if x.size != n:  # an empty model may come back without values
            x = np.zeros(n)
        objective = objective_at(program, x)
        optimal_lp = not program.is_mip and reason is TerminationReason.OPTIMAL
        row_duals = reduced = None
        basis = None
        if optimal_lp and (bool(solution.dual_valid) or status == "kModelEmpty"):
            row_duals = _sized(solution.row_dual, m)
            reduced = _sized(solution.col_dual, n)
            basis = self._basis()
        if program.is_mip:
            dual_bound = float(info.mip_dual_bound)
            bound = dual_bound if np.isfinite(dual_bound) else None
            gap = relative_gap(objective, bound)
        else:
            bound = objective if optimal_lp else None
            gap = 0.0 if optimal_lp else None
        return RawSolution(
            termination=Termination(reason, status),
            objective=objective,
            x=x,
            row_duals=row_duals,
            reduced_costs=reduced,
            bound=bound,
            gap=gap,
            solve_time_s=seconds,
            iterations=iterations,
            backend=HighsBackend.name,
            basis=basis,
        )

    def _basis(self) -> HighsBasisData | None:
        basis = self.highs.getBasis()
        if not basis.valid:
            return None
        return HighsBasisData(
            np.array(basis.col_status, dtype=np.int8), np.array(basis.row_status, dtype=np.int8)
        )

    def ranging(self) -> Ranging | None:
        """Cost and bound ranging of the last solve; None unless it was an optimal LP."""
        if self._program.is_mip or self._last_reason is not TerminationReason.OPTIMAL:
            return None
        status, rng = self.highs.getRanging()
        if status.name != "kOk" or not rng.valid:
            return None
        n, m = self._program.num_cols, self._program.num_rows
        # highspy sizes the cost records num_col + num_row: only the first num_col are costs.
        return Ranging(
            cost_lo=_sized(rng.col_cost_dn.value_, n),
            cost_hi=_sized(rng.col_cost_up.value_, n),
            cost_lo_objective=_sized(rng.col_cost_dn.objective_, n),
            cost_hi_objective=_sized(rng.col_cost_up.objective_, n),
            rhs_lo=_sized(rng.row_bound_dn.value_, m),
            rhs_hi=_sized(rng.row_bound_up.value_, m),
            rhs_lo_objective=_sized(rng.row_bound_dn.objective_, m),
            rhs_hi_objective=_sized(rng.row_bound_up.objective_, m),
            col_bound_lo=_sized(rng.col_bound_dn.value_, n),
            col_bound_hi=_sized(rng.col_bound_up.value_, n),
            col_bound_lo_objective=_sized(rng.col_bound_dn.objective_, n),
            col_bound_hi_objective=_sized(rng.col_bound_up.objective_, n),
        )

    # Warm starts -----------------------------------------------------------------------------

    def _warm(self, warm: RawSolution) -> None:
        """Use an earlier solution's basis (LPs) or its point (MIP incumbent, or LP crash)."""
        n, m = self._program.num_cols, self._program.num_rows
        basis = warm.basis
        if (
            not self._program.is_mip
            and isinstance(basis, HighsBasisData)
            and basis.col_status.size == n
            and basis.row_status.size <= m
        ):
            # Rows added since the basis was taken enter with their slack basic.
            rows = np.concatenate(
                [basis.row_status, np.full(m - basis.row_status.size, _BASIC, dtype=np.int8)]
            )
            statuses = list(self._hs.HighsBasisStatus.__members__.values())
            by_code = {int(s): s for s in statuses}
            native = self._hs.HighsBasis()
            # highspy only accepts lists of enum members here: one pass, no solver calls.
            native.col_status = [by_code[v] for v in basis.col_status.tolist()]
            native.row_status = [by_code[v] for v in rows.tolist()]
            native.valid = True
            if self.highs.setBasis(native).name == "kOk":
                return
        if warm.x is not None and warm.x.size == n:
            self._offer_incumbent(warm.x)

    def _offer_incumbent(self, x: FloatArray) -> None:
        n = self._program.num_cols
        self.highs.setSolution(n, np.arange(n, dtype=np.int32), np.asarray(x, dtype=np.float64))

    # In-place changes ------------------------------------------------------------------------

    def set_objective(self, c: FloatArray, sense: Sense, offset: float) -> None:
        program = changed_objective(self._program, c, sense, offset)
        n = program.num_cols
        h = self.highs
        _ok(h.changeObjectiveSense(_sense(self._hs, program.sense)), "changeObjectiveSense")
        _ok(h.changeColsCost(n, np.arange(n, dtype=np.int32), program.c), "changeColsCost")
        _ok(h.changeObjectiveOffset(program.offset), "changeObjectiveOffset")
        self._program = program

    def add_rows(self, a: sp.csr_array, lo: FloatArray, hi: FloatArray) -> None:
        program = added_rows(self._program, a, lo, hi)
        new = sp.csr_array(program.a[self._program.num_rows :])
        _ok(
            self.highs.addRows(
                new.shape[0],
                program.row_lo[self._program.num_rows :],
                program.row_hi[self._program.num_rows :],
                new.nnz,
                new.indptr[:-1].astype(np.int32),
                new.indices.astype(np.int32),
                new.data.astype(np.float64),
            ),
            "addRows",
        )
        self._program = program

    def set_col_bounds(self, indices: IntArray, lo: FloatArray, hi: FloatArray) -> None:
        program = changed_col_bounds(self._program, indices, lo, hi)
        idx = np.asarray(indices, dtype=np.int32).reshape(-1)
        _ok(
            self.highs.changeColsBounds(idx.size, idx, program.col_lo[idx], program.col_hi[idx]),
            "changeColsBounds",
        )
        self._program = program

    def set_row_bounds(self, indices: IntArray, lo: FloatArray, hi: FloatArray) -> None:
        program = changed_row_bounds(self._program, indices, lo, hi)
        idx = np.asarray(indices, dtype=np.int32).reshape(-1)
        _ok(
            self.highs.changeRowsBounds(idx.size, idx, program.row_lo[idx], program.row_hi[idx]),
            "changeRowsBounds",
        )
        self._program = program

    def set_integrality(self, indices: IntArray, is_integer: bool | BoolArray) -> None:
        program = changed_integrality(self._program, indices, is_integer)
        idx = np.asarray(indices, dtype=np.int32).reshape(-1)
        kinds = np.where(program.is_integer[idx], _INTEGER, _CONTINUOUS).astype(np.uint8)
        _ok(self.highs.changeColsIntegrality(idx.size, idx, kinds), "changeColsIntegrality")
        self._program = program


def ranging(
    program: LinearProgram, options: SolveOptions | None = None
) -> tuple[RawSolution, Ranging | None]:
    """Solve an LP with HiGHS and return its ranging (None unless the LP is optimal)."""
    if program.is_mip:
        raise ValueError("ranging is defined for LPs only: fix the integers and relax first")
    session = HighsSession(program, options or SolveOptions())
    solution = session.solve()
    return solution, session.ranging()


# Helpers ---------------------------------------------------------------------------------------


def _configure(h: Any, options: SolveOptions) -> None:
    settings: dict[str, Any] = {
        "output_flag": bool(options.verbose),
        "mip_rel_gap": float(options.mip_gap),
        "presolve": "choose" if options.presolve else "off",
    }
    if options.time_limit_s is not None:
        settings["time_limit"] = float(options.time_limit_s)
    if options.threads is not None:
        settings["threads"] = int(options.threads)
    settings.update(options.extra)
    for key, value in settings.items():
        if h.setOptionValue(key, value).name == "kError":
            raise ValueError(f"HiGHS rejected option {key}={value!r} (unknown name or bad value)")


def _pass_model(h: Any, program: LinearProgram) -> bool:
    """Load the program as one column-wise matrix; False when HiGHS rejects it."""
    a = sp.csc_array(program.a, dtype=np.float64)
    status = h.passModel(
        program.num_cols,
        program.num_rows,
        a.nnz,
        _COLWISE,
        -1 if program.sense is Sense.MAXIMIZE else 1,
        float(program.offset),
        np.asarray(program.c, dtype=np.float64),
        np.asarray(program.col_lo, dtype=np.float64),
        np.asarray(program.col_hi, dtype=np.float64),
        np.asarray(program.row_lo, dtype=np.float64),
        np.asarray(program.row_hi, dtype=np.float64),
        a.indptr.astype(np.int32),
        a.indices.astype(np.int32),
        a.data,
        # highspy wants one entry per column even for an LP (an empty array is an error).
        np.where(program.is_integer, _INTEGER, _CONTINUOUS).astype(np.int32),
    )
    return str(status.name) != "kError"


def _sense(hs: Any, sense: Sense) -> Any:
    return hs.ObjSense.kMaximize if sense is Sense.MAXIMIZE else hs.ObjSense.kMinimize


def _ok(status: Any, call: str) -> None:
    if str(status.name) == "kError":
        raise SolverFailed(
            f"HiGHS refused {call}; the session is no longer usable, start a new one"
        )


def _sized(values: Any, size: int) -> FloatArray:
    out = np.asarray(values, dtype=np.float64)[:size]
    return out if out.size == size else np.zeros(size)


def _iterations(info: Any) -> int | None:
    counts = [
        int(info.simplex_iteration_count),
        int(info.ipm_iteration_count),
        int(info.pdlp_iteration_count),
    ]
    used = [c for c in counts if c >= 0]
    return sum(used) if used else None
