"""Helpers shared by the CLI commands: loading with located errors, money formatting."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

from allocator.domain.money import pence_to_gbp_str
from allocator.errors import AllocatorError
from models import Scenario

err = Console(stderr=True)


def make_console() -> Console:
    """A console as wide as the terminal, or wide enough for tables when output is piped."""
    return Console() if sys.stdout.isatty() else Console(width=160)


def gbp(pence: int | float) -> str:
    """Pence (a whole number, or a solver figure rounded to one) as pounds: '£1,234.56'."""
    return pence_to_gbp_str(round(pence))


def pct(share: float | None) -> str:
    return "" if share is None else f"{share:+.2%}"


def fail(error: AllocatorError) -> NoReturn:
    err.print(f"[red]{error.title}[/red]: {error.detail}")
    from allocator.io.excel_reading import reading_order

    for number, issue in enumerate(reading_order(error.issues), start=1):
        err.print(f"  {number}. {issue.where()}: {issue.message}")
    raise typer.Exit(1)


def result_document(path: Path) -> dict[str, object] | None:
    """The file's JSON object when it is an allocation result (it has a scenario hash)."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return None
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return document if isinstance(document, dict) and "scenario_hash" in document else None


def not_a_result(path: Path) -> None:
    """Exit 2 with one line when ``path`` is an allocation result where a scenario is needed."""
    document = result_document(path)
    if document is not None:
        solved_from = document.get("scenario_id")
        hint = f" (solved from scenario {solved_from!r})" if isinstance(solved_from, str) else ""
        typer.echo(
            f"error: {path.name} is an allocation result, not a scenario{hint}: "
            "give the scenario file it was solved from",
            err=True,
        )
        raise typer.Exit(2)


def load_or_exit(path: Path) -> Scenario:
    """Load and validate a scenario file, or print every located issue and exit 1."""
    from allocator.io.load import load_scenario

    if not path.exists():
        err.print(f"[red]No such file[/red]: {path}")
        raise typer.Exit(2)
    not_a_result(path)
    try:
        return load_scenario(path)
    except AllocatorError as error:
        fail(error)
