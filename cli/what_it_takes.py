"""`allocator what-would-it-take S --max-shortfall 1% [--funder ICB]`: the smallest pot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from allocator.errors import AllocatorError
from cli.alternatives import parse_share
from cli.common import fail, gbp, load_or_exit, make_console
from models import Scenario

console = make_console()


def what_would_it_take(
    scenario: Annotated[Path, typer.Argument(help="Scenario (.json/.xlsx).")],
    max_shortfall: Annotated[
        str | None,
        typer.Option(help="Largest shortfall below fair-share target allowed, e.g. 1% or 0.01."),
    ] = None,
    funder: Annotated[
        str | None, typer.Option(help="Move only this funder's money (default: the whole pot).")
    ] = None,
    scheme: Annotated[
        str | None, typer.Option(help="Instead: the pot at which this scheme enters the plan.")
    ] = None,
    by_year: Annotated[
        int | None,
        typer.Option(help="Instead: the place pace cap (or floor) meeting the band by this year."),
    ] = None,
    band: Annotated[
        str | None, typer.Option(help="With --by-year: the band around target, e.g. 5%.")
    ] = None,
    parameter: Annotated[str, typer.Option(help="With --by-year: 'cap' or 'floor'.")] = "cap",
    out: Annotated[Path | None, typer.Option(help="Write the answer as JSON.")] = None,
) -> None:
    """The smallest pot (or uplift from FUNDER) under which every hard rule holds."""
    from allocator.explain.what_it_takes import smallest_pot

    loaded = load_or_exit(scenario)
    if scheme is not None:
        _scheme(loaded, scheme, funder, out)
        return
    if by_year is not None:
        _pace(loaded, by_year, None if band is None else parse_share(band), parameter, out)
        return
    bound = None if max_shortfall is None else parse_share(max_shortfall)
    try:
        answer = smallest_pot(loaded, max_shortfall=bound, funder_id=funder)
    except AllocatorError as error:
        fail(error)
    console.print(f"[bold]{answer.question}[/bold]")
    console.print(f"change {gbp(answer.change_pence)}: pot {gbp(answer.pot_pence)}")
    if answer.funder_amount_pence is not None:
        console.print(f"{answer.funder_id} puts in {gbp(answer.funder_amount_pence)}")
    if answer.largest_shortfall_at_answer is not None:
        console.print(f"largest shortfall there: {answer.largest_shortfall_at_answer:.4%}")
    console.print(
        f"by {answer.method} ({answer.linearisations} linear solve(s), "
        f"{answer.full_solves} full solve(s) to confirm, {answer.seconds:.2f} s)"
    )
    if out is not None:
        out.write_text(answer.model_dump_json(indent=1))


def _scheme(loaded: Scenario, scheme: str, funder: str | None, out: Path | None) -> None:
    from allocator.explain.scheme_entry import scheme_entry

    try:
        answer = scheme_entry(loaded, scheme, funder_id=funder)
    except AllocatorError as error:
        fail(error)
    where = "stays in the plan" if answer.in_plan_today else "enters the plan"
    console.print(
        f"[bold]{scheme}[/bold] {where} from a change of {gbp(answer.change_pence)} "
        f"(pot {gbp(answer.pot_pence)}, {answer.units_funded} unit(s))"
    )
    for note in answer.notes:
        console.print(note)
    console.print(f"by {answer.method} ({answer.full_solves} full solves, {answer.seconds:.2f} s)")
    if out is not None:
        out.write_text(answer.model_dump_json(indent=1))


def _pace(
    loaded: Scenario, by_year: int, band: float | None, parameter: str, out: Path | None
) -> None:
    from allocator.explain.pace_cap import pace_cap_for_band

    try:
        answer = pace_cap_for_band(loaded, by_year=by_year, band_share=band, parameter=parameter)
    except AllocatorError as error:
        fail(error)
    console.print(
        f"[bold]{answer.rule_id}[/bold]: a {answer.parameter} of {answer.growth_share:+.6%} a year "
        f"brings every place within {answer.band_share:.2%} of target by year {answer.by_year}"
    )
    for place, distance in answer.distances_in_year.items():
        console.print(f"  {place}: {distance:+.4%}")
    console.print(f"by {answer.method} ({answer.plans} plans, {answer.seconds:.2f} s)")
    if out is not None:
        out.write_text(answer.model_dump_json(indent=1))
