"""The tie-break's point polished to the exact vertex of its active constraints."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from allocator.backends.interface import RawSolution, Termination, TerminationReason
from allocator.formulation.program import LinearProgram
from allocator.stages import vertex as vertex_module
from allocator.stages.vertex import polished, solve_active, vertex


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
    at_exact = vertex(program, exact)
    assert at_exact is not None
    for noise in (1e-11, -3e-12):
        at_near = vertex(program, exact + np.array([noise, -noise]))
        assert at_near is not None
        assert np.array_equal(at_near, at_exact)
    assert np.allclose(at_exact, exact, atol=1e-15)


def test_a_point_that_fixes_no_vertex_is_left_as_the_solver_gave_it() -> None:
    program = _program()
    inside = np.array([2.0, 3.0])  # no row active: the columns are not fixed
    assert vertex(program, inside) is None
    solution = RawSolution(Termination(TerminationReason.OPTIMAL), 8.0, inside)
    assert polished(program, solution) is solution
    failed = RawSolution(Termination(TerminationReason.INFEASIBLE), None, None)
    assert polished(program, failed) is failed


def test_a_vertex_less_feasible_than_the_solver_point_is_not_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A row left out of the active set can be crossed at the vertex: 5e-8 of £1m is 5p, and
    a point 5p over a pace cap published a penny over it (the property test found one)."""
    program = _program()
    exact = np.linalg.solve(program.a.toarray(), np.array([1.0, 0.0]))
    solver_point = exact + np.array([1e-10, 1e-10])  # feasible
    solution = RawSolution(Termination(TerminationReason.OPTIMAL), 1.5, solver_point)
    for over, kept in ((5e-8, False), (5e-12, True)):
        crossing = exact - np.array([over, 0.0])  # x + y >= 1 missed by ``over``
        assert program.max_violation(crossing) == pytest.approx(over, rel=1e-3)
        monkeypatch.setattr(vertex_module, "vertex", lambda program, x, at=crossing: at)
        assert (polished(program, solution) is solution) is not kept


def test_a_degenerate_vertex_is_solved_on_the_rows_it_pivots_on() -> None:
    """Three rows active at a two-column vertex (one follows from the others): still found."""
    a = np.array([[1.0, 1.0], [1.0, -1.0001], [2.0, -0.0001]])  # row 3 = row 1 + row 2
    b = np.array([1.0, 0.0, 1.0])
    x = solve_active(a, b)
    assert x is not None
    assert np.allclose(a @ x, b, rtol=0, atol=1e-15)
    program = replace(
        _program(),
        a=sp.csr_array(a),
        row_lo=np.array([1.0, -np.inf, 1.0]),
        row_hi=np.array([np.inf, 0.0, np.inf]),
    )
    polished_point = vertex(program, x + 1e-12)
    assert polished_point is not None
    assert np.array_equal(polished_point, x)


def test_rows_that_leave_a_column_free_fix_no_vertex() -> None:
    a = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])  # rank 1: x - y is free
    assert solve_active(a, np.array([1.0, 2.0, 3.0])) is None
    assert solve_active(a[:1], np.array([1.0])) is None  # fewer rows than columns
