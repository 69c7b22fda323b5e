"""A solver point polished to the exact vertex of its active constraints, whatever the solver.

The tie-break's optimum is one vertex of the face of equally good plans, but each solver
reports it only to its own feasibility tolerance. Where two held rows are nearly parallel
(two value-curve pieces of almost the same slope, say), a 1e-10 slip on one of them moves
pounds between cells: HiGHS and OR-Tools published the realistic example £7.76 apart on
two segments of one provider. So the reported point is "polished": the constraints active
at it (rows and column bounds met within `ACTIVE_SHARE`, integer columns at their values)
are solved as equalities; every backend that finds the same vertex then gets the same
floats, and so the same pennies.

The solve must give the same floats in every process, not only for every backend. A
LAPACK least-squares solve does not: its blocked kernels run on as many BLAS threads as
the process allows, and the summation order follows the thread count (on the realistic
example a one-thread and a two-thread solve differed by £1.78 in a cell, and Dask workers
run with one BLAS thread). So `solve_active` is a plain Gaussian elimination with partial
pivoting written in numpy's element-wise operations (no BLAS call, no threads): its
operations and their order depend only on the numbers it is given.

The active system is often taller than it is wide (a degenerate vertex: some rows active
at it follow from others); elimination picks the rows it pivots on, in a fixed way, and
the rows left over are only checked. The polished point is kept only when the active
constraints fix every free column (no pivot below `PIVOT_SHARE` of the largest entry) and
it is as feasible as the solver's own point (`FEASIBLE_SLACK`); otherwise the solver's
point stands. Large programs (more than `MAX_DENSE` free columns or active rows) are not
polished.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from allocator.backends.interface import RawSolution, SolveOptions, TerminationReason
from allocator.backends.registry import get_backend
from allocator.formulation.program import LinearProgram
from allocator.stages.tie_break import tie_break_options
from allocator.types import FloatArray

ACTIVE_SHARE = 1e-9  # a bound counts as met within this × max(1, |bound|)
FEASIBLE_SLACK = 1e-11
"""The polished point may violate a bound by at most the solver's own point's largest
violation, or this (£1e-11m, a thousandth of a penny), whichever is more. Not a solver's
tolerance (1e-7 of £1m is 10p): publishing rounds each figure to a penny either side of
its solver value, so a point 10p over a pace cap published a penny over it."""
MAX_DENSE = 1_500  # a dense elimination of this size takes well under a second
PIVOT_SHARE = 1e-13
"""A pivot this small, relative to the largest entry, means the active rows do not fix a
column. On the realistic example the smallest pivot is 1.7e-11 of the largest entry (the
nearly parallel pair); a column the rows really leave free pivots at rounding level."""


def _at(values: FloatArray, bound: FloatArray) -> np.ndarray:
    finite = np.isfinite(bound)
    scale = np.maximum(1.0, np.abs(np.where(finite, bound, 0.0)))
    return finite & (np.abs(values - np.where(finite, bound, 0.0)) <= ACTIVE_SHARE * scale)


def solve_active(a: FloatArray, b: FloatArray) -> FloatArray | None:
    """The ``x`` with ``a @ x = b`` for a dense ``a`` with at least as many rows as columns.

    Gaussian elimination with partial pivoting (the first largest entry of a column, so
    ties go to the lower row), in element-wise numpy only: the same floats whatever the
    thread count. None when ``a`` does not have full column rank (a pivot below
    `PIVOT_SHARE`). Rows not pivoted on are ignored (the caller checks them).
    """
    m, n = a.shape
    if m < n:
        return None
    work = np.concatenate([a, b[:, None]], axis=1)
    floor = PIVOT_SHARE * max(1.0, float(np.abs(a).max(initial=0.0)))
    for k in range(n):
        column = np.abs(work[k:, k])
        p = int(np.argmax(column))
        if not column[p] > floor:
            return None
        if p:
            work[[k, k + p]] = work[[k + p, k]]
        below = k + 1 + np.flatnonzero(work[k + 1 :, k])
        if below.size:
            cols = k + np.flatnonzero(work[k, k:])
            factors = work[below, k] / work[k, k]
            work[np.ix_(below, cols)] -= factors[:, None] * work[k, cols][None, :]
    x = np.zeros(n)
    for k in range(n - 1, -1, -1):
        x[k] = (work[k, n] - float((work[k, k + 1 : n] * x[k + 1 :]).sum())) / work[k, k]
    return x


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
    rows = program.a[active]  # sparse products: no BLAS, so no thread count in them
    rhs = np.where(row_lo, program.row_lo, program.row_hi)[active] - rows @ value
    solved = solve_active(rows[:, free].toarray(), rhs)
    if solved is None:
        return None
    out = value.copy()
    out[free] = solved
    return out


def polished(program: LinearProgram, solution: RawSolution) -> RawSolution:
    """``solution`` with its point moved to `vertex`, when that is found and feasible.

    The objective is re-summed exactly (``math.fsum``), so it too is the same in every
    process.
    """
    if solution.termination.reason is not TerminationReason.OPTIMAL or solution.x is None:
        return solution
    point = vertex(program, solution.x)
    if point is None:
        return solution
    limit = max(program.max_violation(solution.x), FEASIBLE_SLACK)
    if not program.max_violation(point) <= limit:
        return solution
    objective = math.fsum((program.c * point).tolist()) + program.offset
    return replace(solution, x=point, objective=objective)


def solve_tie_break(
    backend_name: str, program: LinearProgram, options: SolveOptions
) -> RawSolution:
    """The tie-break stage solved from scratch (`tie_break_options`), its optimum `polished`.

    Every path that publishes an allocation solves the stage through here: a cold solve,
    a batch run (exact or warm, in a process pool or on a Dask worker) and the service.
    """
    backend = get_backend(backend_name)
    solution = backend.solve(program, tie_break_options(backend.name, options))
    return polished(program, solution)
