"""The PDF board report: summary, charts, binding rules in words, reconciliation certificate.

Built with matplotlib's PDF backend (imported here, lazily, so the rest of the tool does not
need it). Every page carries the scenario hash and the software version. The risk page needs
the scenario (its risk-share agreements); without it the page says so.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from typing import Any

from allocator.explain.finance import (
    Rate,
    funder_names,
    funder_words,
    qalys,
    ranked_rules,
    rate_of,
    rule_title,
    rule_words,
    scheme_words,
)
from allocator.io.board_certificate import certificate, no_allocation
from allocator.report.charts import (
    budgets_chart,
    distance_chart,
    flows_chart,
    m,
    risk_chart,
    short,
)
from allocator.report.pages import CERT_ROWS, Pages, chart_page, draw_table, text_pages
from models import Scenario
from models.results import AllocationResult

RISK_DRAWS, RISK_SEED, RISK_LEVEL = 5_000, 1, 0.95


def _summary_page(pages: Pages, result: AllocationResult, rate: Rate) -> None:
    figure = pages.new(f"Board report: {result.scenario_id}")
    pot = result.pot
    base = sum(p.baseline_pence for p in result.providers)
    budget = sum(p.budget_pence for p in result.providers)
    lines = certificate(result)
    failed = sum(1 for c in lines if c.difference_pence)
    facts = [
        f"Status: {result.status} (backend {result.backend})",
        f"Pot (funders' contributions): {m(pot.total_pence)}",
        f"Pass-through to named providers: {m(pot.pass_through_pence)}",
        f"Contingency reserve: {m(pot.reserve_pence)}",
        f"Allocated through places: {m(pot.capitated_pence)}",
        f"Providers' budgets: {m(budget)} ({'+' if budget >= base else ''}{m(budget - base)}"
        + (f", {(budget - base) / base:+.2%} on baseline)" if base else ")"),
        f"Health value: {qalys(result.value_total)} {rate.unit}, "
        f"worth {m(result.value_total * rate.gbp_per_unit * 100)} at the reference rate",
        f"Rules binding or breached: {len(ranked_rules(result))}",
        no_allocation(result)
        if not lines
        else f"Reconciliation: all {len(lines)} lines reconcile to the penny"
        if not failed
        else f"Reconciliation: {failed} of {len(lines)} lines DO NOT reconcile",
    ]
    facts = [textwrap.fill(fact, 70, subsequent_indent="    ") for fact in facts]
    figure.text(0.04, 0.885, "\n".join(facts), fontsize=9.5, va="top", linespacing=1.7)
    binding = ranked_rules(result)[:3]
    what_binds = [
        textwrap.fill(f"{rule_title(r.rule)}: {rule_words(r, rate).split('; ')[0]}.", 72)
        for r in binding
    ]
    figure.text(0.04, 0.5, "What binds most", fontsize=10, fontweight="bold", va="top")
    figure.text(
        0.04,
        0.47,
        "\n\n".join(what_binds or ["No rule binds."]),
        fontsize=7.5,
        va="top",
        linespacing=1.4,
    )
    figure.text(
        0.04, 0.12, textwrap.fill(rate.sentence(), 72), fontsize=7.5, va="top", color="#404040"
    )
    ax = figure.add_axes((0.45, 0.08, 0.52, 0.82))
    rows = [
        [
            short(p.name or p.provider_id, 44),
            m(p.budget_pence),
            ("+" if p.change_pence > 0 else "") + m(p.change_pence),
            "" if p.change_share is None else f"{p.change_share:+.2%}",
        ]
        for p in result.providers
    ]
    rows.append(
        [
            "Total",
            m(budget),
            ("+" if budget > base else "") + m(budget - base),
            f"{(budget - base) / base:+.2%}" if base else "",
        ]
    )
    rows.append(["", "", "", ""])
    rows.append(["Place", "Allocation", "Target", "From target"])
    rows += [
        [
            u.name or u.unit_id,
            m(u.allocation_pence or 0),
            m(u.target_pence),
            "" if u.distance_from_target is None else f"{u.distance_from_target:+.2%}",
        ]
        for u in result.places
    ]
    draw_table(ax, ["Provider", "Budget", "Change", "Change %"], rows, [0.55, 0.16, 0.15, 0.14])
    pages.add(figure)


def _certificate_pages(pages: Pages, result: AllocationResult) -> None:
    lines = certificate(result)
    if not lines:
        text_pages(pages, "Reconciliation certificate", [no_allocation(result)])
        return
    failed = sum(1 for c in lines if c.difference_pence)
    for start in range(0, len(lines), CERT_ROWS):
        figure = pages.new("Reconciliation certificate")
        verdict = (
            f"Certified: all {len(lines)} lines reconcile to the penny (in = out + reserve)."
            if not failed
            else f"NOT reconciled: {failed} of {len(lines)} lines differ."
        )
        figure.text(
            0.04,
            0.895,
            verdict + " Figures in £ to the penny; no money lapses in this allocation. Rounding "
            "moved: the pence publishing in whole pence moved the line's parts from the "
            "optimiser's fractional figures.",
            fontsize=9.5,
            va="top",
        )
        rows = [
            [
                f"{c.level}: {short(c.line, 52)}",
                f"£{c.in_pence / 100:,.2f}",
                f"£{c.out_pence / 100:,.2f}",
                f"£{c.reserve_pence / 100:,.2f}",
                f"£{c.difference_pence / 100:,.2f}",
                "yes" if not c.difference_pence else "NO",
                "" if c.rounding_moved_pence is None else f"{c.rounding_moved_pence:,.2f}p",
            ]
            for c in lines[start : start + CERT_ROWS]
        ]
        draw_table(
            figure.add_axes((0.04, 0.06, 0.92, 0.8)),
            ["Line", "In", "Out", "Reserve", "In - out - reserve", "Reconciles", "Rounding moved"],
            rows,
            [0.34, 0.13, 0.13, 0.1, 0.12, 0.08, 0.1],
        )
        pages.add(figure)


def _rules_paragraphs(result: AllocationResult, rate: Rate) -> list[str]:
    out = [rate.sentence()]
    out += [f"{rule_title(r.rule)}: {rule_words(r, rate)}." for r in ranked_rules(result)] or [
        "No rule binds."
    ]
    explanation = result.explanation
    if explanation is not None:
        names = funder_names(result)
        out += [
            funder_words(p, names.get(p.funder_id, p.funder_id), rate) + "."
            for p in explanation.pool
        ]
        out += [scheme_words(s, rate) + "." for s in explanation.schemes]
    if result.infeasibility is not None:
        out.append(result.infeasibility.summary)
    return out


def _compare_page(pages: Pages, result: AllocationResult, other: AllocationResult) -> None:
    before = {p.provider_id: p.budget_pence for p in other.providers}
    rows = []
    for p in result.providers:
        was = before.get(p.provider_id)
        diff = None if was is None else p.budget_pence - was
        rows.append(
            [
                short(p.name or p.provider_id, 50),
                "" if was is None else m(was),
                m(p.budget_pence),
                "" if diff is None else ("+" if diff > 0 else "") + m(diff),
            ]
        )
    figure = pages.new(f"Compared with {other.scenario_id} ({other.scenario_hash[:12]})")
    figure.text(
        0.04,
        0.895,
        f"Provider budgets: this result against the other (scenario hash {other.scenario_hash}).",
        fontsize=9,
        va="top",
    )
    draw_table(
        figure.add_axes((0.04, 0.06, 0.92, 0.8)),
        ["Provider", "Other", "This", "Difference"],
        rows,
        [0.5, 0.16, 0.16, 0.16],
    )
    pages.add(figure)


def _risk(result: AllocationResult, scenario: Scenario | None) -> Any:
    if scenario is None or not result.feasible:
        return None
    from allocator.riskshare import result_risk_report

    return result_risk_report(
        result,
        scenario,
        draws=RISK_DRAWS,
        seed=RISK_SEED,
        level=RISK_LEVEL,
        reserve_confidence=RISK_LEVEL,
    )


def _page_plan(
    result: AllocationResult, scenario: Scenario | None, other: AllocationResult | None
) -> Iterator[tuple[str, Any]]:
    rate = rate_of(scenario, result)
    yield "summary", lambda pages: _summary_page(pages, result, rate)
    if result.feasible:
        yield (
            "distance",
            lambda pages: chart_page(
                pages, "Distance from fair-share target", lambda ax: distance_chart(ax, result), 2
            ),
        )
        yield (
            "budgets",
            lambda pages: chart_page(
                pages, "Budgets by provider against baseline", lambda ax: budgets_chart(ax, result)
            ),
        )
        yield (
            "flows",
            lambda pages: chart_page(
                pages,
                "Where the money goes: pool, places, providers",
                lambda ax: flows_chart(ax, result),
                note="Band widths are money; pass-through goes from funders straight to named providers.",
            ),
        )
        report = _risk(result, scenario)
        if report is not None:
            yield (
                "risk",
                lambda pages: chart_page(
                    pages,
                    "Risk: the pool's call on the reserve",
                    lambda ax: risk_chart(ax, report),
                    note=f"{RISK_DRAWS:,} simulated outturns (seed {RISK_SEED}); no warning: the reserve covers the call at {RISK_LEVEL:.0%} confidence.",
                ),
            )
        else:
            yield (
                "risk",
                lambda pages: text_pages(
                    pages,
                    "Risk",
                    [
                        "The risk distribution needs the scenario's risk-share agreements: give the scenario to draw it."
                    ],
                ),
            )
    yield (
        "rules",
        lambda pages: text_pages(
            pages, "Binding rules, and what relaxing each is worth", _rules_paragraphs(result, rate)
        ),
    )
    yield "certificate", lambda pages: _certificate_pages(pages, result)
    if other is not None:
        yield "compare", lambda pages: _compare_page(pages, result, other)


def board_report_bytes(
    result: AllocationResult,
    scenario: Scenario | None = None,
    *,
    compare: AllocationResult | None = None,
) -> bytes:
    """The board report as PDF bytes (needs matplotlib)."""
    from allocator.riskshare.histogram import require_matplotlib

    require_matplotlib()
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    style: dict[Any, Any] = {
        "pdf.fonttype": 3,
        "axes.unicode_minus": False,
        "font.family": "DejaVu Sans",
    }
    with (
        matplotlib.rc_context(style),
        PdfPages(
            buffer,
            metadata={
                "Title": f"Board report: {result.scenario_id}",
                "Subject": result.scenario_hash,
            },
        ) as pdf,
    ):
        pages = Pages(pdf, result)
        for _, draw in _page_plan(result, scenario, compare):
            draw(pages)
    return buffer.getvalue()
