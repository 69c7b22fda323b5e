"""`allocator convert IN OUT`: a scenario between JSON and the Excel workbook people edit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from allocator.errors import AllocatorError
from cli.common import err, fail, load_or_exit, make_console

console = make_console()


def convert(
    source: Annotated[Path, typer.Argument(help="Scenario to read (.json or .xlsx).")],
    target: Annotated[Path, typer.Argument(help="Scenario to write (.json or .xlsx).")],
) -> None:
    """Convert a scenario between .json and .xlsx; the content hash is unchanged."""
    suffix = target.suffix.lower()
    if suffix not in (".json", ".xlsx"):
        err.print(f"[red]Cannot write {target.name}[/red]: use .json or .xlsx")
        raise typer.Exit(2)
    scenario = load_or_exit(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if suffix == ".json":
            from allocator.io.json_io import write_json

            write_json(scenario, target)
        else:
            from allocator.io.excel import write_workbook

            write_workbook(scenario, target)
    except AllocatorError as error:
        fail(error)
    console.print(f"Written {target} (content hash {scenario.content_hash()})")
