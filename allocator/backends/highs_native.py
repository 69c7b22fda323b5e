"""The highspy calls the HiGHS session makes: loading it (and silencing its banner), passing a program in, options, status mapping, and reading back solutions and ranging."""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from allocator.backends.interface import SolveOptions, TerminationReason
from allocator.errors import SolverFailed, SolverUnavailable
from allocator.formulation.program import LinearProgram, Sense
from allocator.types import FloatArray

# Native model status -> reason. A limit (time, iterations, solution count, objective
# target, interrupt) maps to TIME_LIMIT_FEASIBLE, downgraded to TIME_LIMIT_NO_SOLUTION when
# HiGHS holds no feasible point. "kUnboundedOrInfeasible" is resolved before this lookup.
NAME = "highs"
_CONTINUOUS, _INTEGER = 0, 1  # HighsVarType


@cache
def highs_available() -> bool:
    return find_spec("highspy") is not None


_banner_lock = threading.Lock()


_banner = {"shown": False}


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


_COLWISE = 1  # MatrixFormat.kColwise


def _highspy() -> Any:
    if not highs_available():
        raise SolverUnavailable(
            "the 'highs' backend needs highspy: pip install highspy, "
            "or choose another backend (--backend ortools / --backend pulp)"
        )
    import highspy

    return highspy


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


PRIMAL_FEASIBILITY_TOLERANCE = 1e-10
"""Money columns are in £ millions, so HiGHS's default tolerances (1e-7 for an LP, 1e-6 for
a MIP's incumbent) would let a rule's row miss its bound by up to 10p (100p), and the
published pence (rounded from the solver's values) with it; 1e-10 is a hundredth of a
penny, inside the twentieth of a penny that publishing snaps to the whole penny
(`allocator.domain.rounding.SNAP_PENCE`). A MIP's incumbent is held to 1e-9 (a tenth of a
penny): its integer decisions are then re-solved as an LP at the tighter tolerance."""
MIP_FEASIBILITY_TOLERANCE = 1e-9


def _configure(h: Any, options: SolveOptions) -> None:
    settings: dict[str, Any] = {
        "output_flag": bool(options.verbose),
        "primal_feasibility_tolerance": PRIMAL_FEASIBILITY_TOLERANCE,
        "mip_feasibility_tolerance": MIP_FEASIBILITY_TOLERANCE,
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
