"""`allocator solve FILE`: allocate a scenario and print what a finance director reads first."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.common import fail, gbp, load_or_exit, make_console, pct
from models import Scenario
from models.enums import RiskLimitScope
from models.results import AllocationResult

console = make_console()
RESULT_SUFFIXES = (".json", ".csv", ".xlsx", ".pdf")


def solve(
    path: Annotated[Path, typer.Argument(help="Scenario file (.json or .xlsx).")],
    backend: Annotated[
        str | None, typer.Option(help="Solver backend: highs, ortools or pulp.")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Seconds per solver stage.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the full result (.json), the providers table (.csv), the board pack (.xlsx) or the board report (.pdf)."
        ),
    ] = None,
    sensitivity: Annotated[
        bool, typer.Option("--sensitivity", help="Ranges over which each shadow price holds.")
    ] = False,
    risk_limits: Annotated[
        RiskLimitScope | None,
        typer.Option(
            "--risk-limits",
            help="Risk-aware: hold CVaR limits (all, providers' appetites, or the pool's reserve).",
        ),
    ] = None,
    risk_draws: Annotated[
        int, typer.Option("--risk-draws", min=10, help="Sampled outturns in the optimisation.")
    ] = 500,
    risk_seed: Annotated[
        int, typer.Option("--risk-seed", help="Seed of those draws (the check uses seed + 1).")
    ] = 7,
) -> None:
    """Allocate the scenario's budget and print the allocation."""
    from allocator.errors import AllocatorError
    from allocator.pipeline import solve_scenario

    if out is not None and out.suffix.lower() not in RESULT_SUFFIXES:
        typer.echo(f"error: cannot write {out.name}: use .json, .csv, .xlsx or .pdf", err=True)
        raise typer.Exit(2)
    scenario = load_or_exit(path)
    try:
        if risk_limits is None:
            result = solve_scenario(
                scenario, backend=backend, time_limit_s=time_limit, sensitivity=sensitivity
            )
        else:  # the risk-aware solve (and the pandas its CVaR rows use) only when asked
            from allocator.riskaware.aware import RiskLimits, solve_risk_aware

            limits = RiskLimits(scope=risk_limits, draws=risk_draws, seed=risk_seed)
            result = solve_risk_aware(
                scenario, limits, backend=backend, time_limit_s=time_limit, sensitivity=sensitivity
            )
    except AllocatorError as error:
        fail(error)
    print_summary(result)
    print_explanation(result, scenario)
    if result.risk_limits is not None:  # the risk report's module only for a risk-aware result
        from cli.risk_report import print_risk_limits

        print_risk_limits(result)
    if out is not None:
        from allocator.io.result_export import write_result

        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_result(result, out, scenario)
        except AllocatorError as error:
            fail(error)
        console.print(f"Full result written to [bold]{out}[/bold]")
    if not result.feasible:
        raise typer.Exit(3)


def print_summary(result: AllocationResult) -> None:
    pot = result.pot
    status_style = "green" if result.feasible else "red"
    console.print(
        f"[bold]{result.scenario_id}[/bold]  status [{status_style}]{result.status}[/{status_style}]"
        f"  backend {result.backend}  solve {result.timings.solve_s:.3f}s  total {result.timings.total_s:.3f}s"
    )
    console.print(
        f"Pool {gbp(pot.total_pence)} = pass-through {gbp(pot.pass_through_pence)}"
        f" + reserve {gbp(pot.reserve_pence)} + capitated pot {gbp(pot.capitated_pence)}"
    )
    if result.risk_limits is None:  # a risk-aware result's notes come with its limits
        for note in result.notes:
            console.print(f"[yellow]Note:[/yellow] {note}")
    if not result.feasible:
        reason = NO_ALLOCATION.get(result.status, result.status)
        detail = f" (solver: {result.status_detail})" if result.status_detail else ""
        console.print(f"[red]No allocation: {reason}{detail}[/red]")
        return
    providers = Table(title="Budgets by provider", show_lines=False)
    for col in ("provider", "kind", "payment", "baseline", "budget", "change"):
        providers.add_column(
            col, justify="right" if col in ("baseline", "budget", "change") else "left"
        )
    for p in result.providers:
        providers.add_row(
            p.name or p.provider_id,
            p.kind,
            p.payment,
            gbp(p.baseline_pence),
            gbp(p.budget_pence),
            pct(p.change_share),
        )
    console.print(providers)
    places = Table(title="Places against fair-share target")
    for col in ("place", "need index", "target", "allocation", "distance"):
        places.add_column(col, justify="left" if col == "place" else "right")
    for u in result.places:
        places.add_row(
            u.name or u.unit_id,
            "" if u.need_index is None else f"{u.need_index:.3f}",
            gbp(u.target_pence),
            gbp(u.allocation_pence or 0),
            pct(u.distance_from_target),
        )
    console.print(places)
    if result.minimum_spends:
        minimums = Table(title="Minimum spends: required, how derived, published")
        for col in ("rule", "required", "derivation", "published", "binding"):
            minimums.add_column(
                col, justify="right" if col in ("required", "published") else "left"
            )
        for m in result.minimum_spends:
            minimums.add_row(
                m.rule_id,
                gbp(m.required_pence),
                m.derivation,
                "" if m.published_pence is None else gbp(m.published_pence),
                "yes" if m.binding else "no",
            )
        console.print(minimums)
    binding = sum(1 for r in result.rules if r.binding)
    breached = sum(1 for r in result.rules if r.breach_pence)
    funded = [s for s in result.schemes if s.units_funded]
    console.print(
        f"Value {result.value_total:,.2f} {result.value_unit}; schemes funded {len(funded)}/{len(result.schemes)};"
        f" binding rules {binding}; soft rules breached {breached}"
    )
    for stage in result.stages:
        objective = (
            "n/a" if stage.objective is None else f"{stage.objective:,.6g} {stage.objective_unit}"
        )
        published = (
            ""
            if stage.published is None
            else f"; published {stage.published:,.6g} {stage.objective_unit} after rounding"
        )
        console.print(
            f"  stage {stage.stage}: {stage.status}, {objective}{published}"
            f" ({stage.solve_time_s:.3f}s)"
        )


def print_explanation(result: AllocationResult, scenario: Scenario | None = None) -> None:
    """Binding rules with what relaxing each is worth in QALYs and £; the worth of £1m more
    from each funder; or the infeasibility report."""
    from allocator.explain.finance import (
        MILLION,
        funder_names,
        funder_words,
        money,
        qalys,
        ranked_rules,
        rate_of,
        rule_title,
        scheme_words,
    )

    if result.infeasibility is not None:
        report = result.infeasibility
        console.print(f"[red]{report.summary}[/red]")
        if report.conflicting_rules:
            console.print("Rules in conflict: " + "; ".join(report.conflicting_rules[:12]))
        return
    explanation = result.explanation
    if explanation is None:
        return
    rate = rate_of(scenario, result)
    table = Table(title="Binding rules: what £1m more here buys")
    for col in ("rule", f"{rate.unit} per £1m", "worth", "per 1 point of pace", "holds for bound"):
        table.add_column(col, justify="left" if col == "rule" else "right")
    for line in ranked_rules(result):
        holds = (
            ""
            if line.valid_from_gbp is None or line.valid_to_gbp is None
            else f"{money(line.valid_from_gbp)} – {money(line.valid_to_gbp)}"
        )
        price = line.shadow_price
        per_pp = line.value_per_percentage_point
        table.add_row(
            rule_title(line.rule),
            "" if price is None else qalys(price * MILLION),
            "" if price is None else money(price * MILLION * rate.gbp_per_unit),
            "" if not per_pp else f"{qalys(per_pp)} ({money(per_pp * rate.gbp_per_unit)})",
            holds,
        )
    console.print(table)
    console.print(rate.sentence())
    names = funder_names(result)
    for marginal in explanation.pool:
        if marginal.value_per_gbp is not None:
            console.print(
                funder_words(marginal, names.get(marginal.funder_id, marginal.funder_id), rate)
            )
    for scheme in explanation.schemes:
        console.print(scheme_words(scheme, rate))
    for note in explanation.notes:
        console.print(f"[dim]{note}[/dim]")


NO_ALLOCATION = {
    "infeasible": "the hard rules cannot all hold",
    "unbounded": "the objective is unbounded (a rule or bound is missing)",
    "time_limit_no_solution": "the time limit passed before any allocation was found; "
    "allow more with --time-limit",
    "numerical_error": "the solver ran into numerical trouble; try another --backend",
    "solver_error": "the solver failed; try another --backend",
}


def _no_negative_zero(value: float) -> float:
    """A binding rule with no marginal value shows 0, not the solver's -0."""
    return value + 0.0
