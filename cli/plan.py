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
    frame, providers = with_pounds(result.glide_path()), with_pounds(result.provider_path())
    print_glide_path(frame)
    print_providers(providers)
    provider_target = target.with_name(f"{target.stem}-providers{target.suffix}")
    if target.suffix.lower() == ".xlsx":
        write_frames({"places": frame, "providers": providers}, target)
        console.print(f"Glide path (places and providers) written to [bold]{target}[/bold]")
    else:
        write_frame(frame, target)
        write_frame(providers, provider_target)
        console.print(
            f"Glide path written to [bold]{target}[/bold], providers to [bold]{provider_target}[/bold]"
        )
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


def with_pounds(frame: pd.DataFrame) -> pd.DataFrame:
    """A ``_gbp`` column (pounds, exact to the penny) beside each ``_pence`` one."""
    out = frame.copy()
    for column in [c for c in frame.columns if str(c).endswith("_pence")]:
        out.insert(
            list(out.columns).index(column) + 1,
            column.removesuffix("_pence") + "_gbp",
            frame[column].astype("Float64") / 100,
        )
    return out


def print_providers(frame: pd.DataFrame) -> None:
    """One row per provider, one column per year: its budget in £ and the change on last year."""
    table = Table(title="Provider budgets (change on the year before; pass-through included)")
    table.add_column("provider")
    years = list(dict.fromkeys(zip(frame["year"], frame["financial_year"], strict=True)))
    for year, label in years:
        table.add_column(f"year {year}" + (f" {label}" if label else ""), justify="right")
    for provider_id, rows in frame.groupby("provider_id", sort=False):
        cells = []
        for year, _ in years:
            row = rows[rows["year"] == year]
            if row.empty:
                cells.append("-")
                continue
            first = row.iloc[0]
            change = int(first["change_pence"])
            sign = "+" if change > 0 else "-" if change < 0 else ""
            cells.append(f"{gbp(int(first['budget_pence']))} ({sign}{gbp(abs(change))})")
        name = rows["name"].iloc[0] or provider_id
        table.add_row(str(name), *cells)
    console.print(table)


def write_frames(frames: dict[str, pd.DataFrame], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    with pd.ExcelWriter(target) as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, index=False, sheet_name=name)


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
