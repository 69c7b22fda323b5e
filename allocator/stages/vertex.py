"""A solver point polished to the exact vertex of its active constraints, whatever the solver.

The tie-break's optimum is one vertex of the face of equally good plans, but each solver
reports it only to its own feasibility tolerance. Where two held rows are nearly parallel
(two value-curve pieces of almost the same slope, say), a 1e-10 slip on one of them moves
pounds between cells: HiGHS and OR-Tools published the realistic example £7.76 apart on
two segments of one provider. So the reported point is "polished": the constraints active
at it (rows and column bounds met within `ACTIVE_SHARE`, integer columns at their values)
are solved as equalities, by one dense least-squares solve in numpy; every backend that
finds the same vertex then gets the same floats, and so the same pennies.

The polished point is kept only when the active constraints fix every free column (full
rank) and it is as feasible as `MAX_VIOLATION`; otherwise the solver's point stands. Large
programs (more than `MAX_DENSE` free columns or active rows) are not polished. The stage
sequence does not call it yet (docs/uniqueness.md says why).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from allocator.backends.interface import RawSolution, SolveOptions, TerminationReason
from allocator.backends.registry import get_backend
from allocator.formulation.program import LinearProgram
from allocator.types import FloatArray

ACTIVE_SHARE = 1e-9  # a bound counts as met within this × max(1, |bound|)
MAX_VIOLATION = 1e-7  # the polished point must be feasible to this (a solver's own tolerance)
MAX_DENSE = 1_500  # a dense solve of this size takes well under a second


def _at(values: FloatArray, bound: FloatArray) -> np.ndarray:
    finite = np.isfinite(bound)
    scale = np.maximum(1.0, np.abs(np.where(finite, bound, 0.0)))
    return finite & (np.abs(values - np.where(finite, bound, 0.0)) <= ACTIVE_SHARE * scale)


def vertex(program: LinearProgram, x: FloatArray) -> FloatArray | None:
    """The exact vertex of the constraints active at ``x``, or None when they do not fix one."""
    at_lo, at_hi = _at(x, program.col_lo), _at(x, program.col_hi)
    fixed = program.is_integer | at_lo | at_hi
    value = np.where(
        program.is_integer, np.rint(x), np.where(at_lo, program.col_lo, program.col_hi)
    )
    value = np.where(fixed, value, 0.0)
    ax = program.a @ x
    row_lo, row_hi = _at(ax, program.row_lo), _at(ax, program.row_hi)
    active = np.flatnonzero(row_lo | row_hi)
    free = np.flatnonzero(~fixed)
    if free.size == 0 or free.size > MAX_DENSE or active.size > MAX_DENSE:
        return None
    rhs = np.where(row_lo, program.row_lo, program.row_hi)[active]
    a = program.a[active]  # rows of a sparse array
    a_dense = a.toarray() if hasattr(a, "toarray") else np.asarray(a)
    rhs = rhs - a_dense[:, fixed] @ value[fixed]
    solved, _, rank, _ = np.linalg.lstsq(a_dense[:, free], rhs, rcond=None)
    if rank < free.size:
        return None
    out = value.copy()
    out[free] = solved
    return out


def polished(program: LinearProgram, solution: RawSolution) -> RawSolution:
    """``solution`` with its point moved to `vertex`, when that is found and feasible."""
    if solution.termination.reason is not TerminationReason.OPTIMAL or solution.x is None:
        return solution
    point = vertex(program, solution.x)
    if point is None or program.max_violation(point) > MAX_VIOLATION:
        return solution
    return replace(solution, x=point, objective=program.objective_value(point))


def solve_tie_break(
    backend_name: str, program: LinearProgram, options: SolveOptions
) -> RawSolution:
    """The tie-break stage solved from scratch, its optimum `polished`."""
    return polished(program, get_backend(backend_name).solve(program, options))
