"""`allocator import-nhse YEAR OUT`: NHS England's published weighted populations as a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()


def _codes(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.strip().upper() for c in text.split(",") if c.strip()))


def import_nhse(
    year: Annotated[str, typer.Argument(help="Allocation year: 2022/23, 2023/24 or 2024/25.")],
    out: Annotated[Path, typer.Argument(help="Where to write the scenario (.json).")],
    gbp_per_head: Annotated[
        float, typer.Option(help="Illustrative core-services pot in £ per head of population.")
    ] = 1_500.0,
    streams: Annotated[
        str,
        typer.Option(
            help="core (ICB core services, Final WP) or both (also primary medical care, "
            "Final PMC WP), each a capitated stream with its own targets."
        ),
    ] = "core",
    pmc_gbp_per_head: Annotated[
        float, typer.Option(help="Illustrative primary medical care pot in £ per head.")
    ] = 175.0,
    systems: Annotated[
        str, typer.Option(help="Only these ICBs, comma-separated codes (e.g. QE1,QHM).")
    ] = "",
    growth: Annotated[
        float | None,
        typer.Option(
            help="Recurrent growth from last year (0.04 = 4%): derives last year's baselines "
            "from the previous published year's weighted populations."
        ),
    ] = None,
    per_head_share: Annotated[
        float,
        typer.Option(
            help="λ: last year's shares sit this far from weighted-population shares towards "
            "plain population shares (0 = last year at target)."
        ),
    ] = 0.0,
    convergence: Annotated[
        float | None, typer.Option(help="System-level convergence κ (needs --growth).")
    ] = None,
    floor_growth: Annotated[
        float, typer.Option(help="Floor growth of the convergence rule (0.01 = 1%).")
    ] = 0.0,
    mh_share: Annotated[
        float | None,
        typer.Option(
            help="Mental-health share of last year's core baseline: adds a per-system mental "
            "health investment standard counting only NHS core money (needs --growth)."
        ),
    ] = None,
    need_index: Annotated[
        str, typer.Option(help="Need indices relative to england or to the parent system.")
    ] = "england",
    need_index_csv: Annotated[
        Path | None, typer.Option(help="Also write every unit's need indices to this CSV.")
    ] = None,
) -> None:
    """Build a national scenario (ICBs, sub-ICB places, PCNs) from the published populations."""
    from allocator.synth.nhse import nhse_tables
    from allocator.synth.nhse_national import StreamOptions, import_streams
    from allocator.synth.nhse_streams import CORE, PMC, RelativeTo, need_index_table, subset
    from cli.generate import write_scenario

    try:
        if streams not in ("core", "both"):
            raise ValueError(f"--streams is core or both, not {streams!r}")
        try:
            relative_to = RelativeTo(need_index)
        except ValueError:
            raise ValueError(f"--need-index is england or parent, not {need_index!r}") from None
        options = StreamOptions(
            streams=(CORE,) if streams == "core" else (CORE, PMC),
            gbp_per_head=gbp_per_head,
            pmc_gbp_per_head=pmc_gbp_per_head,
            system_ids=_codes(systems),
            growth_share=growth,
            convergence_share=convergence,
            floor_growth_share=floor_growth,
            mh_share=mh_share,
            per_head_share=per_head_share,
        )
        scenario = import_streams(year, options)
        england = nhse_tables(year)
        table = need_index_table(
            subset(england, options.system_ids), options.streams, relative_to, england
        )
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    write_scenario(scenario, out)
    if need_index_csv is not None:
        need_index_csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(need_index_csv, index=False, float_format="%.6f")
    unassigned = sum(
        1 for n in scenario.neighbourhoods if n.neighbourhood_id.startswith("unassigned")
    )
    console.print(
        f"Wrote [bold]{out}[/bold] ({scenario.financial_year}): {len(scenario.systems)} ICBs,"
        f" {len(scenario.places)} sub-ICB places, {len(scenario.neighbourhoods)} neighbourhoods"
        f" ({unassigned} of practices without a PCN). The pot and providers are illustrative."
    )
    for funder in scenario.funders:
        console.print(f"  stream {funder.funder_id}: £{funder.amount_pence / 100:,.2f}")
    for stream in options.streams:
        for level in ("system", "neighbourhood"):
            index = table.loc[table["level"] == level, f"{stream}_need_index"].dropna()
            console.print(
                f"  {stream} need index of {level}s, relative to {relative_to.value}:"
                f" {index.min():.3f} to {index.max():.3f}"
            )
