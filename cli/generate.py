"""`allocator generate`: write a seeded synthetic scenario (one system up to national)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from models import Scenario

console = Console()


def write_scenario(scenario: Scenario, path: Path) -> None:
    """Scenario JSON (indented, blank optional fields left out), with a trailing newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scenario.model_dump_json(indent=1, exclude_none=True) + "\n", encoding="utf-8")


def generate(
    out: Annotated[Path, typer.Argument(help="Where to write the scenario (.json).")],
    size: Annotated[
        str, typer.Option(help="system (~50 neighbourhoods), region (~300) or national (~1,250).")
    ] = "system",
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same scenario.")] = 0,
    systems: Annotated[int | None, typer.Option(help="Custom: number of systems.")] = None,
    places: Annotated[float | None, typer.Option(help="Custom: places per system.")] = None,
    neighbourhoods: Annotated[
        float | None, typer.Option(help="Custom: neighbourhoods per place.")
    ] = None,
    segments: Annotated[int | None, typer.Option(help="Custom: segments.")] = None,
    providers: Annotated[int | None, typer.Option(help="Custom: providers per system.")] = None,
    schemes: Annotated[int | None, typer.Option(help="Custom: schemes per system.")] = None,
    realistic: Annotated[
        bool, typer.Option(help="Write the hand-set realistic example instead.")
    ] = False,
) -> None:
    """Write a synthetic scenario, valid and feasible by construction."""
    from dataclasses import replace

    from allocator.synth.generator import SIZES, generate_scenario
    from allocator.synth.realistic import realistic_scenario

    if realistic:
        scenario = realistic_scenario()
    else:
        if size not in SIZES:
            console.print(f"[red]Unknown size[/red] {size!r}: use {', '.join(SIZES)}")
            raise typer.Exit(2)
        base = SIZES[size]
        try:
            config = replace(
                base,
                systems=base.systems if systems is None else systems,
                places_per_system=base.places_per_system if places is None else places,
                neighbourhoods_per_place=(
                    base.neighbourhoods_per_place if neighbourhoods is None else neighbourhoods
                ),
                segments=base.segments if segments is None else segments,
                providers_per_system=base.providers_per_system if providers is None else providers,
                schemes_per_system=base.schemes_per_system if schemes is None else schemes,
            )
        except ValueError as error:
            console.print(f"[red]Invalid counts[/red]: {error}")
            raise typer.Exit(2) from error
        scenario = generate_scenario(config, seed)
    write_scenario(scenario, out)
    console.print(
        f"Wrote [bold]{out}[/bold]: {len(scenario.systems)} systems, {len(scenario.places)} places,"
        f" {len(scenario.neighbourhoods)} neighbourhoods, {len(scenario.segments)} segments,"
        f" {len(scenario.providers)} providers, {len(scenario.funders)} funders"
        f" (content hash {scenario.content_hash()[:12]})"
    )
