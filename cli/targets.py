"""`allocator targets FILE`: fair-share targets, need indices and shares, level by level."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from allocator.domain.targets import LevelTargets, Targets
from allocator.types import FloatArray
from cli.common import err, gbp, load_or_exit, pct
from models import Scenario

console = Console()


class Level(StrEnum):
    SYSTEM = "system"
    PLACE = "place"
    NEIGHBOURHOOD = "neighbourhood"
    ALL = "all"


def _allocations(path: Path) -> dict[str, dict[str, int]]:
    """Allocation by level and unit id from a result file (``allocator solve --out``)."""
    from models.results import AllocationResult

    if not path.exists():
        err.print(f"[red]No such file[/red]: {path}")
        raise typer.Exit(2)
    try:
        result = AllocationResult.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as error:
        from cli.boundary import one_line

        first = error.errors()[0]["msg"] if hasattr(error, "errors") else one_line(error)
        typer.echo(f"error: {path.name} is not an allocation result: {first}", err=True)
        raise typer.Exit(2) from None
    return {
        level: {u.unit_id: u.allocation_pence for u in units if u.allocation_pence is not None}
        for level, units in (
            ("system", result.systems),
            ("place", result.places),
            ("neighbourhood", result.neighbourhoods),
        )
    }


class RelativeTo(StrEnum):
    ENGLAND = "england"  # the whole scenario
    PARENT = "parent"  # each unit's system


def level_table(
    title: str,
    level: LevelTargets,
    names: dict[str, str],
    allocation: dict[str, int] | None,
    need: FloatArray | None = None,
) -> Table:
    """One row per unit: people, weighted population, need, share and target (and allocation).

    ``need`` replaces the whole-scenario need index (e.g. by the parent-system view).
    """
    table = Table(title=title)
    columns = ["id", "name", "headcount", "weighted population", "need index", "target share"]
    columns += ["target"] + (["allocation", "distance"] if allocation is not None else [])
    share = level.target_share
    need = level.need_index if need is None else need
    rows = []
    for k, unit in enumerate(level.ids):
        row = [
            unit,
            names.get(unit, ""),
            f"{level.headcount[k]:,.0f}",
            f"{level.weighted_population[k]:,.0f}",
            "" if np.isnan(need[k]) else f"{need[k]:.4f}",
            f"{share[k]:.4%}",
            gbp(int(level.target_pence[k])),
        ]
        if allocation is not None:
            got = allocation.get(unit)
            target = int(level.target_pence[k])
            row += [
                "" if got is None else gbp(got),
                "" if got is None or target == 0 else pct((got - target) / target),
            ]
        rows.append(row)
    for j, column in enumerate(columns):
        if column == "name":
            table.add_column(column, min_width=min(max([len(r[j]) for r in rows] + [4]), 40))
        else:  # numbers (and ids) are never cut short: names wrap instead
            width = max([len(r[j]) for r in rows] + [min(len(column), 10)])
            table.add_column(
                column,
                justify="left" if column == "id" else "right",
                min_width=width,
                no_wrap=column == "id",
            )
    for row in rows:
        table.add_row(*row)
    return table


def print_targets(
    scenario: Scenario,
    targets: Targets,
    level: Level = Level.ALL,
    allocations: dict[str, dict[str, int]] | None = None,
    parent_need: dict[str, FloatArray] | None = None,
) -> None:
    names = {s.system_id: s.name for s in scenario.systems}
    names |= {p.place_id: p.name for p in scenario.places}
    names |= {n.neighbourhood_id: n.name for n in scenario.neighbourhoods}
    console.print(
        f"[bold]{scenario.scenario_id}[/bold] {scenario.name}: capitated pot "
        f"{gbp(targets.capitated_pot_pence)}; need index = weighted population per head "
        + (
            "relative to the whole scenario"
            if parent_need is None
            else "relative to the unit's system"
        )
    )
    for key, title, units in (
        (Level.SYSTEM, "Systems", targets.systems),
        (Level.PLACE, "Places", targets.places),
        (Level.NEIGHBOURHOOD, "Neighbourhoods", targets.neighbourhoods),
    ):
        if level in (key, Level.ALL):
            allocation = None if allocations is None else allocations[key.value]
            need = None if parent_need is None else parent_need[key.value]
            table = level_table(title, units, names, allocation, need)
            # Never cut numbers on a narrow terminal; let names use up to 200 columns.
            size = console.measure(table)
            width = max(console.width, size.minimum, min(size.maximum, 200))
            console.print(table, width=width, crop=False)


def targets(
    path: Annotated[Path, typer.Argument(help="Scenario file (.json or .xlsx).")],
    level: Annotated[Level, typer.Option(help="Which level to print.")] = Level.ALL,
    allocation: Annotated[
        Path | None,
        typer.Option(help="An allocation result (.json) to show against the targets."),
    ] = None,
    need_index: Annotated[
        RelativeTo,
        typer.Option(
            help="Need index relative to england (the whole scenario) or the parent system."
        ),
    ] = RelativeTo.ENGLAND,
) -> None:
    """Print fair-share targets: headcount, weighted population, need index, share, target."""
    from allocator.domain.arrays import ScenarioArrays
    from allocator.domain.need_index import parent_need_index
    from allocator.domain.targets import compute_targets

    scenario = load_or_exit(path)
    allocations = None if allocation is None else _allocations(allocation)
    arrays = ScenarioArrays.from_scenario(scenario)
    computed = compute_targets(arrays)
    parent = None
    if need_index is RelativeTo.PARENT:
        parent = {
            key: parent_need_index(arrays, computed, key)
            for key in ("system", "place", "neighbourhood")
        }
    print_targets(scenario, computed, level, allocations, parent)
