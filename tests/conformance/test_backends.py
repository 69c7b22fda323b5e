"""Every available backend on canonical programs with hand-derived optima, duals and statuses."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from allocator.backends.base import SolveOptions, TerminationReason
from allocator.backends.registry import available_backends, get_backend
from allocator.formulation.program import LinearProgram, Sense

INF = np.inf
BACKENDS = available_backends()


def lp(c, rows, lo, hi, col_lo, col_hi, integer=None, sense=Sense.MINIMIZE) -> LinearProgram:  # type: ignore[no-untyped-def]
    n = len(c)
    return LinearProgram(
        c=np.array(c, dtype=float),
        a=sp.csr_array(np.array(rows, dtype=float).reshape(-1, n)),
        row_lo=np.array(lo, dtype=float),
        row_hi=np.array(hi, dtype=float),
        col_lo=np.array(col_lo, dtype=float),
        col_hi=np.array(col_hi, dtype=float),
        is_integer=np.array(integer if integer is not None else [False] * n),
        sense=sense,
    )


# name: (program, objective, x, row duals, reduced costs) -- derivations in the comments.
LPS = {
    # min x + 2y, x + y >= 4, x <= 3: x=3, y=1, obj 5. Raising 4 costs 2 (y); raising 3 saves 1.
    "min-two-rows": (
        lp([1, 2], [[1, 1], [1, 0]], [4, -INF], [INF, 3], [0, 0], [INF, INF]),
        5,
        [3, 1],
        [2, -1],
        [0, 0],
    ),
    # The same as a maximisation of the negative: duals flip sign with the objective.
    "max-two-rows": (
        lp(
            [-1, -2],
            [[1, 1], [1, 0]],
            [4, -INF],
            [INF, 3],
            [0, 0],
            [INF, INF],
            sense=Sense.MAXIMIZE,
        ),
        -5,
        [3, 1],
        [-2, 1],
        [0, 0],
    ),
    # max 3x + 2y, x + y = 10 (equality), 2 <= x - y <= 4 (ranged): x=7, y=3, obj 27.
    # d/d(10): x,y both +1/2 -> +2.5; d/d(upper 4): x +1/2, y -1/2 -> +0.5.
    "equality-and-range": (
        lp([3, 2], [[1, 1], [1, -1]], [10, 2], [10, 4], [0, 0], [INF, INF], sense=Sense.MAXIMIZE),
        27,
        [7, 3],
        [2.5, 0.5],
        [0, 0],
    ),
    # min x - y with a free x: x + y >= 1, x - y >= -3, y <= 5 (column bound). y=5, x=2 ... obj -3.
    # Row 2 binds (x - y = -3): raising its bound raises obj 1:1; y's upper bound doesn't matter then.
    "free-variable": (
        lp([1, -1], [[1, 1], [1, -1]], [1, -3], [INF, INF], [-INF, 0], [INF, 5]),
        -3,
        None,
        [0, 1],
        [0, 0],
    ),
    # min 2x + 3y, x >= -2 (column), x + y >= 1, y <= 10: x at... x unbounded above, cheapest x: x=1,y=0? obj 2.
    # Reduced cost of y: 3 - 2 = 1 (at its lower bound 0); dual of the row: 2.
    "negative-lower-bound": (
        lp([2, 3], [[1, 1]], [1], [INF], [-2, 0], [INF, 10]),
        2,
        [1, 0],
        [2],
        [0, 1],
    ),
}

MIPS = {
    # knapsack: values 10, 13, 7, weights 4, 6, 3, capacity 9 -> items 1 and 2 (value 17)? 1+3: 17, 2+3: 20.
    "knapsack": (
        lp([10, 13, 7], [[4, 6, 3]], [-INF], [9], [0, 0, 0], [1, 1, 1], [True] * 3, Sense.MAXIMIZE),
        20,
    ),
    # fixed charge: min 5u + x, x >= 3, x <= 10u, u binary -> u=1, x=3, obj 8.
    "fixed-charge": (
        lp([5, 1], [[0, 1], [-10, 1]], [3, -INF], [INF, 0], [0, 0], [1, INF], [True, False]),
        8,
    ),
    # general integers: max x + y, 2x + 2y <= 7 -> 3 (LP gives 3.5).
    "general-integer": (
        lp([1, 1], [[2, 2]], [-INF], [7], [0, 0], [10, 10], [True, True], Sense.MAXIMIZE),
        3,
    ),
    # min x, x >= 2.5, integer -> 3 (relaxation 2.5).
    "rounding-up": (lp([1], [[1]], [2.5], [INF], [0], [10], [True]), 3),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(LPS))
def test_lp_optimum_and_duals(backend: str, name: str) -> None:
    program, objective, x, duals, reduced = LPS[name]
    result = get_backend(backend).solve(program, SolveOptions())
    assert result.termination.reason is TerminationReason.OPTIMAL
    assert result.objective == pytest.approx(objective, abs=1e-6)
    assert result.x is not None
    assert program.max_violation(result.x) <= 1e-7
    if x is not None:
        assert result.x == pytest.approx(x, abs=1e-6)
    assert result.row_duals is not None
    assert result.reduced_costs is not None
    assert result.row_duals == pytest.approx(duals, abs=1e-6)
    assert result.reduced_costs == pytest.approx(reduced, abs=1e-6)
    # Stationarity of the Lagrangian: c = A^T y + reduced costs.
    assert program.c == pytest.approx(
        program.a.T @ result.row_duals + result.reduced_costs, abs=1e-6
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(MIPS))
def test_mip_optimum(backend: str, name: str) -> None:
    program, objective = MIPS[name]
    result = get_backend(backend).solve(program, SolveOptions())
    assert result.termination.reason is TerminationReason.OPTIMAL
    assert result.objective == pytest.approx(objective, abs=1e-6)
    assert result.x is not None
    assert np.allclose(
        result.x[program.is_integer], np.rint(result.x[program.is_integer]), atol=1e-6
    )
    assert result.row_duals is None  # MIPs have no duals: callers fix integers and re-solve


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("integer", [False, True])
def test_infeasible_is_a_status(backend: str, integer: bool) -> None:
    # x + y <= 1 and x + y >= 3
    program = lp([1, 1], [[1, 1], [1, 1]], [-INF, 3], [1, INF], [0, 0], [10, 10], [integer] * 2)
    result = get_backend(backend).solve(program, SolveOptions())
    assert result.termination.reason is TerminationReason.INFEASIBLE
    assert result.x is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_unbounded_is_a_status(backend: str) -> None:
    program = lp([-1, 0], [[1, -1]], [-INF], [1], [0, 0], [INF, INF])
    result = get_backend(backend).solve(program, SolveOptions())
    assert result.termination.reason is TerminationReason.UNBOUNDED


def test_time_limited_mip_returns_best_solution_with_gap() -> None:
    rng = np.random.default_rng(5)
    items, rows = 400, 25
    weights = rng.integers(20, 100, size=(rows, items))
    program = lp(
        rng.integers(50, 150, size=items),
        weights,
        [-INF] * rows,
        weights.sum(axis=1) * 0.3,
        [0] * items,
        [1] * items,
        [True] * items,
        Sense.MAXIMIZE,
    )
    result = get_backend("highs").solve(program, SolveOptions(time_limit_s=0.5, mip_gap=0.0))
    assert result.termination.reason is TerminationReason.TIME_LIMIT_FEASIBLE
    assert result.x is not None
    assert program.max_violation(result.x) <= 1e-6
    assert result.gap is not None
    assert result.gap > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_session_matches_fresh_solves(backend: str) -> None:
    program, _, _, _, _ = LPS["min-two-rows"]
    session = get_backend(backend).start(program, SolveOptions())
    first = session.solve()
    session.set_objective(np.array([2.0, 1.0]), Sense.MINIMIZE, 0.0)
    session.add_rows(sp.csr_array(np.array([[0.0, 1.0]])), np.array([-INF]), np.array([2.0]))
    second = session.solve()
    fresh = get_backend(backend).solve(
        program.with_objective(np.array([2.0, 1.0])).with_rows(
            sp.csr_array(np.array([[0.0, 1.0]])), np.array([-INF]), np.array([2.0])
        ),
        SolveOptions(),
    )
    assert first.objective == pytest.approx(5)
    assert second.objective == pytest.approx(fresh.objective)
    assert second.objective == pytest.approx(6)  # y <= 2 forces x >= 2: 2*2 + 2 = 6


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_lps_agree_across_backends(backend: str) -> None:
    rng = np.random.default_rng(11)
    m, n = 40, 60
    a = rng.uniform(0, 1, size=(m, n)) * (rng.uniform(size=(m, n)) < 0.3)
    program = lp(rng.uniform(1, 5, n), a, a.sum(axis=1) * 0.2, [INF] * m, [0] * n, [10] * n)
    reference = get_backend("highs").solve(program, SolveOptions())
    other = get_backend(backend).solve(program, SolveOptions())
    assert other.objective == pytest.approx(reference.objective, rel=1e-6)
