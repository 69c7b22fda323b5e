"""Find backends by name without importing a solver library until it is used."""

from __future__ import annotations

from allocator.backends.interface import Backend
from allocator.errors import SolverUnavailable

DEFAULT_BACKEND = "highs"


def _classes() -> dict[str, type[Backend]]:
    # The backend modules import their solver lazily, so importing them here is cheap and safe.
    from allocator.backends.highs import HighsBackend
    from allocator.backends.ortools import OrtoolsBackend
    from allocator.backends.pulp import PulpBackend

    return {cls.name: cls for cls in (HighsBackend, OrtoolsBackend, PulpBackend)}


def known_backends() -> list[str]:
    """Every backend this package implements, installed or not."""
    return list(_classes())


def available_backends() -> list[str]:
    """The backends whose solver library is installed, default first."""
    names = [name for name, cls in _classes().items() if cls.is_available()]
    return sorted(names, key=lambda name: name != DEFAULT_BACKEND)


def backend_class(name: str) -> type[Backend]:
    """The class registered under a backend name (whether or not its solver is installed)."""
    return _classes()[name.strip().lower()]


def get_backend(name: str) -> Backend:
    """A backend instance; `SolverUnavailable` names the alternatives when it cannot be used."""
    classes = _classes()
    cls = classes.get(name.strip().lower())
    available = ", ".join(available_backends()) or "none (pip install highspy)"
    if cls is None:
        raise SolverUnavailable(
            f"unknown solver backend {name!r}; known: {', '.join(classes)}; available: {available}"
        )
    if not cls.is_available():
        raise SolverUnavailable(
            f"solver backend {name!r} is not installed (pip install care-allocator installs "
            f"highspy, ortools and pulp); available now: {available}"
        )
    return cls()
