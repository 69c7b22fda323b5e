"""MIP optima, bounds and gaps on every backend; MIPs never carry duals."""

from __future__ import annotations

import numpy as np
import pytest

from allocator.backends.interface import Backend, SolveOptions, TerminationReason
from tests.conformance.conftest import TOL
from tests.conformance.problems import MIPS

pytestmark = pytest.mark.mip


@pytest.mark.parametrize("name", sorted(MIPS))
def test_mip_optimum(backend: Backend, name: str) -> None:
    case = MIPS[name]
    result = backend.solve(case.program, SolveOptions())
    assert result.termination.reason is TerminationReason.OPTIMAL
    assert result.objective == pytest.approx(case.objective, abs=TOL)
    assert result.x is not None
    assert result.x == pytest.approx(case.x, abs=TOL)
    assert case.program.max_violation(result.x) <= TOL
    integer = result.x[case.program.is_integer]
    assert integer == pytest.approx(np.rint(integer), abs=TOL)
    # MIPs have no duals: callers fix the integers and re-solve the LP.
    assert result.row_duals is None
    assert result.reduced_costs is None
    assert result.bound is not None
    assert result.gap is not None
    assert 0.0 <= result.gap <= 1e-6 + TOL


@pytest.mark.parametrize("name", sorted(MIPS))
def test_relaxation_differs_and_has_duals(backend: Backend, name: str) -> None:
    case = MIPS[name]
    relaxed = backend.solve(case.program.relaxed(), SolveOptions())
    assert relaxed.termination.reason is TerminationReason.OPTIMAL
    assert relaxed.objective == pytest.approx(case.relaxation, abs=TOL)
    assert abs(case.relaxation - case.objective) > 0.1
    assert relaxed.row_duals is not None


@pytest.mark.parametrize("name", sorted(MIPS))
def test_fixing_integers_gives_lp_duals(backend: Backend, name: str) -> None:
    """The caller's recipe for MIP duals: fix the integer columns, relax, re-solve."""
    case = MIPS[name]
    program = case.program
    integers = np.flatnonzero(program.is_integer)
    fixed = np.array(case.x, dtype=np.float64)[integers]
    session = backend.start(program, SolveOptions())
    session.set_col_bounds(integers, fixed, fixed)
    session.set_integrality(integers, False)
    result = session.solve()
    assert not session.program.is_mip
    assert result.termination.reason is TerminationReason.OPTIMAL
    assert result.objective == pytest.approx(case.objective, abs=TOL)
    assert result.row_duals is not None
    assert result.reduced_costs is not None
    assert program.c == pytest.approx(
        program.a.T @ result.row_duals + result.reduced_costs, abs=TOL
    )
