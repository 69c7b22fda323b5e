"""`allocator batch SPEC`: run a sweep, list or Monte Carlo batch, resumably, with a progress bar."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cli.common import err, fail, make_console
from cli.plan import plan

console = make_console()
__all__ = ["batch", "plan"]


def batch(
    spec: Annotated[Path, typer.Argument(help="Batch specification (.yaml, .yml or .json).")],
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, help="Worker processes (1: this process).")
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (tcp://host:8786) instead of local processes."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output folder: run records and tables (default var/batch/<spec name>)."),
    ] = None,
    full_results: Annotated[
        bool, typer.Option("--full-results", help="Also keep every run's full result JSON.")
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Re-run runs that failed with an exception.")
    ] = False,
    excel: Annotated[bool, typer.Option(help="Write the Excel summary too.")] = True,
) -> None:
    """Run every run of a batch spec not yet recorded in the output folder, then write the tables."""
    from pydantic import ValidationError

    from allocator.batch import load_spec, run_batch
    from allocator.errors import AllocatorError

    if not spec.exists():
        err.print(f"[red]No such file[/red]: {spec}")
        raise typer.Exit(2)
    try:
        document = load_spec(spec)
    except (ValidationError, ValueError) as error:
        err.print(f"[red]Invalid batch spec[/red] {spec}:\n{error}")
        raise typer.Exit(2) from None
    out_dir = out or Path("var") / "batch" / (document.name or spec.stem)
    cancel = threading.Event()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as bar:
        task = bar.add_task(document.name or spec.stem, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            summary = run_batch(
                document,
                workers=workers,
                scheduler=scheduler,
                store_dir=out_dir,
                progress=progress,
                cancel=cancel,
                full_results=full_results,
                retry_failed=retry_failed,
                excel=excel,
            )
        except AllocatorError as error:
            fail(error)
        except KeyboardInterrupt:
            err.print("[yellow]Stopped.[/yellow] Finished runs are recorded; run again to resume.")
            raise typer.Exit(130) from None
    table = Table(title=f"Batch {summary.name or spec.stem}")
    table.add_column("status")
    table.add_column("runs", justify="right")
    for status, count in sorted(summary.statuses.items()):
        table.add_row(status, str(count))
    console.print(table)
    console.print(
        f"{summary.total} runs: {summary.skipped} already recorded, {summary.solved} solved now"
        f" in {summary.elapsed_s:.1f} s ({summary.runs_per_s:.2f} runs/s)"
    )
    console.print(f"Tables written to [bold]{summary.out_dir}[/bold]: " + ", ".join(summary.tables))
    if summary.cancelled or not summary.complete:
        console.print("[yellow]Incomplete:[/yellow] run the same command again to resume.")
        raise typer.Exit(130)
