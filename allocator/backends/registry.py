"""Find backends by name without importing a solver library until it is used."""

from __future__ import annotations

from allocator.backends.base import Backend, SolverUnavailable

DEFAULT_BACKEND = "highs"


def _classes() -> dict[str, type[Backend]]:
    from allocator.backends.highs import HighsBackend
    from allocator.backends.ortools import OrtoolsBackend
    from allocator.backends.pulp import PulpBackend

    return {"highs": HighsBackend, "ortools": OrtoolsBackend, "pulp": PulpBackend}


def available_backends() -> list[str]:
    return [name for name, cls in _classes().items() if cls.is_available()]


def get_backend(name: str) -> Backend:
    classes = _classes()
    cls = classes.get(name)
    if cls is None or not cls.is_available():
        raise SolverUnavailable(
            f"solver backend {name!r} is not available; available: {', '.join(available_backends()) or 'none'}"
        )
    return cls()
