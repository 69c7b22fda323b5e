"""HiGHS specifics: warm starts, re-solve time limits and ranging."""

from __future__ import annotations

import numpy as np
import pytest

from allocator.backends.highs import HighsBackend
from allocator.backends.highs_native import HighsBasisData
from allocator.backends.highs_session import HighsSession, ranging
from allocator.backends.interface import SolveOptions, TerminationReason, changed_row_bounds
from allocator.backends.registry import get_backend
from tests.conformance.conftest import TOL
from tests.conformance.problems import INFEASIBLE_LP, LPS, MIPS, multi_knapsack, random_lp

pytestmark = pytest.mark.skipif(not HighsBackend.is_available(), reason="highspy not installed")


def test_objective_change_resolves_warm() -> None:
    program = random_lp(7, m=60, n=90)
    session = HighsSession(program, SolveOptions())
    cold = session.solve()
    assert cold.iterations is not None and cold.iterations > 10
    c = program.c * (1 + 0.01 * np.random.default_rng(1).uniform(-1, 1, program.num_cols))
    session.set_objective(c, program.sense, 0.0)
    warm = session.solve()
    fresh = HighsBackend().solve(program.with_objective(c, program.sense), SolveOptions())
    assert warm.objective == pytest.approx(fresh.objective, rel=1e-9)
    assert warm.iterations is not None and fresh.iterations is not None
    assert warm.iterations < fresh.iterations


def test_start_from_an_earlier_basis_needs_no_iterations() -> None:
    program = random_lp(7, m=60, n=90)
    first = HighsBackend().solve(program, SolveOptions())
    assert isinstance(first.basis, HighsBasisData)
    again = HighsBackend().start(program, SolveOptions(), warm_start=first).solve()
    assert again.objective == pytest.approx(first.objective, rel=1e-9)
    assert again.iterations == 0
    # A basis from fewer rows still seeds a program with rows added (slacks enter basic).
    extra = program.with_rows(program.a[:1], np.array([-np.inf]), np.array([1e6]))
    seeded = HighsBackend().start(extra, SolveOptions(), warm_start=first).solve()
    assert seeded.objective == pytest.approx(first.objective, rel=1e-9)
    assert seeded.iterations == 0


def test_mip_warm_start_from_a_solution() -> None:
    case = MIPS["knapsack"]
    first = HighsBackend().solve(case.program, SolveOptions())
    again = HighsBackend().start(case.program, SolveOptions(), warm_start=first).solve()
    assert again.objective == pytest.approx(case.objective)


@pytest.mark.mip
def test_each_resolve_gets_the_full_time_limit() -> None:
    # Old HiGHS measured time_limit from the object's creation, not from each run().
    session = HighsSession(multi_knapsack(), SolveOptions(time_limit_s=0.15, mip_gap=0.0))
    first = session.solve()
    second = session.solve()
    assert first.termination.reason is TerminationReason.TIME_LIMIT_FEASIBLE
    assert second.termination.reason is TerminationReason.TIME_LIMIT_FEASIBLE
    assert second.solve_time_s > 0.1
    assert second.objective is not None and first.objective is not None
    assert second.objective >= first.objective - 1e-9  # started from the first incumbent


def test_ranging_matches_hand_derivation() -> None:
    # min x + 2y, r0: x + y >= 4, r1: x <= 3 (x = 3, y = 1, duals 2 and -1).
    # r0's rhs b keeps the basis while y = b - 3 >= 0: [3, inf), objective 3 at b = 3.
    # r1's rhs h keeps it while x = h >= 0 and y = 4 - h >= 0: [0, 4], objective 8 and 4.
    # x's cost keeps it while y1 = c_x - 2 <= 0: (-inf, 2], objective 2*3 + 2 = 8 at 2;
    # y's cost while y1 = 1 - c_y <= 0: [1, inf), objective 3 + 1 = 4 at 1.
    solution, ranges = ranging(LPS["min-two-rows"].program)
    assert solution.termination.reason is TerminationReason.OPTIMAL
    assert ranges is not None
    assert ranges.rhs_lo == pytest.approx([3, 0])
    assert ranges.rhs_hi == pytest.approx([np.inf, 4])
    assert ranges.rhs_lo_objective == pytest.approx([3, 8])
    assert ranges.rhs_hi_objective[1] == pytest.approx(4)
    assert ranges.cost_lo == pytest.approx([-np.inf, 1])
    assert ranges.cost_hi == pytest.approx([2, np.inf])
    assert ranges.cost_hi_objective[0] == pytest.approx(8)
    assert ranges.cost_lo_objective[1] == pytest.approx(4)
    assert ranges.cost_lo.shape == (2,)


@pytest.mark.parametrize("name", ["equality-and-range", "range-at-lower-with-offset"])
def test_duals_hold_across_the_rhs_range(name: str) -> None:
    program = LPS[name].program
    solution, ranges = ranging(program)
    assert ranges is not None and solution.row_duals is not None and solution.x is not None
    assert solution.objective is not None
    activity = program.a @ solution.x
    for i, dual in enumerate(solution.row_duals):
        if abs(dual) < TOL:
            continue
        at_hi = abs(activity[i] - program.row_hi[i]) < 1e-9
        current = program.row_hi[i] if at_hi else program.row_lo[i]
        for end in (ranges.rhs_lo[i], ranges.rhs_hi[i]):
            target = current + 0.5 * (min(max(end, current - 5), current + 5) - current)
            lo, hi = program.row_lo[i], program.row_hi[i]
            if lo == hi:
                lo = hi = target
            elif at_hi:
                hi = target
            else:
                lo = target
            moved = get_backend("highs").solve(
                changed_row_bounds(program, np.array([i]), np.array([lo]), np.array([hi])),
                SolveOptions(),
            )
            assert moved.objective == pytest.approx(
                solution.objective + dual * (target - current), abs=1e-7
            )


def test_ranging_is_for_optimal_lps_only() -> None:
    solution, ranges = ranging(INFEASIBLE_LP)
    assert solution.termination.reason is TerminationReason.INFEASIBLE
    assert ranges is None
    with pytest.raises(ValueError, match="LPs only"):
        ranging(MIPS["knapsack"].program)


def test_bad_native_option_is_reported() -> None:
    with pytest.raises(ValueError, match="no_such_option"):
        HighsBackend().solve(LPS["min-two-rows"].program, SolveOptions(extra={"no_such_option": 1}))
