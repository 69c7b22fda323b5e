"""Canonical programs with hand-derived optima and duals, shared by the conformance tests.

Dual convention (see `allocator.backends.interface`): ``y[i] = d(objective)/d(active bound of row i)``
and ``z[j]`` the same for column j, in the program's own sense, so ``c = A.T @ y + z``.
Every LP here is non-degenerate (each basic variable strictly inside its bounds, every
non-basic one with a non-zero reduced cost), so its duals are unique and every backend
must return exactly these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from allocator.formulation.program import LinearProgram, Sense

INF = np.inf


def program(
    c: list[float],
    rows: list[list[float]],
    lo: list[float],
    hi: list[float],
    col_lo: list[float],
    col_hi: list[float],
    integer: list[bool] | None = None,
    sense: Sense = Sense.MINIMIZE,
    offset: float = 0.0,
) -> LinearProgram:
    n = len(c)
    return LinearProgram(
        c=np.array(c, dtype=np.float64),
        a=sp.csr_array(np.array(rows, dtype=np.float64).reshape(-1, n)),
        row_lo=np.array(lo, dtype=np.float64),
        row_hi=np.array(hi, dtype=np.float64),
        col_lo=np.array(col_lo, dtype=np.float64),
        col_hi=np.array(col_hi, dtype=np.float64),
        is_integer=np.array(integer if integer is not None else [False] * n, dtype=np.bool_),
        sense=sense,
        offset=offset,
    )


@dataclass(frozen=True)
class LPCase:
    program: LinearProgram
    objective: float
    x: list[float]
    row_duals: list[float]
    reduced_costs: list[float]


@dataclass(frozen=True)
class MIPCase:
    program: LinearProgram
    objective: float
    x: list[float]
    relaxation: float  # optimum of the LP relaxation (differs from the MIP's)


LPS: dict[str, LPCase] = {
    # min x + 2y  s.t.  r0: x + y >= 4,  r1: x <= 3,  x, y >= 0.
    # x is cheaper, so x = 3 (r1 binds) and y = 1 (r0 binds): objective 5.
    # Basis {x, y}: c = A.T y  ->  1 = y0 + y1, 2 = y0  ->  y0 = 2, y1 = -1.
    # Check: r0 rhs 4 -> 5 needs one more y: +2. r1 rhs 3 -> 4 swaps a y for an x: -1.
    "min-two-rows": LPCase(
        program([1, 2], [[1, 1], [1, 0]], [4, -INF], [INF, 3], [0, 0], [INF, INF]),
        objective=5,
        x=[3, 1],
        row_duals=[2, -1],
        reduced_costs=[0, 0],
    ),
    # The same feasible set, maximising the negated objective: optimum -5 at the same x and
    # every dual flips sign. The binding <= row r1 now has a non-negative dual (+1), the
    # binding >= row r0 a non-positive one (-2).
    "max-mirror": LPCase(
        program(
            [-1, -2],
            [[1, 1], [1, 0]],
            [4, -INF],
            [INF, 3],
            [0, 0],
            [INF, INF],
            None,
            Sense.MAXIMIZE,
        ),
        objective=-5,
        x=[3, 1],
        row_duals=[-2, 1],
        reduced_costs=[0, 0],
    ),
    # max 3x + 2y  s.t.  r0: x + y = 10 (equality),  r1: 2 <= x - y <= 4 (ranged),  x, y >= 0.
    # x is worth more, so push x - y to its upper side: x = 7, y = 3, objective 27.
    # 3 = y0 + y1, 2 = y0 - y1  ->  y0 = 2.5, y1 = 0.5 (r1's active bound is its upper, 4).
    "equality-and-range": LPCase(
        program(
            [3, 2], [[1, 1], [1, -1]], [10, 2], [10, 4], [0, 0], [INF, INF], None, Sense.MAXIMIZE
        ),
        objective=27,
        x=[7, 3],
        row_duals=[2.5, 0.5],
        reduced_costs=[0, 0],
    ),
    # min x + 2y  with x free, 0 <= y <= 10:  r0: x + y >= 1,  r1: -x + y >= 3.
    # Both rows bind: y = 2, x = -1 (the free variable ends negative), objective 3.
    # 1 = y0 - y1, 2 = y0 + y1  ->  y0 = 1.5, y1 = 0.5, both >= 0 as a minimisation needs.
    "free-variable": LPCase(
        program([1, 2], [[1, 1], [-1, 1]], [1, 3], [INF, INF], [-INF, 0], [INF, 10]),
        objective=3,
        x=[-1, 2],
        row_duals=[1.5, 0.5],
        reduced_costs=[0, 0],
    ),
    # min 2x + y  with -2 <= x <= 10, -1 <= y <= 5:  r0: x + y >= 1,  r1: x - y <= 4.
    # y covers r0 at cost 1 a unit, x at 2, so x sits at its negative lower bound -2 and
    # y = 3 (r0 binds; r1: -5 <= 4 is slack). Objective -4 + 3 = -1.
    # y basic: 1 = y0  ->  y0 = 1, y1 = 0; z_x = 2 - y0 = 1 (x's lower bound -2 -> -1 costs 1).
    "negative-lower-bound": LPCase(
        program([2, 1], [[1, 1], [1, -1]], [1, -INF], [INF, 4], [-2, -1], [10, 5]),
        objective=-1,
        x=[-2, 3],
        row_duals=[1, 0],
        reduced_costs=[1, 0],
    ),
    # max 3x + y  with 0 <= x <= 4, y >= 0:  r0: x + y <= 10,  r1: 2x + y >= 12.
    # x is worth more per unit of r0: x = 4 (its upper bound), y = 6; r1: 14 >= 12 slack.
    # y basic: 1 = y0  ->  y0 = 1; z_x = 3 - y0 = 2 (raising x's upper bound 4 -> 5 gives
    # x = 5, y = 5: 20 vs 18). Objective 18.
    "max-column-at-upper": LPCase(
        program(
            [3, 1], [[1, 1], [2, 1]], [-INF, 12], [10, INF], [0, 0], [4, INF], None, Sense.MAXIMIZE
        ),
        objective=18,
        x=[4, 6],
        row_duals=[1, 0],
        reduced_costs=[2, 0],
    ),
    # min x + y + 0.5z + 10 (offset)  with x, y >= 0, 0 <= z <= 10:
    #   r0: 3 <= x + 2y <= 8 (ranged, lower side binds),  r1: z - y = 1 (equality).
    # Substituting z = y + 1, a unit of r0 costs 1 via x and (1 + 0.5) / 2 = 0.75 via y, so
    # x = 0, y = 1.5, z = 2.5; objective 1.5 + 1.25 + 10 = 12.75.
    # Basis {y, z}: 1 = 2 y0 - y1, 0.5 = y1  ->  y1 = 0.5, y0 = 0.75; z_x = 1 - y0 = 0.25.
    "range-at-lower-with-offset": LPCase(
        program(
            [1, 1, 0.5],
            [[1, 2, 0], [0, -1, 1]],
            [3, 1],
            [8, 1],
            [0, 0, 0],
            [INF, INF, 10],
            offset=10,
        ),
        objective=12.75,
        x=[0, 1.5, 2.5],
        row_duals=[0.75, 0.5],
        reduced_costs=[0.25, 0, 0],
    ),
    # No rows at all: min x - y with 1 <= x <= 3, -2 <= y <= 4 -> x = 1, y = 4, objective -3;
    # both columns sit at a bound: z = c = (1, -1) (x at its lower, y at its upper).
    "bounds-only": LPCase(
        program([1, -1], [], [], [], [1, -2], [3, 4]),
        objective=-3,
        x=[1, 4],
        row_duals=[],
        reduced_costs=[1, -1],
    ),
}

MIPS: dict[str, MIPCase] = {
    # 0-1 knapsack, max 10a + 13b + 7c, 4a + 6b + 3c <= 9: {b, c} (weight 9) = 20 beats
    # {a, c} = 17 and any single item. Relaxation by value/weight: a, c, then 2/6 of b = 21 1/3.
    "knapsack": MIPCase(
        program(
            [10, 13, 7],
            [[4, 6, 3]],
            [-INF],
            [9],
            [0, 0, 0],
            [1, 1, 1],
            [True] * 3,
            Sense.MAXIMIZE,
        ),
        objective=20,
        x=[0, 1, 1],
        relaxation=10 + 7 + 13 * 2 / 6,
    ),
    # Fixed charge: min 5u + x, x >= 3, x <= 10u, u binary -> open (u = 1), x = 3: 8.
    # The relaxation opens a fraction u = 0.3: 1.5 + 3 = 4.5.
    "fixed-charge": MIPCase(
        program([5, 1], [[0, 1], [-10, 1]], [3, -INF], [INF, 0], [0, 0], [1, INF], [True, False]),
        objective=8,
        x=[1, 3],
        relaxation=4.5,
    ),
    # General integers: max 3x + 2y, 2x + 2y <= 7, x <= 2.5, x, y in 0..10 integer.
    # x <= 2 and x + y <= 3: (2, 1) = 8 is the unique best. Relaxation: x = 2.5, y = 1 -> 9.5.
    "general-integer": MIPCase(
        program(
            [3, 2],
            [[2, 2], [1, 0]],
            [-INF, -INF],
            [7, 2.5],
            [0, 0],
            [10, 10],
            [True, True],
            Sense.MAXIMIZE,
        ),
        objective=8,
        x=[2, 1],
        relaxation=9.5,
    ),
    # Mixed, negative integer range: min x + 0.5y, x + y >= 2.5, x integer in -5..5, 0 <= y <= 1.
    # Relaxation fills y first (cheaper): y = 1, x = 1.5 -> 2. Integer x rounds up to 2, then
    # y = 0.5 suffices: 2.25 (x = 3, y = 0 costs 3).
    "mixed-rounding": MIPCase(
        program([1, 0.5], [[1, 1]], [2.5], [INF], [-5, 0], [5, 1], [True, False]),
        objective=2.25,
        x=[2, 0.5],
        relaxation=2.0,
    ),
    # Integer equality: min x + y, 3x + 5y = 22, x, y >= 0 integer. 22 - 5y divisible by 3
    # only for y = 2 (x = 4): objective 6. Relaxation: y = 4.4 -> 4.4.
    "integer-equality": MIPCase(
        program([1, 1], [[3, 5]], [22], [22], [0, 0], [INF, INF], [True, True]),
        objective=6,
        x=[4, 2],
        relaxation=4.4,
    ),
}

# x + y <= 1 and x + y >= 3 cannot both hold.
INFEASIBLE_LP = program([1, 1], [[1, 1], [1, 1]], [-INF, 3], [1, INF], [0, 0], [10, 10])
INFEASIBLE_MIP = program(
    [1, 1], [[1, 1], [1, 1]], [-INF, 3], [1, INF], [0, 0], [10, 10], [True, True]
)
# 2x = 1 with x integer: the relaxation is feasible (x = 0.5), the MIP is not
# (CBC reports "Integer infeasible", PuLP status -1 with sol_status 0).
INTEGER_INFEASIBLE_MIP = program([1], [[2]], [1], [1], [0], [10], [True])
# Infeasible, and the objective would be unbounded if it were not: must say INFEASIBLE.
INFEASIBLE_AND_DUAL_INFEASIBLE_LP = program(
    [-1, -1], [[1, -1], [1, 1], [1, 1]], [-INF, 3, -INF], [1, INF, 1], [-INF, -INF], [INF, INF]
)
# min -x with x - y <= 1, x, y >= 0: x = y + 1 grows without limit.
UNBOUNDED_LP = program([-1, 0], [[1, -1]], [-INF], [1], [0, 0], [INF, INF])
UNBOUNDED_MAX_LP = program([1, 0], [[1, -1]], [-INF], [1], [0, 0], [INF, INF], None, Sense.MAXIMIZE)
UNBOUNDED_MIP = program([-1, 0], [[1, -1]], [-INF], [1], [0, 0], [INF, INF], [True, True])


def multi_knapsack(seed: int = 1, items: int = 150, rows: int = 10) -> LinearProgram:
    """A correlated 0-1 multi-knapsack: HiGHS cannot close its gap in 10 s (seed 1, verified)."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(20, 100, size=(rows, items)).astype(np.float64)
    values = weights.mean(axis=0) + rng.integers(-10, 10, size=items)
    return LinearProgram(
        c=values.astype(np.float64),
        a=sp.csr_array(weights),
        row_lo=np.full(rows, -INF),
        row_hi=weights.sum(axis=1) * 0.5,
        col_lo=np.zeros(items),
        col_hi=np.ones(items),
        is_integer=np.ones(items, dtype=np.bool_),
        sense=Sense.MAXIMIZE,
    )


def equality_knapsack(seed: int = 3, items: int = 60, rows: int = 6) -> LinearProgram:
    """0-1 rows hit exactly (feasible by construction) where no trivial point is feasible."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(20, 100, size=(rows, items)).astype(np.float64)
    target = weights @ (rng.uniform(size=items) < 0.5)
    return LinearProgram(
        c=rng.uniform(1, 2, items),
        a=sp.csr_array(weights),
        row_lo=target,
        row_hi=target,
        col_lo=np.zeros(items),
        col_hi=np.ones(items),
        is_integer=np.ones(items, dtype=np.bool_),
    )


def random_lp(seed: int, m: int = 40, n: int = 60) -> LinearProgram:
    """A feasible, bounded random LP with >=, ranged and equality rows and shifted bounds.

    x = 1 satisfies every row by construction (rows are built around A @ 1), and all
    columns are boxed, so the LP is feasible and bounded whatever the costs' signs.
    """
    rng = np.random.default_rng(seed)
    dense = rng.uniform(0.1, 1.0, size=(m, n)) * (rng.uniform(size=(m, n)) < 0.3)
    dense[np.arange(m), rng.integers(0, n, size=m)] += 1.0  # no empty rows
    at_one = dense.sum(axis=1)
    kind = rng.integers(0, 3, size=m)  # 0: >=, 1: ranged, 2: equality
    lo = np.where(kind == 0, 0.6 * at_one, np.where(kind == 1, 0.5 * at_one, at_one))
    hi = np.where(kind == 0, INF, np.where(kind == 1, 1.4 * at_one, at_one))
    return LinearProgram(
        c=rng.uniform(-2, 5, n),
        a=sp.csr_array(dense),
        row_lo=lo,
        row_hi=hi,
        col_lo=rng.uniform(-2, 0.5, n),
        col_hi=rng.uniform(1.5, 6, n),
        is_integer=np.zeros(n, dtype=np.bool_),
        sense=Sense.MINIMIZE if seed % 2 else Sense.MAXIMIZE,
    )
