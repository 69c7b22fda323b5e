"""Sessions (native for HiGHS, rebuild elsewhere) give exactly what fresh solves give."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from allocator.backends.interface import (
    Backend,
    RawSolution,
    RebuildSession,
    SolveOptions,
    SolverSession,
    TerminationReason,
    added_rows,
    changed_col_bounds,
    changed_integrality,
    changed_objective,
    changed_row_bounds,
)
from allocator.backends.registry import get_backend
from allocator.formulation.program import LinearProgram, Sense
from tests.conformance.conftest import TOL, assert_kkt
from tests.conformance.problems import INF, LPS, MIPS, random_lp

NEW_ROW = sp.csr_array(np.array([[0.0, 1.0]]))


def _same(first: RawSolution, second: RawSolution) -> None:
    assert first.termination.reason is second.termination.reason
    if second.objective is None:
        assert first.objective is None
        return
    assert first.objective == pytest.approx(second.objective, abs=TOL)
    assert first.x is not None and second.x is not None
    assert first.x == pytest.approx(second.x, abs=TOL)


def test_objective_and_rows_match_a_fresh_solve(backend: Backend) -> None:
    program = LPS["min-two-rows"].program
    session = backend.start(program, SolveOptions())
    assert session.solve().objective == pytest.approx(5)
    session.set_objective(np.array([2.0, 1.0]), Sense.MINIMIZE, 0.0)
    session.add_rows(NEW_ROW, np.array([-INF]), np.array([2.0]))
    second = session.solve()
    fresh = backend.solve(
        program.with_objective(np.array([2.0, 1.0])).with_rows(
            NEW_ROW, np.array([-INF]), np.array([2.0])
        ),
        SolveOptions(),
    )
    _same(second, fresh)
    assert second.objective == pytest.approx(6)  # y <= 2 forces x >= 2: 2*2 + 2 = 6
    assert session.program.num_rows == 3
    assert_kkt(session.program, second)


def _script(
    session: SolverSession, program: LinearProgram
) -> list[tuple[RawSolution, LinearProgram]]:
    """Apply every kind of change to the session and to a plain program, solving after each."""
    n = program.num_cols
    steps: list[tuple[RawSolution, LinearProgram]] = []
    rng = np.random.default_rng(0)

    def record() -> None:
        steps.append((session.solve(), program))

    record()
    c = rng.uniform(-1, 3, n)
    session.set_objective(c, Sense.MAXIMIZE, 2.5)
    program = changed_objective(program, c, Sense.MAXIMIZE, 2.5)
    record()
    row = sp.csr_array(rng.uniform(0, 1, (2, n)))
    lo, hi = np.array([-INF, 1.0]), np.array([0.5 * n, INF])
    session.add_rows(row, lo, hi)
    program = added_rows(program, row, lo, hi)
    record()
    idx = np.array([0, n - 1])
    session.set_col_bounds(idx, np.array([0.5, -1.0]), np.array([1.0, 0.0]))
    program = changed_col_bounds(program, idx, np.array([0.5, -1.0]), np.array([1.0, 0.0]))
    record()
    rows = np.array([program.num_rows - 1])
    session.set_row_bounds(rows, np.array([2.0]), np.array([3.0]))
    program = changed_row_bounds(program, rows, np.array([2.0]), np.array([3.0]))
    record()
    flags = np.zeros(n, dtype=np.bool_)
    flags[: n // 2] = True
    session.set_integrality(np.arange(n), flags)
    program = changed_integrality(program, np.arange(n), flags)
    record()
    session.set_integrality(np.arange(n), False)
    program = changed_integrality(program, np.arange(n), False)
    record()
    return steps


def test_every_change_matches_a_fresh_solve(backend: Backend) -> None:
    program = random_lp(5, m=12, n=16)
    session = backend.start(program, SolveOptions())
    for position, (solution, expected) in enumerate(_script(session, program)):
        fresh = backend.solve(expected, SolveOptions())
        assert solution.termination.reason is TerminationReason.OPTIMAL, position
        assert solution.objective == pytest.approx(fresh.objective, rel=1e-7, abs=1e-7), position
        assert solution.x is not None
        assert expected.max_violation(solution.x) <= 1e-6, position
        assert (solution.row_duals is None) == expected.is_mip, position
    assert session.program.num_rows == program.num_rows + 2


def test_rebuild_session_matches_the_native_one() -> None:
    program = random_lp(5, m=12, n=16)
    highs = get_backend("highs")
    native = _script(highs.start(program, SolveOptions()), program)
    rebuilt = _script(RebuildSession(highs, program, SolveOptions()), program)
    for (mine, _), (theirs, _) in zip(rebuilt, native, strict=True):
        assert mine.objective == pytest.approx(theirs.objective, rel=1e-9, abs=1e-9)


def test_lexicographic_stages(backend: Backend) -> None:
    """Hold stage one's optimum with a row, then optimise a second objective."""
    case = MIPS["knapsack"]
    session = backend.start(case.program, SolveOptions())
    first = session.solve()
    assert first.objective == pytest.approx(20)
    held = sp.csr_array(case.program.c.reshape(1, -1))
    session.add_rows(held, np.array([20.0]), np.array([INF]))
    session.set_objective(np.array([1.0, 1.0, 1.0]), Sense.MINIMIZE, 0.0)  # fewest items
    second = session.solve()
    assert second.termination.reason is TerminationReason.OPTIMAL
    assert second.objective == pytest.approx(2)
    assert second.x == pytest.approx([0, 1, 1], abs=TOL)


def test_session_validates_changes(backend: Backend) -> None:
    session = backend.start(LPS["min-two-rows"].program, SolveOptions())
    with pytest.raises(ValueError, match="shape"):
        session.set_objective(np.ones(3), Sense.MINIMIZE, 0.0)
    with pytest.raises(IndexError):
        session.set_col_bounds(np.array([5]), np.array([0.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="NaN"):
        session.set_row_bounds(np.array([0]), np.array([np.nan]), np.array([1.0]))
    # A refused change leaves the session usable and unchanged.
    assert session.solve().objective == pytest.approx(5)


def test_solutions_pickle(backend: Backend) -> None:
    result = backend.solve(LPS["equality-and-range"].program, SolveOptions())
    again = pickle.loads(pickle.dumps(result))
    assert again.objective == result.objective
    assert again.termination == result.termination
