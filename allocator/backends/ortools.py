"""OR-Tools through its linear solver wrapper: GLOP for LPs, SCIP for MIPs (both in the wheel).

The wrapper has no array interface, so the model is built in one pass over the sparse rows.
"""

from __future__ import annotations

import time
from functools import cache
from importlib.util import find_spec
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from allocator.backends.base import (
    Capability,
    RawSolution,
    RebuildSession,
    SolveOptions,
    SolverUnavailable,
    Termination,
    TerminationReason,
    failure,
    relative_gap,
)
from allocator.formulation.program import LinearProgram, Sense

STATUS_MAP: dict[str, TerminationReason] = {
    "OPTIMAL": TerminationReason.OPTIMAL,
    "FEASIBLE": TerminationReason.TIME_LIMIT_FEASIBLE,
    "INFEASIBLE": TerminationReason.INFEASIBLE,
    "UNBOUNDED": TerminationReason.UNBOUNDED,
    "ABNORMAL": TerminationReason.NUMERICAL_ERROR,
    "MODEL_INVALID": TerminationReason.SOLVER_ERROR,
    "NOT_SOLVED": TerminationReason.TIME_LIMIT_NO_SOLUTION,
}


@cache
def _available() -> bool:
    return find_spec("ortools") is not None


class OrtoolsBackend:
    name: ClassVar[str] = "ortools"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.MIP, Capability.DUALS, Capability.TIME_LIMIT, Capability.MIP_GAP}
    )

    @classmethod
    def is_available(cls) -> bool:
        return _available()

    def start(self, program: LinearProgram, options: SolveOptions) -> RebuildSession:
        return RebuildSession(self, program, options)

    def solve(self, program: LinearProgram, options: SolveOptions) -> RawSolution:
        if not _available():
            raise SolverUnavailable(
                "OR-Tools is not installed: pip install ortools, or use --backend highs"
            )
        from ortools.linear_solver import pywraplp

        solver_name = options.extra.get("solver", "SCIP" if program.is_mip else "GLOP")
        solver = pywraplp.Solver.CreateSolver(solver_name)
        if solver is None:
            raise SolverUnavailable(f"OR-Tools was built without the {solver_name} solver")
        infinity = solver.infinity()
        started = time.perf_counter()
        variables = _variables(solver, program, infinity)
        constraints = _constraints(solver, program, variables, infinity)
        objective = solver.Objective()
        for j in np.flatnonzero(program.c):
            objective.SetCoefficient(variables[j], float(program.c[j]))
        objective.SetOffset(float(program.offset))
        if program.sense is Sense.MAXIMIZE:
            objective.SetMaximization()
        else:
            objective.SetMinimization()
        if options.time_limit_s is not None:
            solver.SetTimeLimit(int(options.time_limit_s * 1000))
        parameters = pywraplp.MPSolverParameters()
        if program.is_mip:
            parameters.SetDoubleParam(parameters.RELATIVE_MIP_GAP, float(options.mip_gap))
        status = solver.Solve(parameters)
        seconds = time.perf_counter() - started
        name = {getattr(pywraplp.Solver, k): k for k in STATUS_MAP}.get(status, "UNKNOWN")
        reason = STATUS_MAP.get(name, TerminationReason.SOLVER_ERROR)
        if reason is TerminationReason.TIME_LIMIT_FEASIBLE and not program.is_mip:
            reason = TerminationReason.TIME_LIMIT_FEASIBLE
        if reason is TerminationReason.INFEASIBLE and program.c.any():
            # GLOP's presolve can say INFEASIBLE for a dual-infeasible (unbounded) LP: if the
            # constraints alone are satisfiable, the model is unbounded.
            probe = self.solve(program.with_objective(np.zeros(program.num_cols)), options)
            if probe.termination.reason is TerminationReason.OPTIMAL:
                reason, name = (
                    TerminationReason.UNBOUNDED,
                    "UNBOUNDED (feasible, objective unbounded)",
                )
        if not reason.has_solution:
            return failure(reason, name, self.name, seconds)
        x = np.array([v.solution_value() for v in variables], dtype=np.float64)
        value = float(program.c @ x) + program.offset
        row_duals = reduced = None
        if not program.is_mip:
            # The wrapper's duals and reduced costs are already d(objective)/d(bound) in the
            # program's own sense (checked in the conformance tests for both senses).
            row_duals = np.array([c.dual_value() for c in constraints], dtype=np.float64)
            reduced = np.array([v.reduced_cost() for v in variables], dtype=np.float64)
        bound = float(solver.Objective().BestBound()) if program.is_mip else value
        return RawSolution(
            termination=Termination(reason, name),
            objective=value,
            x=x,
            row_duals=row_duals,
            reduced_costs=reduced,
            bound=bound,
            gap=relative_gap(value, bound) if program.is_mip else 0.0,
            solve_time_s=seconds,
            iterations=int(solver.iterations()),
            backend=self.name,
        )


def _variables(solver: Any, program: LinearProgram, infinity: float) -> list[Any]:
    lo = np.where(np.isfinite(program.col_lo), program.col_lo, -infinity)
    hi = np.where(np.isfinite(program.col_hi), program.col_hi, infinity)
    return [
        solver.IntVar(float(lo[j]), float(hi[j]), "")
        if program.is_integer[j]
        else solver.NumVar(float(lo[j]), float(hi[j]), "")
        for j in range(program.num_cols)
    ]


def _constraints(
    solver: Any, program: LinearProgram, variables: list[Any], infinity: float
) -> list[Any]:
    a = sp.csr_array(program.a)
    lo = np.where(np.isfinite(program.row_lo), program.row_lo, -infinity)
    hi = np.where(np.isfinite(program.row_hi), program.row_hi, infinity)
    out = []
    for i in range(program.num_rows):
        row = solver.Constraint(float(lo[i]), float(hi[i]))
        for k in range(a.indptr[i], a.indptr[i + 1]):
            row.SetCoefficient(variables[a.indices[k]], float(a.data[k]))
        out.append(row)
    return out
