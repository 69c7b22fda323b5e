"""`allocator validate FILE`: every problem at once, located; or a one-screen summary.

Exit codes: 0 valid (warnings may be printed), 1 blocking problems, 2 the file cannot be
read at all (or validation itself broke). Never a traceback, whatever the file holds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from allocator.domain.money import pence_to_gbp_str as gbp
from allocator.errors import Issue
from cli.common import not_a_result
from models import Scenario


def where(issue: Issue) -> str:
    """``Funders!D3 (amount_pence)`` in a workbook, else the document path (`Issue.where`)."""
    return issue.where() if issue.sheet is not None or issue.loc else "the file"


def _print_issues(console: Console, title: str, issues: list[Issue], style: str) -> None:
    console.print(f"[{style}]{escape(title)}[/{style}]")
    from allocator.io.excel_reading import reading_order

    for number, issue in enumerate(reading_order(issues), start=1):
        console.print(f"  {number:>3}. [bold]{escape(where(issue))}[/bold]")
        console.print(f"       {escape(issue.message)}")


@dataclass(frozen=True)
class Summary:
    """The figures the summary screen shows, computed once (and tested)."""

    counts: dict[str, int]
    headcount: float
    weighted_population: float
    providers_by_kind: dict[str, tuple[int, int]]  # kind -> (count, total baseline pence)
    rules: dict[str, int]


def summarise(scenario: Scenario) -> Summary:
    weight = {s.segment_id: s.cost_weight for s in scenario.segments}
    factor: dict[str, float] = defaultdict(lambda: 1.0)
    for adjustment in scenario.local_adjustments:
        factor[adjustment.neighbourhood_id] *= adjustment.factor
    headcount = sum(row.headcount for row in scenario.populations)
    weighted = sum(
        row.headcount * weight[row.segment_id] * factor[row.neighbourhood_id]
        for row in scenario.populations
    )
    by_kind: dict[str, tuple[int, int]] = {}
    for provider in scenario.providers:
        count, baseline = by_kind.get(provider.kind.value, (0, 0))
        by_kind[provider.kind.value] = (count + 1, baseline + provider.baseline_pence)
    return Summary(
        counts={
            "systems": len(scenario.systems),
            "places": len(scenario.places),
            "neighbourhoods": len(scenario.neighbourhoods),
            "segments": len(scenario.segments),
            "providers": len(scenario.providers),
            "funders": len(scenario.funders),
        },
        headcount=headcount,
        weighted_population=weighted,
        providers_by_kind=by_kind,
        rules={
            "ring-fences": len(scenario.ring_fences),
            "minimum spends": len(scenario.minimum_spends),
            "pace of change": len(scenario.pace_of_change),
            "fair shares": len(scenario.fair_shares),
            "schemes": len(scenario.schemes),
            "risk-share agreements": len(scenario.risk_share_agreements),
            "value curves": len(scenario.value_curves),
        },
    )


def _count(number: int, plural: str) -> str:
    return f"{number:,} {plural if number != 1 else plural.removesuffix('s')}"


def print_summary(console: Console, path: Path, scenario: Scenario) -> None:
    from allocator.domain.pot import pot_breakdown

    summary = summarise(scenario)
    pot = pot_breakdown(scenario)
    title = " · ".join(x for x in (scenario.name, scenario.financial_year) if x)
    console.print(
        f"[green]✓ {escape(path.name)} is valid[/green]: [bold]{escape(scenario.scenario_id)}[/bold]"
        + (f" ({escape(title)})" if title else "")
    )
    c = summary.counts
    console.print(
        "Geography   "
        + " · ".join(
            _count(c[noun], noun) for noun in ("systems", "places", "neighbourhoods", "segments")
        )
    )
    console.print(
        f"Population  {summary.headcount:,.0f} people · weighted population "
        f"{summary.weighted_population:,.1f}"
    )
    console.print(
        f"Pot         total {gbp(pot.total_pence)} · pass-through {gbp(pot.pass_through_pence)}"
        f" · reserve {gbp(pot.reserve_pence)} · capitated pot {gbp(pot.capitated_pence)}"
        f" ({_count(c['funders'], 'funders')})"
    )
    table = Table(title=_count(c["providers"], "providers"), title_justify="left")
    table.add_column("kind")
    table.add_column("providers", justify="right")
    table.add_column("total baseline", justify="right")
    for kind, (count, baseline) in sorted(summary.providers_by_kind.items()):
        table.add_row(kind, str(count), gbp(baseline))
    console.print(table)
    console.print("Rules       " + " · ".join(f"{name} {n}" for name, n in summary.rules.items()))
    console.print(f"Content hash {scenario.content_hash()}")


def validate(
    path: Annotated[Path, typer.Argument(help="Scenario file (.json or .xlsx).")],
) -> None:
    """Check a scenario file: every problem at once, located; or a summary if it is valid."""
    console = Console(highlight=False)
    not_a_result(path)
    try:
        code = _validate(console, path)
    except Exception as err:  # the command boundary: a one-line error, never a traceback
        Console(stderr=True, highlight=False).print(
            f"[red]error[/red]: could not validate {escape(str(path))}: "
            f"{escape(type(err).__name__)}: {escape(str(err))}"
        )
        raise typer.Exit(2) from None
    raise typer.Exit(code)


def _validate(console: Console, path: Path) -> int:
    from allocator.io.load import UNREADABLE, load_and_validate
    from allocator.validate import blocking, warnings

    scenario, issues = load_and_validate(path)
    unreadable = [issue for issue in issues if issue.code == UNREADABLE]
    if unreadable:
        Console(stderr=True, highlight=False).print(
            f"[red]error[/red]: {escape(unreadable[0].message)}"
        )
        return 2
    problems, notes = blocking(issues), warnings(issues)
    if problems or scenario is None:
        _print_issues(
            console,
            f"✗ {path.name}: {len(problems)} problem(s) must be fixed before it can be solved",
            problems,
            "red",
        )
        if notes:
            console.print()
            _print_issues(
                console, f"{len(notes)} warning(s) (these do not block):", notes, "yellow"
            )
        return 1
    print_summary(console, path, scenario)
    if notes:
        console.print()
        _print_issues(console, f"{len(notes)} warning(s) (these do not block):", notes, "yellow")
    return 0
