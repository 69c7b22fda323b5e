"""Find backends by name without importing a solver library until it is used.

A backend's module is imported when that backend is asked for, so a solve with HiGHS never
loads the OR-Tools or PuLP backends (and listing the backends imports only the modules,
never a solver library: each module imports its solver lazily).
"""

from __future__ import annotations

import importlib

from allocator.backends.interface import Backend
from allocator.errors import SolverUnavailable

DEFAULT_BACKEND = "highs"

# backend name -> (module, class). Add a line when you add a backend.
BACKENDS: dict[str, tuple[str, str]] = {
    "highs": ("allocator.backends.highs", "HighsBackend"),
    "ortools": ("allocator.backends.ortools", "OrtoolsBackend"),
    "pulp": ("allocator.backends.pulp", "PulpBackend"),
}


def _load(name: str) -> type[Backend]:
    """The class of a known backend, importing its module (KeyError for an unknown name)."""
    module_name, class_name = BACKENDS[name]
    cls: type[Backend] = getattr(importlib.import_module(module_name), class_name)
    return cls


def known_backends() -> list[str]:
    """Every backend this package implements, installed or not."""
    return list(BACKENDS)


def available_backends() -> list[str]:
    """The backends whose solver library is installed, default first."""
    names = [name for name in BACKENDS if _load(name).is_available()]
    return sorted(names, key=lambda name: name != DEFAULT_BACKEND)


def backend_class(name: str) -> type[Backend]:
    """The class registered under a backend name (whether or not its solver is installed)."""
    return _load(name.strip().lower())


def _available_text() -> str:
    return ", ".join(available_backends()) or "none (pip install highspy)"


def get_backend(name: str) -> Backend:
    """A backend instance; `SolverUnavailable` names the alternatives when it cannot be used."""
    key = name.strip().lower()
    if key not in BACKENDS:
        raise SolverUnavailable(
            f"unknown solver backend {name!r}; known: {', '.join(BACKENDS)}; "
            f"available: {_available_text()}"
        )
    cls = _load(key)
    if not cls.is_available():
        raise SolverUnavailable(
            f"solver backend {name!r} is not installed (pip install care-allocator installs "
            f"highspy, ortools and pulp); available now: {_available_text()}"
        )
    return cls()
