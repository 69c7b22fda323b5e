"""PuLP with its bundled CBC: the readable reference backend (built row by row on purpose)."""

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

# (status, sol_status) -> reason; PuLP reports CBC's time limit through sol_status.
STATUS_MAP: dict[tuple[int, int], TerminationReason] = {
    (1, 1): TerminationReason.OPTIMAL,
    (1, 2): TerminationReason.TIME_LIMIT_FEASIBLE,
    (0, 0): TerminationReason.TIME_LIMIT_NO_SOLUTION,
    (-1, -1): TerminationReason.INFEASIBLE,
    (-1, 0): TerminationReason.INFEASIBLE,
    (-2, -2): TerminationReason.UNBOUNDED,
    (-3, -3): TerminationReason.SOLVER_ERROR,
    (0, 2): TerminationReason.TIME_LIMIT_FEASIBLE,
}


@cache
def _available() -> bool:
    return find_spec("pulp") is not None


class PulpBackend:
    name: ClassVar[str] = "pulp"
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
                "PuLP is not installed: pip install pulp, or use --backend highs"
            )
        import pulp

        started = time.perf_counter()
        model = pulp.LpProblem(
            "allocation", pulp.LpMaximize if program.sense is Sense.MAXIMIZE else pulp.LpMinimize
        )
        variables = [
            pulp.LpVariable(
                f"x{j}",
                lowBound=None if not np.isfinite(program.col_lo[j]) else float(program.col_lo[j]),
                upBound=None if not np.isfinite(program.col_hi[j]) else float(program.col_hi[j]),
                cat=pulp.LpInteger if program.is_integer[j] else pulp.LpContinuous,
            )
            for j in range(program.num_cols)
        ]
        model += pulp.lpSum(
            float(program.c[j]) * variables[j] for j in np.flatnonzero(program.c)
        ) + float(program.offset)
        rows = _add_rows(model, program, variables)
        solver = pulp.PULP_CBC_CMD(
            msg=bool(options.verbose),
            timeLimit=options.time_limit_s,
            gapRel=float(options.mip_gap) if program.is_mip else None,
        )
        model.solve(solver)
        seconds = time.perf_counter() - started
        reason = STATUS_MAP.get((model.status, model.sol_status), TerminationReason.SOLVER_ERROR)
        if (
            reason is TerminationReason.INFEASIBLE
            and program.is_mip is False
            and model.sol_status == -2
        ):
            reason = TerminationReason.UNBOUNDED
        detail = (
            f"{pulp.LpStatus.get(model.status, model.status)} / solution status {model.sol_status}"
        )
        if not reason.has_solution:
            return failure(reason, detail, self.name, seconds)
        x = np.array(
            [v.varValue if v.varValue is not None else 0.0 for v in variables], dtype=np.float64
        )
        value = float(program.c @ x) + program.offset
        row_duals = reduced = None
        if not program.is_mip:
            row_duals = np.zeros(program.num_rows)
            for i, constraints in rows.items():
                row_duals[i] = sum(float(c.pi or 0.0) for c in constraints)
            reduced = np.array([float(v.dj or 0.0) for v in variables], dtype=np.float64)
        bound = value if not program.is_mip or reason is TerminationReason.OPTIMAL else None
        return RawSolution(
            termination=Termination(reason, detail),
            objective=value,
            x=x,
            row_duals=row_duals,
            reduced_costs=reduced,
            bound=bound,
            gap=relative_gap(value, bound) if program.is_mip else 0.0,
            solve_time_s=seconds,
            backend=self.name,
        )


def _add_rows(model: Any, program: LinearProgram, variables: list[Any]) -> dict[int, list[Any]]:
    import pulp

    a = sp.csr_array(program.a)
    rows: dict[int, list[Any]] = {}
    for i in range(program.num_rows):
        cols = a.indices[a.indptr[i] : a.indptr[i + 1]]
        vals = a.data[a.indptr[i] : a.indptr[i + 1]]
        expr = pulp.lpSum(float(v) * variables[j] for j, v in zip(cols, vals, strict=True))
        lo, hi = program.row_lo[i], program.row_hi[i]
        made = []
        if np.isfinite(lo) and np.isfinite(hi) and lo == hi:
            made.append(pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{i}", float(lo)))
        else:
            if np.isfinite(lo):
                made.append(pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{i}lo", float(lo)))
            if np.isfinite(hi):
                made.append(pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{i}hi", float(hi)))
        for constraint in made:
            model += constraint
        rows[i] = made
    return rows
