"""The command boundary: whatever goes wrong in a command ends in one line and exit 2.

Commands report the mistakes they expect themselves (located issues, exit 1). Anything
else that escapes a command - an unknown backend, an unwritable path, a malformed file
a loader did not anticipate - is printed as ``error: <what>`` on stderr, never as a
traceback. ``ALLOCATOR_DEBUG=1`` lets the exception through for debugging.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from typer.exceptions import TyperException

from allocator.errors import AllocatorError

F = TypeVar("F", bound=Callable[..., Any])

USAGE_EXIT = 2


def one_line(error: BaseException) -> str:
    """A short, single-line description of ``error`` for the terminal."""
    if isinstance(error, AllocatorError):
        text = f"{error.title}: {error.detail}"
        if error.issues:
            first = error.issues[0]
            more = f" (and {len(error.issues) - 1} more)" if len(error.issues) > 1 else ""
            text += f" - {first.where()}: {first.message}{more}"
    elif isinstance(error, OSError) and error.strerror:
        text = error.strerror + (f": {error.filename}" if error.filename else "")
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())


def guarded(command: F) -> F:
    """``command`` wrapped so an unexpected exception becomes `one_line` and exit 2."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, TyperException):  # usage errors keep their own message
            raise
        except Exception as error:
            if os.environ.get("ALLOCATOR_DEBUG"):
                raise
            typer.echo(f"error: {one_line(error)}", err=True)
            raise typer.Exit(USAGE_EXIT) from None

    return run  # type: ignore[return-value]


def guard_all(app: typer.Typer) -> None:
    """Wrap every command of ``app`` and of its sub-groups with `guarded`."""
    for info in app.registered_commands:
        if info.callback is not None:
            info.callback = guarded(info.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            guard_all(group.typer_instance)


__all__ = ["USAGE_EXIT", "guard_all", "guarded", "one_line"]
