"""`allocator import-nhse YEAR OUT`: NHS England's published weighted populations as a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()


def import_nhse(
    year: Annotated[str, typer.Argument(help="Allocation year: 2022/23, 2023/24 or 2024/25.")],
    out: Annotated[Path, typer.Argument(help="Where to write the scenario (.json).")],
    gbp_per_head: Annotated[
        float, typer.Option(help="Illustrative pot in £ per head of population.")
    ] = 1_500.0,
) -> None:
    """Build the population side of a national scenario (ICBs, sub-ICB places, PCNs)."""
    from allocator.synth.nhse import import_nhse as build
    from cli.generate import write_scenario

    try:
        scenario = build(year, gbp_per_head=gbp_per_head)
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    write_scenario(scenario, out)
    unassigned = sum(
        1 for n in scenario.neighbourhoods if n.neighbourhood_id.startswith("unassigned")
    )
    console.print(
        f"Wrote [bold]{out}[/bold] ({scenario.financial_year}): {len(scenario.systems)} ICBs,"
        f" {len(scenario.places)} sub-ICB places, {len(scenario.neighbourhoods)} neighbourhoods"
        f" ({unassigned} of practices without a PCN). The pot and providers are illustrative."
    )
