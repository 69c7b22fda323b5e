"""`allocator risk-design`: the band shares of a new risk-share agreement that keep both sides' CVaR within limits.

It takes a scenario (solved first) or an allocation result with the scenario it was solved
from (``--scenario``; its content hash must match the result's).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from allocator.errors import AllocatorError
from cli.common import err, fail, gbp, make_console
from cli.risk_report import DEFAULT_SEED, load_allocation, usage_error

console = make_console()


def _edges(text: str) -> list[float]:
    """ "1,3" → [0.01, 0.03]: band edges in % of the budget."""
    try:
        values = [float(part) / 100 for part in re.split(r"[,\s]+", text.strip()) if part]
    except ValueError:
        raise usage_error(
            f"--bands takes edges in % of the budget, e.g. 1,3; got {text!r}"
        ) from None
    if not values:
        raise usage_error("--bands needs at least one edge, e.g. 1,3")
    return values


def risk_design(
    path: Annotated[
        Path,
        typer.Argument(help="Scenario (.json/.xlsx, solved first) or allocation result (.json)."),
    ],
    provider: Annotated[
        str, typer.Option("--provider", help="The provider to design an agreement for.")
    ],
    scenario: Annotated[
        Path | None, typer.Option("--scenario", help="The scenario a result file was solved from.")
    ] = None,
    provider_cvar_limit: Annotated[
        int | None,
        typer.Option(min=0, help="Provider's CVaR limit in pence (default: its risk appetite)."),
    ] = None,
    pool_cvar_limit: Annotated[
        int | None,
        typer.Option(min=0, help="Pool's CVaR limit in pence (default: the contingency reserve)."),
    ] = None,
    bands: Annotated[
        str,
        typer.Option(help="Band edges in % of the budget, each side: '1,3' gives 0–1%, 1–3%, 3%+."),
    ] = "1,3",
    draws: Annotated[
        int, typer.Option(min=100, help="Monte Carlo draws in the design LP.")
    ] = 5_000,
    seed: Annotated[
        int, typer.Option(help="Random seed (fresh draws for the check use seed + 1).")
    ] = DEFAULT_SEED,
    level: Annotated[float, typer.Option(help="CVaR level, e.g. 0.95.")] = 0.95,
    agreement_id: Annotated[str | None, typer.Option(help="Id of the new agreement.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the agreement: .json (the agreement) or .xlsx (rows on the scenario "
            "template's RiskShareAgreements and RiskShareBands sheets, to paste in)."
        ),
    ] = None,
    backend: Annotated[str | None, typer.Option(help="Backend for a scenario solved here.")] = None,
) -> None:
    """Find band shares that keep the provider's and the pool's CVaR within limits."""
    from allocator.riskshare.design import design_agreement
    from allocator.riskshare.inputs import result_budgets

    if not 0.0 < level < 1.0:
        raise usage_error(f"--level must be strictly between 0 and 1, got {level}")
    if out is not None and out.suffix.lower() not in (".json", ".xlsx"):
        raise usage_error(f"--out takes a .json or .xlsx file, got {out.name!r}")
    edges = _edges(bands)
    result, scenario_doc = load_allocation(path, scenario, backend)
    budgets, mix = result_budgets(result)
    if provider not in budgets:
        raise usage_error(f"no provider {provider!r}; choose one of {', '.join(budgets)}")
    try:
        design = design_agreement(
            scenario_doc,
            provider,
            budgets[provider],
            mix.get(provider),
            provider_limit_pence=provider_cvar_limit,
            pool_limit_pence=pool_cvar_limit,
            edges_share=edges,
            draws=draws,
            seed=seed,
            level=level,
            agreement_id=agreement_id,
        )
    except AllocatorError as error:
        fail(error)
    console.print(
        f"[bold]{provider}[/bold]: budget {gbp(design.budget_pence)}; CVaR at {design.level:.0%} "
        f"within {gbp(design.provider_limit_pence)} (provider) and {gbp(design.pool_limit_pence)} "
        f"(pool); {design.draws:,} draws (seed {design.seed})"
    )
    if not design.feasible or design.agreement is None:
        console.print(f"[red]{design.message}[/red]")
        raise typer.Exit(3)
    table = Table(title="Recommended bands (provider's share of the variance in each)")
    for column in ("side", "from", "to", "provider share", "expected in band"):
        table.add_column(column, justify="left" if column == "side" else "right")
    for band in design.bands:
        table.add_row(
            band.side,
            gbp(band.from_pence),
            "beyond" if band.to_pence is None else gbp(band.to_pence),
            f"{band.provider_share:.2%}",
            gbp(band.expected_pence),
        )
    console.print(table)
    checks = Table(title="CVaR of the recommended agreement")
    for column in (
        "side",
        "limit",
        f"on the {design.draws:,} draws",
        f"on {design.check_draws:,} fresh draws",
    ):
        checks.add_column(column, justify="left" if column == "side" else "right")
    checks.add_row(
        "provider",
        gbp(design.provider_limit_pence),
        gbp(design.provider_cvar_pence or 0),
        gbp(design.provider_cvar_check_pence or 0),
    )
    checks.add_row(
        "pool",
        gbp(design.pool_limit_pence),
        gbp(design.pool_cvar_pence or 0),
        gbp(design.pool_cvar_check_pence or 0),
    )
    console.print(checks)
    console.print(
        f"Expected transfer between provider and pool: {gbp(design.expected_transfer_pence or 0)}"
    )
    snippet = design.agreement.model_dump_json(indent=2)
    console.print(
        "Paste into the scenario's risk_share_agreements (and set the provider's "
        "risk_share_agreement_id):"
    )
    console.print(snippet, highlight=False, markup=False, soft_wrap=True)
    if out is not None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.suffix.lower() == ".xlsx":
                from allocator.io.agreement_rows import design_workbook_bytes

                out.write_bytes(design_workbook_bytes(design))
            else:
                out.write_text(snippet + "\n")
        except OSError as error:
            err.print(f"[red]Cannot write the agreement[/red]: {error}")
            raise typer.Exit(1) from None
        console.print(f"Agreement written to [bold]{out}[/bold]")
