"""`allocator plan SCENARIO --years 5`: a multi-year plan and each place's glide path to target."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from allocator.io.cells import write_csv, write_workbook
from cli.common import err, fail, gbp, load_or_exit, make_console, pct

if TYPE_CHECKING:
    import pandas as pd

    from allocator.batch.multiyear import PlanYear

console = make_console()
FORMATS = (".csv", ".parquet", ".xlsx", ".json")


def _demand(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        segment, sep, value = item.partition("=")
        try:
            if not sep or not segment.strip():
                raise ValueError
            out[segment.strip()] = float(value)
        except ValueError:
            err.print(
                f"[red]--demand-growth wants SEGMENT=GROWTH[/red] (e.g. frailty=0.035): {item}"
            )
            raise typer.Exit(2) from None
    return out


def plan(
    path: Annotated[Path, typer.Argument(help="Scenario file (.json or .xlsx): year 1.")],
    years: Annotated[int, typer.Option(min=1, max=5, help="Years to plan (1-5).")] = 5,
    growth: Annotated[float, typer.Option(help="Pot growth per year (0.03 is +3%).")] = 0.03,
    demand_growth: Annotated[
        list[str] | None,
        typer.Option(
            "--demand-growth",
            help="SEGMENT=GROWTH per year, repeatable (default: the scenario's demand_growth).",
        ),
    ] = None,
    uplift: Annotated[
        float | None,
        typer.Option(help="Yearly uplift of cash contract terms (default: the pot growth)."),
    ] = None,
    backend: Annotated[str | None, typer.Option(help="Solver backend.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Glide path file: .csv, .parquet, .xlsx or .json (default var/plan/)."),
    ] = None,
    results: Annotated[
        Path | None, typer.Option(help="Folder for each year's full result JSON.")
    ] = None,
) -> None:
    """Solve the scenario year after year, each year's baseline being last year's allocation."""
    from allocator.batch.multiyear import plan_years
    from allocator.errors import AllocatorError

    scenario = load_or_exit(path)
    target = out or Path("var") / "plan" / f"{scenario.scenario_id}-glide-path.csv"
    if target.suffix.lower() not in FORMATS:
        err.print(f"[red]--out must end in one of {', '.join(FORMATS)}[/red]: {target}")
        raise typer.Exit(2)
    demand = None if not demand_growth else _demand(demand_growth)

    def show(year: PlanYear) -> None:
        err.print(
            f"year {year.year} ({year.financial_year or '-'}): {year.result.status}"
            f" in {year.result.timings.total_s:.2f} s"
        )

    try:
        result = plan_years(
            scenario,
            years=years,
            pot_growth=growth,
            demand_growth=demand,
            uplift=uplift,
            backend=backend,
            on_year=show,
        )
    except (AllocatorError, ValueError) as error:
        if isinstance(error, AllocatorError):
            fail(error)
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    frame = result.glide_path()
    print_glide_path(frame)
    write_frame(frame, target)
    console.print(f"Glide path written to [bold]{target}[/bold]")
    if results is not None:
        results.mkdir(parents=True, exist_ok=True)
        for year in result.years:
            (results / f"year-{year.year}.json").write_text(year.result.model_dump_json(indent=1))
        console.print(f"Each year's result written to [bold]{results}[/bold]")
    if not result.feasible:
        last = result.years[-1]
        console.print(f"[red]Year {last.year} has no allocation ({last.result.status}).[/red]")
        raise typer.Exit(3)


def print_glide_path(frame: pd.DataFrame) -> None:
    """One row per place, one column per year: allocation and distance from target."""
    table = Table(title="Glide path: allocation (distance from fair-share target)")
    table.add_column("place")
    years = list(dict.fromkeys(zip(frame["year"], frame["financial_year"], strict=True)))
    for year, label in years:
        table.add_column(f"year {year}" + (f" {label}" if label else ""), justify="right")
    for place_id, rows in frame.groupby("place_id", sort=False):
        cells = []
        for year, _ in years:
            row = rows[rows["year"] == year]
            if row.empty or row["allocation_pence"].isna().all():
                cells.append("-")
                continue
            first = row.iloc[0]
            cells.append(
                f"{gbp(int(first['allocation_pence']))} ({pct(first['distance_from_target'])})"
            )
        name = rows["name"].iloc[0] or place_id
        table.add_row(str(name), *cells)
    console.print(table)


def write_frame(frame: pd.DataFrame, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = target.suffix.lower()
    if suffix == ".csv":
        write_csv(frame, target)
    elif suffix == ".parquet":
        frame.to_parquet(target, index=False)
    elif suffix == ".xlsx":
        write_workbook({"glide path": frame}, target)
    else:
        target.write_text(frame.to_json(orient="records", indent=1))
