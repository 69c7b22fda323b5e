"""OR-Tools through the model builder's C++ helper: GLOP for LPs, SCIP for MIPs (both in the wheel).

The model is filled from the CSR arrays in one call and every solution vector comes back
as an array. ``extra={"solver": "pdlp"}`` (or "sat", "scip", "glop", "highs") picks
another bundled solver and ``extra={"parameters": "..."}`` appends native
solver-specific parameters (protobuf text for GLOP/PDLP/CP-SAT, ``name = value`` lines
for SCIP).

Quirks handled here: GLOP's presolve reports a dual-infeasible (unbounded) LP as
INFEASIBLE and PDLP reports it as NOT_SOLVED, so an LP with either answer is re-checked
with a zero objective; only GLOP and PDLP return trustworthy LP duals through this
interface (SCIP returns none, and OR-Tools' HiGHS wrapper returns row activities), so
other solvers leave the duals None. GLOP's and PDLP's duals already follow the shared
d(objective)/d(bound) convention in both senses.
"""

from __future__ import annotations

import time
from functools import cache
from importlib.util import find_spec
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from allocator.backends.interface import (
    Capability,
    RawSolution,
    RebuildSession,
    SolveOptions,
    Termination,
    TerminationReason,
    check_program,
    failure,
    objective_at,
    relative_gap,
)
from allocator.errors import SolverUnavailable
from allocator.formulation.program import LinearProgram, Sense

# Native SolveStatus name -> reason. FEASIBLE / CANCELLED_BY_USER mean "stopped on a limit";
# they are downgraded to TIME_LIMIT_NO_SOLUTION when no point came back, and NOT_SOLVED is only
# a time limit when one was set (otherwise it is re-checked or reported as an error).
STATUS_MAP: dict[str, TerminationReason] = {
    "OPTIMAL": TerminationReason.OPTIMAL,
    "FEASIBLE": TerminationReason.TIME_LIMIT_FEASIBLE,
    "CANCELLED_BY_USER": TerminationReason.TIME_LIMIT_FEASIBLE,
    "INFEASIBLE": TerminationReason.INFEASIBLE,
    "UNBOUNDED": TerminationReason.UNBOUNDED,
    "NOT_SOLVED": TerminationReason.TIME_LIMIT_NO_SOLUTION,
    "ABNORMAL": TerminationReason.NUMERICAL_ERROR,
    "MODEL_INVALID": TerminationReason.SOLVER_ERROR,
    "INVALID_SOLVER_PARAMETERS": TerminationReason.SOLVER_ERROR,
    "SOLVER_TYPE_UNAVAILABLE": TerminationReason.SOLVER_ERROR,
    "INCOMPATIBLE_OPTIONS": TerminationReason.SOLVER_ERROR,
    "MODEL_IS_VALID": TerminationReason.SOLVER_ERROR,
    "UNKNOWN_STATUS": TerminationReason.SOLVER_ERROR,
}
DUAL_SOLVERS = frozenset({"glop", "pdlp"})
EXTRA_KEYS = frozenset({"solver", "parameters"})


@cache
def _available() -> bool:
    return find_spec("ortools") is not None


def _helper() -> Any:
    if not _available():
        raise SolverUnavailable(
            "the 'ortools' backend needs OR-Tools: pip install ortools, "
            "or choose another backend (--backend highs / --backend pulp)"
        )
    from ortools.linear_solver.python import model_builder_helper

    return model_builder_helper


class OrtoolsBackend:
    name: ClassVar[str] = "ortools"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.MIP,
            Capability.DUALS,
            Capability.TIME_LIMIT,
            Capability.MIP_GAP,
            Capability.FULL_PRECISION,
        }
    )

    @classmethod
    def is_available(cls) -> bool:
        return _available()

    def start(
        self,
        program: LinearProgram,
        options: SolveOptions,
        warm_start: RawSolution | None = None,
    ) -> RebuildSession:
        return RebuildSession(self, program, options)

    def solve(self, program: LinearProgram, options: SolveOptions) -> RawSolution:
        check_program(program)
        unknown = set(options.extra) - EXTRA_KEYS
        if unknown:
            raise ValueError(
                f"unknown OR-Tools options {sorted(unknown)}; use {sorted(EXTRA_KEYS)}"
            )
        solver = str(options.extra.get("solver", "scip" if program.is_mip else "glop")).lower()
        started = time.perf_counter()
        status, detail, solved = _run(program, options, solver)
        reason = STATUS_MAP.get(status, TerminationReason.SOLVER_ERROR)
        if status == "NOT_SOLVED" and options.time_limit_s is None:
            reason = TerminationReason.SOLVER_ERROR
        if (
            not program.is_mip
            and status in ("INFEASIBLE", "NOT_SOLVED")
            and (options.time_limit_s is None or status == "INFEASIBLE")
        ):
            reason, detail = _recheck(program, options, solver, reason, detail)
        if reason.has_solution and not solved.has_solution():
            reason = TerminationReason.TIME_LIMIT_NO_SOLUTION
        seconds = time.perf_counter() - started
        if not reason.has_solution:
            return failure(reason, detail, self.name, seconds)
        x = np.asarray(solved.variable_values(), dtype=np.float64)
        objective = objective_at(program, x)
        optimal_lp = not program.is_mip and reason is TerminationReason.OPTIMAL
        row_duals = reduced = None
        if optimal_lp and solver in DUAL_SOLVERS:
            row_duals = np.asarray(solved.dual_values(), dtype=np.float64)
            reduced = np.asarray(solved.reduced_costs(), dtype=np.float64)
            if row_duals.shape != (program.num_rows,) or reduced.shape != (program.num_cols,):
                row_duals = reduced = None
        if program.is_mip:
            best = float(solved.best_objective_bound())
            bound = best if np.isfinite(best) else None
            gap = relative_gap(objective, bound)
        else:
            bound = objective if optimal_lp else None
            gap = 0.0 if optimal_lp else None
        return RawSolution(
            termination=Termination(reason, detail),
            objective=objective,
            x=x,
            row_duals=row_duals,
            reduced_costs=reduced,
            bound=bound,
            gap=gap,
            solve_time_s=seconds,
            backend=self.name,
        )


def _run(program: LinearProgram, options: SolveOptions, solver: str) -> tuple[str, str, Any]:
    mbh = _helper()
    model = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(
        np.asarray(program.col_lo, dtype=np.float64),
        np.asarray(program.col_hi, dtype=np.float64),
        np.asarray(program.c, dtype=np.float64),
        np.asarray(program.row_lo, dtype=np.float64),
        np.asarray(program.row_hi, dtype=np.float64),
        sp.csr_matrix(program.a, dtype=np.float64),
    )
    # The helper has no array call for integrality: one pass over the integer columns only.
    for j in np.flatnonzero(program.is_integer).tolist():
        model.set_var_integrality(j, True)
    model.set_maximize(program.sense is Sense.MAXIMIZE)
    model.set_objective_offset(float(program.offset))
    solved = mbh.ModelSolverHelper(solver)
    if not solved.solver_is_supported():
        raise SolverUnavailable(
            f"this OR-Tools build has no {solver!r} solver; "
            "use extra={'solver': 'glop'|'scip'|'pdlp'|'sat'} or another backend"
        )
    solved.enable_output(bool(options.verbose))
    if options.time_limit_s is not None:
        solved.set_time_limit_in_seconds(float(options.time_limit_s))
    parameters = _parameters(solver, options)
    if parameters:
        solved.set_solver_specific_parameters(parameters)
    solved.solve(model)
    status = str(solved.status().name)
    text = str(solved.status_string())
    return status, f"{solver}: {status}" + (f" ({text})" if text else ""), solved


def _recheck(
    program: LinearProgram,
    options: SolveOptions,
    solver: str,
    reason: TerminationReason,
    detail: str,
) -> tuple[TerminationReason, str]:
    """Tell an unbounded LP from an infeasible one: solve for feasibility only."""
    if not program.c.any() and reason is TerminationReason.INFEASIBLE:
        return reason, detail
    zero = program.with_objective(np.zeros(program.num_cols))
    status, probe_detail, _ = _run(zero, options, solver)
    if status == "OPTIMAL":
        return TerminationReason.UNBOUNDED, f"{detail}; feasible with a zero objective"
    if status == "INFEASIBLE":
        return TerminationReason.INFEASIBLE, detail
    return reason, f"{detail}; feasibility check: {probe_detail}"


def _parameters(solver: str, options: SolveOptions) -> str:
    """Shared options in each solver's own syntax (newline-separated works for all)."""
    lines: list[str] = []
    if solver == "scip":
        lines.append(f"limits/gap = {float(options.mip_gap):.17g}")
        if not options.presolve:
            lines.append("presolving/maxrounds = 0")
    elif solver in ("sat", "cp-sat", "cp_sat"):
        lines.append(f"relative_gap_limit:{float(options.mip_gap):.17g}")
        if options.threads is not None:
            lines.append(f"num_workers:{int(options.threads)}")
        if not options.presolve:
            lines.append("cp_model_presolve:false")
    elif solver == "glop":
        if not options.presolve:
            lines.append("use_preprocessing:false")
    elif solver == "pdlp" and options.threads is not None:
        lines.append(f"num_threads:{int(options.threads)}")
    native = options.extra.get("parameters")
    if native:
        lines.append(str(native))
    return "\n".join(lines)
