"""Solver backends: one `LinearProgram` in, one `RawSolution` out, whatever the solver.

Importing this package never imports a solver library; see `allocator.backends.interface` for
the contract (including the dual sign convention) and `registry` to pick a backend.
"""

from __future__ import annotations

from allocator.backends.interface import (
    Backend,
    Capability,
    RawSolution,
    RebuildSession,
    SolveOptions,
    SolverSession,
    Termination,
    TerminationReason,
)
from allocator.backends.registry import (
    DEFAULT_BACKEND,
    available_backends,
    get_backend,
    known_backends,
)
from allocator.errors import SolverFailed, SolverUnavailable

__all__ = [
    "DEFAULT_BACKEND",
    "Backend",
    "Capability",
    "RawSolution",
    "RebuildSession",
    "SolveOptions",
    "SolverFailed",
    "SolverSession",
    "SolverUnavailable",
    "Termination",
    "TerminationReason",
    "available_backends",
    "get_backend",
    "known_backends",
]
