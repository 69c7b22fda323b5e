"""`allocator bridge A B`: from allocation A to B, an attribution waterfall by input group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from allocator.errors import AllocatorError
from cli.common import fail, gbp, load_or_exit, make_console

console = make_console()


def bridge(
    a: Annotated[Path, typer.Argument(help="Scenario A (.json/.xlsx).")],
    b: Annotated[Path, typer.Argument(help="Scenario B (.json/.xlsx).")],
    order: Annotated[
        list[str] | None,
        typer.Option(help="A group to switch first (repeat for more); the rest follow."),
    ] = None,
    top: Annotated[int, typer.Option(help="Figures shown per step.")] = 5,
    out: Annotated[
        Path | None, typer.Option(help="Write the bridge as JSON (.json) or a workbook (.xlsx).")
    ] = None,
) -> None:
    """Change A's inputs into B's one group at a time, re-solving after each step."""
    from allocator.explain.bridge import bridge as build

    scenario_a, scenario_b = load_or_exit(a), load_or_exit(b)
    try:
        result = build(scenario_a, scenario_b, order=order or ())
    except AllocatorError as error:
        fail(error)
    for step in result.steps:
        console.print(f"[bold]{step.group}[/bold] ({', '.join(step.fields)})")
        ranked = sorted(step.effect_pence.items(), key=lambda kv: -abs(kv[1]))[:top]
        for figure, pence in ranked:
            console.print(f"  {figure}: {gbp(pence)}")
    console.print("[bold]total change[/bold]")
    for figure, pence in sorted(result.total_change_pence.items(), key=lambda kv: -abs(kv[1]))[
        :top
    ]:
        console.print(f"  {figure}: {gbp(pence)} (most from {result.largest_step[figure]})")
    for line in result.order_spread:
        by = ", ".join(f"{k} {gbp(v)}" for k, v in line.effect_pence_by_order.items())
        console.print(f"order matters: {line.group} on {line.figure}: {by}")
    if out is not None and out.suffix.lower() == ".xlsx":
        from allocator.io.bridge_export import bridge_workbook

        out.write_bytes(bridge_workbook(result))
    elif out is not None:
        out.write_text(result.model_dump_json(indent=1))
