"""PuLP with CBC: the readable reference backend (built row by row on purpose).

PuLP hands CBC the model as an MPS file (12 significant digits) and reads back a
solution file; statuses come as a pair ``(model.status, model.sol_status)``:

* ``(1, 1)`` optimal; ``(1, 2)`` stopped on a limit with a solution (PuLP rewrites CBC's
  "Stopped on time - objective value ..." to status 1, so ``sol_status`` tells them apart);
* ``(0, 0)`` stopped with no solution ("Not Solved");
* ``(-1, -1)`` infeasible, ``(-1, 0)`` "Integer infeasible" (a MIP whose relaxation is
  feasible), ``(-2, -2)`` unbounded; ``(-3, *)`` "Undefined" (a status PuLP does not know).

CBC's row duals (``constraint.pi``) and reduced costs (``variable.dj``) already follow
the shared d(objective)/d(bound) convention for both senses (CBC is run with ``-max``
for maximisation). A ranged row becomes two constraints and its dual is their sum (at
most one is non-zero). CBC's best bound and iteration count are read from its log.

CBC's solution file gives each value to 8 significant digits, too few for the stage
objectives the lexicographic sequence holds. The objective is therefore read from CBC's
log, and a MIP's continuous part is re-solved as an LP with its integers fixed (CBC stops
a MIP a few parts per billion from that LP's optimum), so stages agree with the other
backends within 1e-6 (tested).
"""

from __future__ import annotations

import re
import tempfile
import time
import warnings
from dataclasses import replace
from functools import cache
from importlib.util import find_spec
from pathlib import Path
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
from allocator.errors import SolverFailed, SolverUnavailable
from allocator.formulation.program import LinearProgram, Sense
from allocator.types import FloatArray

# (status, sol_status) -> reason; anything else is a SOLVER_ERROR with PuLP's text.
STATUS_MAP: dict[tuple[int, int], TerminationReason] = {
    (1, 1): TerminationReason.OPTIMAL,
    (1, 2): TerminationReason.TIME_LIMIT_FEASIBLE,
    (0, 0): TerminationReason.TIME_LIMIT_NO_SOLUTION,
    (-1, -1): TerminationReason.INFEASIBLE,
    (-1, 0): TerminationReason.INFEASIBLE,
    (-2, -2): TerminationReason.UNBOUNDED,
    (-3, 0): TerminationReason.SOLVER_ERROR,
    (-3, -1): TerminationReason.SOLVER_ERROR,
}
_BOUND = re.compile(r"^(?:Lower|Upper) bound:\s+(\S+)", re.MULTILINE)
_OBJECTIVE = re.compile(
    r"(?:Search completed - best objective ([^,\s]+))|(?:^Optimal objective (\S+) - )", re.MULTILINE
)
_MIP_ITERATIONS = re.compile(r"^Total iterations:\s+(\d+)", re.MULTILINE)
_LP_ITERATIONS = re.compile(r"objective \S+ - (\d+) iterations")


@cache
def _available() -> bool:
    return find_spec("pulp") is not None


def _pulp() -> Any:
    if not _available():
        raise SolverUnavailable(
            "the 'pulp' backend needs PuLP: pip install pulp, "
            "or choose another backend (--backend highs / --backend ortools)"
        )
    import pulp

    return pulp


class PulpBackend:
    name: ClassVar[str] = "pulp"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.MIP, Capability.DUALS, Capability.TIME_LIMIT, Capability.MIP_GAP}
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
        pulp = _pulp()
        started = time.perf_counter()
        if _empty_row_violated(program):
            return failure(
                TerminationReason.INFEASIBLE,
                "a row without coefficients excludes 0",
                self.name,
                time.perf_counter() - started,
            )
        model = pulp.LpProblem(
            "allocation", pulp.LpMaximize if program.sense is Sense.MAXIMIZE else pulp.LpMinimize
        )
        variables = _variables(pulp, model, program)
        model.setObjective(
            pulp.LpAffineExpression(
                [(variables[j], float(program.c[j])) for j in range(len(variables))]
            )
        )
        rows = _add_rows(pulp, model, program, variables)
        with tempfile.TemporaryDirectory(prefix="allocator-cbc-") as folder:
            log_path = str(options.extra.get("logPath") or Path(folder) / "cbc.log")
            solver = _cbc(pulp, options, program.is_mip, log_path)
            try:
                model.solve(solver)
            except pulp.PulpSolverError as error:
                raise SolverFailed(
                    f"CBC (through PuLP) failed: {error}; retry with --backend highs or ortools"
                ) from error
            log = Path(log_path).read_text(errors="replace") if Path(log_path).exists() else ""
        seconds = time.perf_counter() - started
        key = (int(model.status), int(model.sol_status))
        reason = STATUS_MAP.get(key, TerminationReason.SOLVER_ERROR)
        if key == (0, 0) and options.time_limit_s is None:
            reason = TerminationReason.SOLVER_ERROR  # stopped, but not on our time limit
        detail = (
            f"{pulp.LpStatus.get(model.status, model.status)} / "
            f"{pulp.LpSolution.get(model.sol_status, model.sol_status)}"
        )
        iterations = _iterations(log)
        if not reason.has_solution:
            return failure(reason, detail, self.name, seconds, iterations)
        x = np.array(
            [v.varValue if v.varValue is not None else 0.0 for v in variables], dtype=np.float64
        )
        objective = _reported_objective(log, program, objective_at(program, x))
        optimal_lp = not program.is_mip and reason is TerminationReason.OPTIMAL
        row_duals = reduced = None
        if optimal_lp:
            row_duals = np.zeros(program.num_rows)
            for i, constraints in rows.items():
                row_duals[i] = sum(float(c.pi or 0.0) for c in constraints)
            reduced = np.array([float(v.dj or 0.0) for v in variables], dtype=np.float64)
        if program.is_mip:
            x, objective = self._polish_continuous(program, options, x, objective)
            bound = _bound(log, program.offset)
            if bound is None and reason is TerminationReason.OPTIMAL:
                bound = objective  # CBC prints no bound line when it closes the gap
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
            iterations=iterations,
            backend=self.name,
        )

    def _polish_continuous(
        self, program: LinearProgram, options: SolveOptions, x: FloatArray, objective: float
    ) -> tuple[FloatArray, float]:
        """Re-solve the LP with CBC's integer choices fixed; keep it if it is no worse.

        CBC stops a MIP with the continuous part of its incumbent a few parts per billion
        from that LP's optimum; later stages hold this objective and amplify the difference.
        """
        integer = program.is_integer
        fixed = np.rint(x)
        lp = replace(
            program,
            col_lo=np.where(integer, fixed, program.col_lo),
            col_hi=np.where(integer, fixed, program.col_hi),
            is_integer=np.zeros_like(integer),
        )
        polished = self.solve(lp, options)
        if polished.termination.reason is not TerminationReason.OPTIMAL or polished.x is None:
            return x, objective
        assert polished.objective is not None
        better = polished.objective - objective
        if program.sense is Sense.MINIMIZE:
            better = -better
        return (polished.x, polished.objective) if better >= 0 else (x, objective)


def _variables(pulp: Any, model: Any, program: LinearProgram) -> list[Any]:
    # PuLP >= 3 creates variables through the model; older releases only have LpVariable.
    make = getattr(model, "add_variable", None) or pulp.LpVariable
    variables = []
    for j in range(program.num_cols):
        lo, hi = program.col_lo[j], program.col_hi[j]
        variables.append(
            make(
                f"x{j}",
                float(lo) if np.isfinite(lo) else None,
                float(hi) if np.isfinite(hi) else None,
                pulp.LpInteger if program.is_integer[j] else pulp.LpContinuous,
            )
        )
    return variables


def _add_rows(
    pulp: Any, model: Any, program: LinearProgram, variables: list[Any]
) -> dict[int, list[Any]]:
    """One PuLP constraint per finite side (one for an equality); free and empty rows skipped."""
    a = sp.csr_array(program.a)
    rows: dict[int, list[Any]] = {}
    for i in range(program.num_rows):
        start, stop = a.indptr[i], a.indptr[i + 1]
        if start == stop:
            continue  # checked by _empty_row_violated
        expr = pulp.LpAffineExpression(
            [
                (variables[j], float(v))
                for j, v in zip(a.indices[start:stop], a.data[start:stop], strict=True)
            ]
        )
        lo, hi = program.row_lo[i], program.row_hi[i]
        made = []
        if np.isfinite(lo) and lo == hi:
            made.append(pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{i}", float(lo)))
        else:
            if np.isfinite(lo):
                made.append(pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{i}_lo", float(lo)))
            if np.isfinite(hi):
                made.append(pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{i}_hi", float(hi)))
        for constraint in made:
            model += constraint
        rows[i] = made
    return rows


def _empty_row_violated(program: LinearProgram) -> bool:
    empty = np.diff(sp.csr_array(program.a).indptr) == 0
    return bool(np.any(empty & ((program.row_lo > 0) | (program.row_hi < 0))))


def _cbc(pulp: Any, options: SolveOptions, is_mip: bool, log_path: str) -> Any:
    """PuLP's bundled CBC when present (deprecated in PuLP 3, still shipped), else a system CBC."""
    kwargs: dict[str, Any] = {
        "msg": bool(options.verbose),
        "timeLimit": options.time_limit_s,
        "gapRel": float(options.mip_gap) if is_mip else None,
        "threads": options.threads,
        "presolve": None if options.presolve else False,
    }
    kwargs.update(options.extra)
    kwargs["logPath"] = log_path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        bundled = pulp.PULP_CBC_CMD(**kwargs)
    if bundled.available():
        return bundled
    system = pulp.COIN_CMD(**kwargs)
    if system.available():
        return system
    raise SolverUnavailable(
        "PuLP is installed but finds no CBC binary: pip install 'pulp[cbc]' "
        "(or put cbc on PATH), or choose another backend (--backend highs)"
    )


def _reported_objective(log: str, program: LinearProgram, from_x: float) -> float:
    """CBC's own objective when its log has one that agrees with ``from_x``.

    CBC's solution file gives each value to 8 significant digits, so an objective
    recomputed from it can be off in the 8th digit; the log's "Objective value:" line (a
    MIP's "Search completed - best objective") has them all. Later stages hold this
    objective, so the digits matter.
    """
    found = [mip or lp for mip, lp in _OBJECTIVE.findall(log)]
    if not found:
        return from_x
    try:
        reported = float(found[-1]) + float(program.offset)
    except ValueError:
        return from_x
    agrees = abs(reported - from_x) <= 1e-6 * max(1.0, abs(from_x))
    return reported if np.isfinite(reported) and agrees else from_x


def _bound(log: str, offset: float) -> float | None:
    """CBC's final best bound (it solves without the objective constant, so add it back)."""
    found = _BOUND.findall(log)
    if not found:
        return None
    try:
        value = float(found[-1])
    except ValueError:
        return None
    return value + float(offset) if np.isfinite(value) else None


def _iterations(log: str) -> int | None:
    found = _MIP_ITERATIONS.findall(log) or _LP_ITERATIONS.findall(log)
    return int(found[-1]) if found else None
