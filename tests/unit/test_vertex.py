"""The tie-break's point polished to the exact vertex of its active constraints."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from allocator.backends.interface import RawSolution, Termination, TerminationReason
from allocator.formulation.program import LinearProgram
from allocator.stages.vertex import polished, vertex


def _program() -> LinearProgram:
    """min x + 2y  s.t.  x + y >= 1,  x - 1.0001 y <= 0,  x, y >= 0: vertex at x ~ y ~ 1/2."""
    a = sp.csr_array(np.array([[1.0, 1.0], [1.0, -1.0001]]))
    return LinearProgram(
        c=np.array([1.0, 2.0]),
        a=a,
        row_lo=np.array([1.0, -np.inf]),
        row_hi=np.array([np.inf, 0.0]),
        col_lo=np.zeros(2),
        col_hi=np.full(2, np.inf),
        is_integer=np.zeros(2, dtype=np.bool_),
    )


def test_two_slightly_different_points_polish_to_the_same_floats() -> None:
    program = _program()
    exact = np.linalg.solve(program.a.toarray(), np.array([1.0, 0.0]))
    for noise in (1e-11, -3e-12):
        near = exact + np.array([noise, -noise])
        assert vertex(program, near) is not None
        assert np.array_equal(vertex(program, near), vertex(program, exact))
    assert np.allclose(vertex(program, exact), exact, atol=1e-15)


def test_a_point_that_fixes_no_vertex_is_left_as_the_solver_gave_it() -> None:
    program = _program()
    inside = np.array([2.0, 3.0])  # no row active: the columns are not fixed
    assert vertex(program, inside) is None
    solution = RawSolution(Termination(TerminationReason.OPTIMAL), 8.0, inside)
    assert polished(program, solution) is solution
    failed = RawSolution(Termination(TerminationReason.INFEASIBLE), None, None)
    assert polished(program, failed) is failed
