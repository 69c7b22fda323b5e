"""`allocator report RESULT --out board.pdf`: the board report (PDF) or board pack (xlsx)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from allocator.errors import AllocatorError
from cli.common import err, fail, load_or_exit, make_console
from models import Scenario

console = make_console()


def report(
    result_path: Annotated[
        Path,
        typer.Argument(metavar="RESULT", help="Result (.json), or a scenario solved on the fly."),
    ],
    out: Annotated[Path, typer.Option(help="Write the board report (.pdf) or board pack (.xlsx).")],
    compare: Annotated[
        Path | None, typer.Option(help="Another result (or scenario) to compare with.")
    ] = None,
    scenario_path: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            help="The result's scenario: its reference rate and risk agreements (risk chart).",
        ),
    ] = None,
) -> None:
    """Write the board report of an allocation: summary, charts, binding rules, certificate."""
    from cli.compare import _result_or_scenario

    if not result_path.exists():
        err.print(f"[red]No such file[/red]: {result_path}")
        raise typer.Exit(2)
    result, scenario = _result_or_scenario(result_path, None)
    if scenario_path is not None:
        given: Scenario = load_or_exit(scenario_path)
        if given.content_hash() != result.scenario_hash:
            err.print(
                f"[red]Scenario mismatch[/red]: {scenario_path} has hash "
                f"{given.content_hash()[:12]}, the result was solved from {result.scenario_hash[:12]}"
            )
            raise typer.Exit(2)
        scenario = given
    other = None if compare is None else _result_or_scenario(compare, None)[0]
    suffix = out.suffix.lower()
    started = time.perf_counter()
    try:
        if suffix == ".pdf":
            from allocator.report.board import board_report_bytes

            body = board_report_bytes(result, scenario, compare=other)
        elif suffix == ".xlsx":
            from allocator.io.board_pack import board_pack_bytes

            body = board_pack_bytes(result, scenario)
        else:
            raise typer.BadParameter(
                f"cannot write {out.name}: use .pdf or .xlsx", param_hint="--out"
            )
    except AllocatorError as error:
        fail(error)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(body)
    console.print(
        f"Board {'report' if suffix == '.pdf' else 'pack'} written to [bold]{out}[/bold]"
        f" ({time.perf_counter() - started:.2f}s)"
    )
