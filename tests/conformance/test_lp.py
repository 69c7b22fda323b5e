"""LP optima, duals and the dual sign convention on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from allocator.backends.interface import (
    Backend,
    SolveOptions,
    TerminationReason,
    changed_col_bounds,
    changed_row_bounds,
)
from allocator.backends.registry import get_backend
from allocator.formulation.program import LinearProgram, Sense
from tests.conformance.conftest import BACKENDS, TOL, assert_kkt
from tests.conformance.problems import LPS, random_lp


@pytest.mark.parametrize("name", sorted(LPS))
def test_lp_optimum_and_hand_derived_duals(backend: Backend, name: str) -> None:
    case = LPS[name]
    result = backend.solve(case.program, SolveOptions())
    assert result.termination.reason is TerminationReason.OPTIMAL
    assert result.backend == backend.name
    assert result.objective == pytest.approx(case.objective, abs=TOL)
    assert result.x == pytest.approx(case.x, abs=TOL)
    assert result.row_duals == pytest.approx(case.row_duals, abs=TOL)
    assert result.reduced_costs == pytest.approx(case.reduced_costs, abs=TOL)
    assert result.bound == pytest.approx(case.objective, abs=TOL)
    assert result.gap == 0.0
    assert_kkt(case.program, result)


def _nudged(
    program: LinearProgram, row: int | None, col: int | None, up: bool, delta: float
) -> LinearProgram:
    """The program with one active bound (of a row, else a column) raised by ``delta``."""
    if row is not None:
        lo, hi = program.row_lo[row], program.row_hi[row]
        lo, hi = (
            (lo + delta, hi + delta) if lo == hi else ((lo, hi + delta) if up else (lo + delta, hi))
        )
        return changed_row_bounds(program, np.array([row]), np.array([lo]), np.array([hi]))
    assert col is not None
    lo, hi = program.col_lo[col], program.col_hi[col]
    lo, hi = (lo, hi + delta) if up else (lo + delta, hi)
    return changed_col_bounds(program, np.array([col]), np.array([lo]), np.array([hi]))


@pytest.mark.parametrize("name", sorted(LPS))
def test_duals_are_objective_derivatives(backend: Backend, name: str) -> None:
    """Move each active bound a little and re-solve: the objective moves by dual * step."""
    program = LPS[name].program
    base = backend.solve(program, SolveOptions())
    assert base.x is not None and base.row_duals is not None and base.reduced_costs is not None
    assert base.objective is not None
    delta = 1e-3
    activity = program.a @ base.x
    probes: list[tuple[int | None, int | None, bool, float]] = []
    for i, dual in enumerate(base.row_duals):
        if abs(dual) > TOL:
            up = abs(activity[i] - program.row_hi[i]) < 1e-7
            probes.append((i, None, up, float(dual)))
    for j, dual in enumerate(base.reduced_costs):
        if abs(dual) > TOL:
            up = abs(base.x[j] - program.col_hi[j]) < 1e-7
            probes.append((None, j, up, float(dual)))
    assert probes or not program.c.any()
    for row, col, up, dual in probes:
        moved = backend.solve(_nudged(program, row, col, up, delta), SolveOptions())
        assert moved.objective is not None
        slope = (moved.objective - base.objective) / delta
        assert slope == pytest.approx(dual, abs=1e-5), (row, col)


def test_maximisation_dual_of_binding_upper_row_is_non_negative(backend: Backend) -> None:
    case = LPS["max-mirror"]
    result = backend.solve(case.program, SolveOptions())
    assert case.program.sense is Sense.MAXIMIZE
    assert result.row_duals is not None
    assert result.row_duals[1] > 0.5  # x <= 3 binds: more room raises the maximum
    assert result.row_duals[0] < -0.5  # x + y >= 4 binds: a higher floor lowers it


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_lp_duals_satisfy_kkt(backend: Backend, seed: int) -> None:
    program = random_lp(seed)
    result = backend.solve(program, SolveOptions())
    assert result.termination.reason is TerminationReason.OPTIMAL
    assert_kkt(program, result, tol=1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_lps_agree_across_backends(seed: int) -> None:
    program = random_lp(seed)
    objectives = {}
    for name in BACKENDS:
        result = get_backend(name).solve(program, SolveOptions())
        assert result.termination.reason is TerminationReason.OPTIMAL, name
        assert result.x is not None
        assert program.max_violation(result.x) <= 1e-6, name
        objectives[name] = result.objective
    reference = objectives[BACKENDS[0]]
    for name, value in objectives.items():
        assert value == pytest.approx(reference, rel=1e-6), name
