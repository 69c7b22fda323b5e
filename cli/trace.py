"""`allocator trace RESULT "provider X" --scenario S`: the derivation of one published figure."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from allocator.errors import AllocatorError
from cli.common import fail, gbp, load_or_exit, make_console
from cli.verify import load_result_or_exit

console = make_console()


def trace(
    result: Annotated[Path, typer.Argument(help="A published result (.json).")],
    figure: Annotated[
        str,
        typer.Argument(
            help="'provider ID', 'place ID' (ids or names), 'neighbourhood ID', "
            "'cell PROVIDER NEIGHBOURHOOD SEGMENT' or 'flow FUNDER PROVIDER SEGMENT'."
        ),
    ],
    scenario: Annotated[Path, typer.Option(help="The scenario it was solved from.")],
    out: Annotated[Path | None, typer.Option(help="Write the trace as JSON.")] = None,
) -> None:
    """Trace a published figure: parts, target, rules, the stage that fixed it, rounding."""
    from allocator.explain.trace import trace_figure

    published = load_result_or_exit(result)
    loaded = load_or_exit(scenario)
    try:
        t = trace_figure(published, loaded, figure)
    except AllocatorError as error:
        fail(error)
    console.print(f"[bold]{t.figure}[/bold]: {gbp(t.published_pence)}")
    for name, pence in t.parts_pence.items():
        console.print(f"  {name}: {gbp(pence)}")
    console.print(f"  = {gbp(sum(t.parts_pence.values()))}")
    if t.target_pence is not None:
        console.print(f"fair-share target {gbp(t.target_pence)} = {t.target_derivation}")
        console.print(f"distance from target {gbp(t.distance_from_target_pence or 0)}")
    if t.baseline_pence is not None:
        console.print(f"baseline {gbp(t.baseline_pence)}")
    for rule in t.binding_rules:
        price = (
            ""
            if rule.shadow_price is None
            else f" ({rule.shadow_price:.4g} {rule.shadow_price_unit})"
        )
        console.print(f"binding: {rule.rule}{price}")
    for r in t.stage_ranges:
        low = "?" if r.low_pence is None else gbp(r.low_pence)
        high = "?" if r.high_pence is None else gbp(r.high_pence)
        console.print(f"  after {r.stage}: between {low} and {high}")
    console.print(f"fixed by stage: {t.fixed_by_stage}")
    console.print(
        f"solver figure {t.solver_pence / 100:,.4f} £; rounding moved {t.rounding_pence:+.2f}p"
    )
    if out is not None:
        out.write_text(t.model_dump_json(indent=1))
