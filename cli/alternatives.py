"""`allocator alternatives S --within 0.5% --along "acute vs community"`: a negotiation menu."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from allocator.errors import AllocatorError
from cli.common import err, fail, gbp, load_or_exit, make_console

console = make_console()


def parse_share(text: str) -> float:
    """'0.5%' or '0.005' as a share (0.005); exits 2 with one line on anything else."""
    raw = text.strip()
    try:
        share = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        err.print(f"[red]Not a share[/red]: {text!r} (write e.g. 0.5% or 0.005)")
        raise typer.Exit(2) from None
    return share


def alternatives(
    scenario: Annotated[Path, typer.Argument(help="Scenario (.json/.xlsx).")],
    along: Annotated[
        str,
        typer.Option(
            help="'KIND vs KIND' (e.g. 'acute vs community'), a kind, 'place ID', 'provider ID'."
        ),
    ],
    within: Annotated[
        str, typer.Option(help="Value given up at most, e.g. 0.5% or 0.005.")
    ] = "0.5%",
    count: Annotated[int, typer.Option(help="Alternatives in the menu (1-10).")] = 3,
    out: Annotated[
        Path | None, typer.Option(help="Write the menu (with each result) as JSON.")
    ] = None,
    results: Annotated[
        Path | None, typer.Option(help="A folder to write each alternative's result JSON into.")
    ] = None,
) -> None:
    """As fair as the optimum, value within WITHIN of it, each as different as possible ALONG."""
    from allocator.explain.alternatives import alternatives as build

    loaded = load_or_exit(scenario)
    try:
        menu = build(loaded, along, parse_share(within), count=count)
    except AllocatorError as error:
        fail(error)
    low, high = menu.range_pence
    console.print(f"[bold]{menu.dimension}[/bold] within {menu.within_share:.3%} of the best value")
    console.print(f"optimum: {gbp(menu.optimum_along_pence)}; range {gbp(low)} to {gbp(high)}")
    for number, alt in enumerate(menu.alternatives, start=1):
        checked = "reconciles, rules hold" if not alt.problems else "; ".join(alt.problems)
        console.print(
            f"{number}. {alt.label}: {gbp(alt.along_pence)} ({gbp(alt.change_from_optimum_pence)} "
            f"from the optimum), value {alt.value_share_of_optimum:.4%} of the optimum's; {checked}"
        )
    if out is not None:
        out.write_text(menu.model_dump_json(indent=1))
    if results is not None:
        results.mkdir(parents=True, exist_ok=True)
        for number, alt in enumerate(menu.alternatives, start=1):
            (results / f"alternative-{number}.json").write_text(
                alt.result.model_dump_json(indent=1)
            )
