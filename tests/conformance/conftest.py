"""Fixtures for the backend conformance suite: every test runs once per installed backend."""

from __future__ import annotations

import numpy as np
import pytest

from allocator.backends.interface import Backend, RawSolution
from allocator.backends.registry import available_backends, get_backend
from allocator.formulation.program import LinearProgram, Sense

BACKENDS = available_backends()
TOL = 1e-6


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    return get_backend(request.param)


def assert_kkt(program: LinearProgram, solution: RawSolution, tol: float = TOL) -> None:
    """Primal feasibility, stationarity, complementary slackness and dual sign feasibility.

    With y = d(obj)/d(active row bound) and z = d(obj)/d(active column bound) in the
    program's own sense, an optimal (x, y, z) satisfies c = A.T y + z; a non-zero y[i]
    needs row i at a bound, at its lower bound when sign * y[i] > 0 and at its upper bound
    when sign * y[i] < 0, where sign is +1 when minimising and -1 when maximising.
    """
    x, y, z = solution.x, solution.row_duals, solution.reduced_costs
    assert x is not None and y is not None and z is not None
    assert program.max_violation(x) <= tol
    scale = 1.0 + np.abs(program.c).max(initial=0.0)
    residual = program.c - program.a.T @ y - z
    assert np.abs(residual).max(initial=0.0) <= tol * scale, "stationarity c = A'y + z"
    sign = 1.0 if program.sense is Sense.MINIMIZE else -1.0
    activity = program.a @ x
    for duals, value, lo, hi, what in (
        (y, activity, program.row_lo, program.row_hi, "row"),
        (z, x, program.col_lo, program.col_hi, "column"),
    ):
        slack = max(tol, 1e-7 * (1.0 + np.abs(value).max(initial=0.0)))
        at_lo = np.abs(value - lo) <= slack * 10
        at_hi = np.abs(value - hi) <= slack * 10
        wants_lo = sign * duals > tol
        wants_hi = sign * duals < -tol
        bad = (wants_lo & ~at_lo) | (wants_hi & ~at_hi)
        assert not bad.any(), f"{what}s {np.flatnonzero(bad)} break complementary slackness"
    # Strong duality: the objective equals the duals priced at the bounds they claim active.
    assert solution.objective is not None
    dual_objective = program.offset
    for duals, lo, hi in ((y, program.row_lo, program.row_hi), (z, program.col_lo, program.col_hi)):
        active = np.where(sign * duals > 0, lo, hi)
        used = np.abs(duals) > tol
        dual_objective += float(duals[used] @ active[used])
    assert abs(solution.objective - dual_objective) <= tol * 10 * (1 + abs(dual_objective))
