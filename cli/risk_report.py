"""`allocator risk`: outturn risk of an allocation under its risk-share agreements.

It takes a scenario (solved first) or an allocation result with the scenario it was solved
from (``--scenario``; its content hash must match the result's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from allocator.domain.money import pence_to_gbp_str
from allocator.errors import AllocatorError
from cli.common import err, fail, gbp, load_or_exit, make_console, result_document
from models import Scenario
from models.results import AllocationResult

console = make_console()


DEFAULT_DRAWS = 10_000


DEFAULT_SEED = 1


TERMINAL_BINS = 10


def usage_error(message: str) -> typer.Exit:
    err.print(f"[red]{message}[/red]")
    return typer.Exit(2)


def load_allocation(
    path: Path, scenario_path: Path | None, backend: str | None = None
) -> tuple[AllocationResult, Scenario]:
    """A result with its scenario (hashes checked), or a scenario solved here; exits cleanly."""
    from pydantic import ValidationError

    document = result_document(path)
    if document is not None:
        if scenario_path is None:
            raise usage_error(
                f"{path.name} is an allocation result: give the scenario it was solved from "
                "with --scenario FILE"
            )
        scenario = load_or_exit(scenario_path)
        try:
            result = AllocationResult.model_validate(document)
        except ValidationError as error:
            raise usage_error(
                f"{path.name} is not a valid allocation result: {error.errors()[0]['msg']}"
            ) from None
        if result.scenario_hash != scenario.content_hash():
            raise usage_error(
                f"{path.name} was not solved from {scenario_path.name}: the result's scenario hash "
                f"{result.scenario_hash[:12]}… differs from the file's {scenario.content_hash()[:12]}…"
            )
    else:
        if scenario_path is not None:
            raise usage_error("--scenario is only for result files; the scenario is solved here")
        scenario = load_or_exit(path)
        from allocator.pipeline import solve_scenario

        try:
            result = solve_scenario(scenario, backend=backend, explain=False)
        except AllocatorError as error:
            fail(error)
    if not result.feasible or not result.providers:
        err.print(f"[red]No allocation to assess[/red]: status {result.status}")
        raise typer.Exit(3)
    return result, scenario


def signed(pence: int) -> str:
    """A risk figure with its sign: '+£1,234.00' an overspend (a cost), '-£5.00' kept."""
    return ("+" if pence > 0 else "-" if pence < 0 else "") + pence_to_gbp_str(abs(pence))


def _share(value: float) -> str:
    return f"{value:.1%}"


def risk(
    path: Annotated[
        Path,
        typer.Argument(help="Scenario (.json/.xlsx, solved first) or allocation result (.json)."),
    ],
    scenario: Annotated[
        Path | None, typer.Option("--scenario", help="The scenario a result file was solved from.")
    ] = None,
    draws: Annotated[int, typer.Option(min=1, help="Monte Carlo draws.")] = DEFAULT_DRAWS,
    seed: Annotated[
        int, typer.Option(help="Random seed (the same seed, the same draws).")
    ] = DEFAULT_SEED,
    level: Annotated[float, typer.Option(help="VaR and CVaR level, e.g. 0.95.")] = 0.95,
    confidence: Annotated[
        float, typer.Option(help="Confidence for the reserve needed, e.g. 0.95.")
    ] = 0.95,
    out: Annotated[
        Path | None, typer.Option(help="Write the report (.json, .csv tidy table, or .xlsx).")
    ] = None,
    png: Annotated[
        Path | None, typer.Option(help="Folder for histogram PNGs (needs matplotlib).")
    ] = None,
    histograms: Annotated[
        bool, typer.Option("--histograms/--no-histograms", help="Print histograms in the terminal.")
    ] = True,
    backend: Annotated[str | None, typer.Option(help="Backend for a scenario solved here.")] = None,
) -> None:
    """Simulate outturn for an allocation and report each provider's and the pool's risk."""
    from allocator.io.risk_export import check_report_path, write_report
    from allocator.riskshare import histogram_lines, result_risk_report, write_histogram_png
    from allocator.riskshare.histogram import coarsen, require_matplotlib
    from allocator.riskshare.report import SIGN_CONVENTION, reserve_warning

    for name, given in (("--level", level), ("--confidence", confidence)):
        if not 0.0 < given < 1.0:
            raise usage_error(f"{name} must be strictly between 0 and 1, got {given}")
    try:
        if out is not None:
            check_report_path(out)
        if png is not None:
            require_matplotlib()
    except AllocatorError as error:
        fail(error)
    result, scenario_doc = load_allocation(path, scenario, backend)
    try:
        report = result_risk_report(
            result,
            scenario_doc,
            draws=draws,
            seed=seed,
            level=level,
            reserve_confidence=confidence,
        )
    except AllocatorError as error:
        fail(error)
    appetite = {p.provider_id: p.risk_appetite_pence for p in scenario_doc.providers}
    console.print(
        f"[bold]{report.scenario_id}[/bold]  {report.draws:,} draws (seed {report.seed}), "
        f"level {report.level:.0%}, breakeven at {report.pool.breakeven.value} level"
    )
    console.print(SIGN_CONVENTION, highlight=False)
    table = Table(title="Providers after sharing (+ overspend, a cost to the provider)")
    for column in (
        "provider",
        "budget",
        "agreement",
        "volume risk",
        "expected overspend",
        "P(overspend)",
        "VaR",
        "CVaR",
        "appetite",
    ):
        table.add_column(
            column,
            justify="left" if column in ("provider", "agreement", "volume risk") else "right",
        )
    from allocator.riskshare.volume import VolumeRisk  # not imported by `allocator solve`

    for row in report.providers:
        limit = appetite.get(row.provider_id)
        over = limit is not None and row.share.cvar_pence > limit
        table.add_row(
            row.provider_id,
            gbp(row.budget_pence),
            row.agreement_id or "(bears all)",
            "as agreed" if row.volume_risk is VolumeRisk.AGREEMENT else row.volume_risk.value,
            signed(row.share.expected_pence),
            _share(row.share.prob_loss),
            gbp(row.share.var_pence),
            f"[red]{gbp(row.share.cvar_pence)}[/red]" if over else gbp(row.share.cvar_pence),
            "" if limit is None else gbp(limit),
        )
    console.print(table)
    pool, reserve = report.pool, report.pool.reserve
    summary = Table(title="The pool (+ overspend, a cost to the pool)")
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    for label, value in (
        ("expected call", signed(pool.call.expected_pence)),
        ("VaR of the call", gbp(pool.call.var_pence)),
        ("CVaR of the call", gbp(pool.call.cvar_pence)),
        ("contingency reserve", gbp(reserve.reserve_pence)),
        ("expected call on the reserve", gbp(reserve.expected_call_pence)),
        ("P(call exhausts the reserve)", _share(reserve.prob_exceeds_reserve)),
        ("expected shortfall beyond it", gbp(reserve.expected_shortfall_pence)),
        (f"reserve needed at {reserve.confidence:.0%}", gbp(reserve.reserve_needed_pence)),
    ):
        summary.add_row(label, value)
    console.print(summary)
    warning = reserve_warning(reserve)
    if warning:
        console.print(f"[bold red]{escape(warning)}[/bold red]")
    for budget in report.pooled_budgets:
        shares = ", ".join(
            f"{p.funder_id} {signed(p.share.expected_pence)}" for p in budget.partners
        )
        console.print(
            f"Pooled budget {budget.agreement_id}: expected variance "
            f"{signed(budget.variance.expected_pence)}; partners' expected shares: {shares}"
        )
    if histograms:
        console.print(
            "\n[bold]The pool's call[/bold] (draws per band of £; + overspend, a cost to the pool)"
        )
        for line in histogram_lines(coarsen(pool.histogram, TERMINAL_BINS), width=30):
            console.print(line, highlight=False)
        for row in report.providers:
            console.print(
                f"\n[bold]{row.provider_id}[/bold]: its part after sharing "
                "(+ overspend, a cost to the provider)"
            )
            for line in histogram_lines(coarsen(row.histogram, TERMINAL_BINS), width=30):
                console.print(line, highlight=False)
    for note in report.notes:
        console.print(f"[dim]{note}[/dim]")
    try:
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            write_report(report, out)
            console.print(f"Report written to [bold]{out}[/bold]")
        if png is not None:
            png.mkdir(parents=True, exist_ok=True)
            write_histogram_png(
                pool.histogram,
                png / "pool-call.png",
                title="The pool's call on the reserve",
                stats=pool.call,
                level=report.level,
                reserve_pence=reserve.reserve_pence,
                warning=warning,
            )
            for row in report.providers:
                write_histogram_png(
                    row.histogram,
                    png / f"provider-{row.provider_id}.png",
                    title=f"{row.provider_id} after sharing",
                    stats=row.share,
                    level=report.level,
                    bearer="the provider",
                )
            console.print(f"Histograms written to [bold]{png}[/bold]")
    except AllocatorError as error:
        fail(error)
    except OSError as error:
        err.print(f"[red]Cannot write the output[/red]: {error}")
        raise typer.Exit(1) from None


def print_risk_limits(result: AllocationResult) -> None:
    """The CVaR limits of a risk-aware allocation: out-of-sample check and what they cost."""
    report = result.risk_limits
    if report is None:
        return
    table = Table(
        title=f"CVaR limits at {report.level:.0%} (checked on {report.check_draws:,} fresh draws)"
    )
    for column in ("limit", "appetite", "plain allocation", "risk-aware", "holds"):
        table.add_column(column, justify="left" if column == "limit" else "right")
    for line in report.limits:
        holds = "" if line.holds is None else ("yes" if line.holds else "[red]NO[/red]")
        table.add_row(
            line.limit,
            gbp(line.limit_pence),
            "" if line.plain_cvar_pence is None else gbp(line.plain_cvar_pence),
            "" if line.cvar_pence is None else gbp(line.cvar_pence),
            holds,
        )
    if report.limits:
        console.print(table)
    rate = "n/a" if report.violation_rate is None else f"{report.violation_rate:.0%}"
    console.print(
        f"Violation rate out of sample: {rate}. Sampling: {report.sampling} "
        f"Sharing: {report.approximation}."
    )
    worse = {
        stage: cost
        for stage, cost in report.stage_costs.items()
        if abs(cost) >= 1e-4 and stage != "value"
    }
    if worse:
        console.print(
            "Change in each stage's optimum against the plain allocation (positive: worse): "
            + "; ".join(f"{stage} {cost:+,.6g}" for stage, cost in worse.items())
        )
    if report.value_cost is not None:
        gbp_cost = (
            ""
            if report.value_cost_gbp is None
            else f" (£{report.value_cost_gbp:,.0f} at the reference rate)"
        )
        console.print(
            f"Value given up for the limits: {report.value_cost:,.4g} value units{gbp_cost}."
        )
