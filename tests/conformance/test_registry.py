"""Registry, enums and the no-import-at-import-time promise."""

from __future__ import annotations

import subprocess
import sys

import pytest

from allocator.backends import highs as highs_module
from allocator.backends import highs_native
from allocator.backends.interface import Capability, SolveOptions, TerminationReason
from allocator.backends.registry import (
    DEFAULT_BACKEND,
    available_backends,
    get_backend,
    known_backends,
)
from allocator.errors import SolverUnavailable
from tests.conformance.problems import LPS


def test_every_backend_is_installed_here() -> None:
    assert known_backends() == ["highs", "ortools", "pulp"]
    assert available_backends() == known_backends()
    assert available_backends()[0] == DEFAULT_BACKEND


def test_backends_describe_themselves() -> None:
    for name in available_backends():
        backend = get_backend(name)
        assert backend.name == name
        assert {Capability.MIP, Capability.DUALS, Capability.TIME_LIMIT} <= backend.capabilities
    assert Capability.RANGING in get_backend("highs").capabilities
    assert Capability.WARM_START in get_backend("highs").capabilities


def test_unknown_backend_lists_the_available_ones() -> None:
    with pytest.raises(SolverUnavailable, match="available: highs, ortools, pulp"):
        get_backend("gurobi")


def test_missing_backend_is_reported_with_alternatives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(highs_module, "highs_available", lambda: False)
    monkeypatch.setattr(highs_native, "highs_available", lambda: False)
    assert "highs" not in available_backends()
    with pytest.raises(SolverUnavailable, match=r"not installed.*available now: ortools, pulp"):
        get_backend("highs")
    with pytest.raises(SolverUnavailable, match="pip install highspy"):
        highs_module.HighsBackend().solve(LPS["min-two-rows"].program, SolveOptions())


def test_importing_backends_imports_no_solver() -> None:
    code = (
        "import sys, allocator.backends, allocator.backends.highs, allocator.backends.ortools, "
        "allocator.backends.pulp\n"
        "from allocator.backends import available_backends\n"
        "available_backends()\n"
        "print(sorted(m for m in ('highspy', 'ortools', 'pulp') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_termination_values_are_stable() -> None:
    assert [r.value for r in TerminationReason] == [
        "optimal",
        "infeasible",
        "unbounded",
        "time_limit_with_solution",
        "time_limit_no_solution",
        "numerical_error",
        "solver_error",
    ]
    assert {r for r in TerminationReason if r.has_solution} == {
        TerminationReason.OPTIMAL,
        TerminationReason.TIME_LIMIT_FEASIBLE,
    }


def test_options_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="mip_gap"):
        SolveOptions(mip_gap=-1)
    with pytest.raises(ValueError, match="time_limit_s"):
        SolveOptions(time_limit_s=-1)
