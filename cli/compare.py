"""`allocator compare A B`: what changed between two allocations, by whom, and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from allocator.errors import AllocatorError
from cli.common import fail, gbp, load_or_exit, make_console, pct
from models import Scenario
from models.comparison import Comparison
from models.results import AllocationResult

console = make_console()


def _result_or_scenario(
    path: Path, backend: str | None
) -> tuple[AllocationResult, Scenario | None]:
    """A result file as it is, or a scenario file solved on the fly."""
    if path.suffix.lower() == ".json":
        try:
            document = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            document = None
        if isinstance(document, dict) and "scenario_hash" in document:
            return AllocationResult.model_validate(document), None
    scenario = load_or_exit(path)
    from allocator.pipeline import solve_scenario

    try:
        return solve_scenario(scenario, backend=backend), scenario
    except AllocatorError as error:
        fail(error)


def compare(
    a: Annotated[Path, typer.Argument(help="Result (.json) or scenario (.json/.xlsx) A.")],
    b: Annotated[Path, typer.Argument(help="Result (.json) or scenario (.json/.xlsx) B.")],
    out: Annotated[
        Path | None, typer.Option(help="Write the comparison (.json, .csv or .xlsx).")
    ] = None,
    top: Annotated[int, typer.Option(help="Rows per level in the printed tables.")] = 10,
    backend: Annotated[
        str | None, typer.Option(help="Backend for scenarios solved on the fly.")
    ] = None,
) -> None:
    """Compare two allocations (results, or scenarios solved on the fly)."""
    from allocator.explain.compare import compare_results

    if out is not None and out.suffix.lower() not in (".json", ".csv", ".xlsx"):
        raise typer.BadParameter(
            f"unknown output format {out.suffix!r}: use .json, .csv or .xlsx", param_hint="--out"
        )
    result_a, scenario_a = _result_or_scenario(a, backend)
    result_b, scenario_b = _result_or_scenario(b, backend)
    comparison = compare_results(
        result_a,
        result_b,
        scenario_a=scenario_a,
        scenario_b=scenario_b,
        a_label=a.name,
        b_label=b.name,
    )
    print_comparison(comparison, top)
    if out is not None:
        write_comparison(comparison, out)
        console.print(f"Comparison written to [bold]{out}[/bold]")


def print_comparison(c: Comparison, top: int) -> None:
    console.print(
        f"[bold]{c.a_label} → {c.b_label}[/bold]: pool {gbp(c.pot_a_pence)} → {gbp(c.pot_b_pence)}"
        f" ({gbp(c.pot_change_pence)}); value {c.value_a:,.2f} → {c.value_b:,.2f} ({c.value_change:+,.2f});"
        f" reconciles to the penny: {'yes' if c.reconciles else 'NO'}"
    )
    for level in ("provider", "place", "neighbourhood", "segment"):
        rows = sorted((x for x in c.lines if x.level == level), key=lambda x: x.change_pence)[:top]
        if not rows:
            continue
        table = Table(title=f"{level.title()}s, largest losses first")
        for col in (level, "A", "B", "change", "%", "distance A → B"):
            table.add_column(col, justify="left" if col == level else "right")
        for x in rows:
            distance = (
                ""
                if x.distance_a is None or x.distance_b is None
                else f"{x.distance_a:+.2%} → {x.distance_b:+.2%}"
            )
            table.add_row(
                x.name or x.unit_id,
                gbp(x.a_pence),
                gbp(x.b_pence),
                gbp(x.change_pence),
                pct(x.change_share),
                distance,
            )
        console.print(table)
    if c.rules:
        table = Table(title="Rules that changed state")
        for col in ("rule", "change"):
            table.add_column(col)
        for r in c.rules:
            table.add_row(r.rule, r.change)
        console.print(table)
    from allocator.io.comparison_export import INPUTS_UNKNOWN, input_change_text

    if not c.inputs_known:
        console.print(INPUTS_UNKNOWN, markup=False)
    elif c.inputs:
        console.print(f"Inputs that differ ({len(c.inputs)}):")
        for change in c.inputs[:top]:
            console.print(f"  {input_change_text(change)}", markup=False)


def write_comparison(c: Comparison, path: Path) -> None:
    """``.json``: the comparison; ``.csv``: the change lines; ``.xlsx``: the workbook."""
    from allocator.io.comparison_export import comparison_csv, comparison_workbook_bytes

    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(c.model_dump_json(indent=2) + "\n")
    elif suffix == ".csv":
        path.write_bytes(comparison_csv(c, "changes"))
    elif suffix == ".xlsx":
        path.write_bytes(comparison_workbook_bytes(c))
    else:
        raise typer.BadParameter(f"unknown output format {path.suffix!r}: use .json, .csv or .xlsx")
