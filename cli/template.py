"""`allocator template OUT.xlsx`: write the blank, documented scenario workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape


def template(
    out: Annotated[Path, typer.Argument(help="Where to write the workbook (.xlsx).")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a blank scenario workbook: one documented sheet per table, with drop-down lists."""
    console = Console(highlight=False)
    errors = Console(stderr=True, highlight=False)
    if out.suffix.lower() != ".xlsx":
        errors.print(f"[red]error[/red]: {escape(str(out))}: the template is an .xlsx workbook")
        raise typer.Exit(2)
    if out.exists() and not force:
        errors.print(
            f"[red]error[/red]: {escape(str(out))} already exists; use --force to overwrite it"
        )
        raise typer.Exit(1)
    try:
        from allocator.io.excel import write_template
        from allocator.io.excel_layout import SHEETS

        out.parent.mkdir(parents=True, exist_ok=True)
        write_template(out)
    except OSError as err:
        errors.print(f"[red]error[/red]: cannot write {escape(str(out))}: {escape(str(err))}")
        raise typer.Exit(2) from None
    console.print(
        f"Template written to [bold]{escape(str(out))}[/bold]: README, Scenario and "
        f"{len(SHEETS)} data sheets. Fill it in, then run: allocator validate {escape(out.name)}"
    )
