"""The result workbook as a board pack: Summary, Reconciliation, Bridge, Notes, then detail.

Money is written as exact pounds under currency formats (£m to 1 dp with £ to the penny
beside on the summary), headers are in words with the field name in a comment, and every
detail table states its basis and reconciles to the provider budgets (`board_tables`).
`board_verify.verify_board_pack` re-checks a written pack by summing it independently.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from allocator.explain.finance import (
    Rate,
    qalys,
    ranked_rules,
    rate_of,
    rule_title,
    rule_words,
)
from allocator.io.board_cells import BASIS_FONT, Col, put_text, write_table
from allocator.io.board_certificate import certificate, no_allocation
from allocator.io.board_sheets import bridge_sheet, extra_tables, masthead, notes_sheet, text_block
from allocator.io.board_tables import detail_tables, unit_table
from models import Scenario
from models.results import AllocationResult

BOLD = Font(bold=True)
SUMMARY_WIDTHS = {"A": 54, "B": 16, "C": 19, "D": 13, "E": 13, "F": 11, "G": 19, "H": 17}


def _summary(ws: Worksheet, result: AllocationResult, rate: Rate) -> None:
    masthead(ws, result, "Board summary")
    put_text(ws.cell(3, 1), "Money in £m (1 dp) with £ to the penny beside; changes carry + or -.")
    ws.cell(3, 1).font = BASIS_FONT
    pot = result.pot
    total = pot.total_pence or 1
    pot_rows = [
        ("Funders' contributions (the pot)", pot.total_pence),
        ("Pass-through to named providers", pot.pass_through_pence),
        ("Pooled", pot.pooled_pence),
        ("Contingency reserve (held back)", pot.reserve_pence),
        ("Allocated through places (pooled after reserve)", pot.capitated_pence),
        (
            "Providers' budgets (allocated + pass-through)",
            sum(p.budget_pence for p in result.providers),
        ),
    ]
    row = write_table(
        ws,
        (
            Col("Item", "item"),
            Col("£m", "pence", "gbp_m"),
            Col("£", "pence", "gbp"),
            Col("Share of pot", "share", "plain_share"),
        ),
        [(label, v, v, v / total) for label, v in pot_rows],
        title="The pot",
        basis="what the funders put in and where it goes",
        first_row=5,
        freeze=False,
    )
    providers = [
        (
            p.name or p.provider_id,
            p.kind,
            p.baseline_pence,
            p.budget_pence,
            p.change_pence,
            p.change_share,
            p.budget_pence,
            p.change_pence,
        )
        for p in result.providers
    ]
    base = sum(p.baseline_pence for p in result.providers)
    budget = sum(p.budget_pence for p in result.providers)
    providers.append(
        (
            "Total",
            "",
            base,
            budget,
            budget - base,
            (budget - base) / base if base else None,
            budget,
            budget - base,
        )
    )
    row = write_table(
        ws,
        (
            Col("Provider", "provider_name"),
            Col("Kind", "kind"),
            Col("Baseline £m", "baseline_pence", "gbp_m"),
            Col("Budget £m", "budget_pence", "gbp_m"),
            Col("Change £m", "change_pence", "change_m"),
            Col("Change", "change_share", "share"),
            Col("Budget £", "budget_pence", "gbp"),
            Col("Change £", "change_pence", "change"),
        ),
        providers,
        title="Budgets by provider",
        basis="whole budgets, pass-through and schemes included",
        first_row=row,
        freeze=False,
    )
    ws.cell(row - 2, 1).font = BOLD
    places = []
    for u in result.places:
        change = (
            None
            if u.baseline_pence is None or u.allocation_pence is None
            else u.allocation_pence - u.baseline_pence
        )
        places.append(
            (
                u.name or u.unit_id,
                u.target_pence,
                u.allocation_pence,
                u.distance_from_target,
                u.baseline_pence,
                change,
                u.allocation_pence,
                change,
            )
        )
    target = sum(u.target_pence for u in result.places)
    allocated = sum(u.allocation_pence or 0 for u in result.places)
    places.append(
        (
            "Total",
            target,
            allocated,
            (allocated - target) / target if target else None,
            None,
            None,
            allocated,
            None,
        )
    )
    row = write_table(
        ws,
        (
            Col("Place", "place_name"),
            Col("Target £m", "target_pence", "gbp_m"),
            Col("Allocation £m", "allocation_pence", "gbp_m"),
            Col("From target", "distance_from_target", "share"),
            Col("Baseline £m", "baseline_pence", "gbp_m"),
            Col("Change £m", "change_pence", "change_m"),
            Col("Allocation £", "allocation_pence", "gbp"),
            Col("Change £", "change_pence", "change"),
        ),
        places,
        title="Places against fair-share target",
        basis="pooled money after the reserve, schemes included, pass-through excluded; "
        "'From target' is (allocation - target) / target",
        first_row=row,
        freeze=False,
    )
    ws.cell(row - 2, 1).font = BOLD
    binding = ranked_rules(result)
    lines = [
        f"Status: {result.status}. Health value {qalys(result.value_total)} {rate.unit}, "
        f"worth £{result.value_total * rate.gbp_per_unit / 1e6:,.1f}m at the reference rate.",
        rate.sentence(),
        f"{len(binding)} rules bind or are breached; the most valuable to relax:",
    ]
    if result.infeasibility is not None:
        lines.append(result.infeasibility.summary)
    row = text_block(ws, row, "Value and what binds", lines) - 1
    for r in binding[:5]:
        put_text(ws.cell(row, 1), rule_title(r.rule))
        put_text(ws.cell(row, 2), rule_words(r, rate))
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=8)
        for column in (1, 2):
            ws.cell(row, column).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 42
        row += 1
    for letter, width in SUMMARY_WIDTHS.items():
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A4"
    ws.sheet_view.showGridLines = False


def _reconciliation(ws: Worksheet, result: AllocationResult) -> None:
    lines = certificate(result)
    rows = [
        (
            c.level,
            c.line,
            c.in_pence,
            c.out_pence,
            c.reserve_pence,
            c.difference_pence,
            c.difference_pence == 0,
            c.rounding_moved_pence,
            c.display_rounding_m,
            c.in_means,
            c.out_means,
        )
        for c in lines
    ]
    end = write_table(
        ws,
        (
            Col("Level", "level", width=23),
            Col("Line", "line", width=44),
            Col("In (£)", "in_pence", "gbp"),
            Col("Out (£)", "out_pence", "gbp"),
            Col("Reserve (£)", "reserve_pence", "gbp"),
            Col("In - out - reserve (£)", "difference_pence", "gbp"),
            Col("Reconciles", "holds", "bool", width=11),
            Col("Rounding moved (pence)", "rounding_moved_pence", "pence", width=13),
            Col("£m rounding (display)", "display_rounding_m", "millions", width=13),
            Col("In is", "in_means", width=34),
            Col("Out is", "out_means", width=40),
        ),
        rows,
        title="Reconciliation certificate",
        basis="for the pot, each funder and each level: in = out + reserve, to the penny "
        "(no money lapses in this allocation). Pence are exact. Rounding moved: the optimiser "
        "works in fractions of a penny; publishing in whole pence moved the line's parts "
        "this many pence in total from its figures (the line still adds up exactly). "
        "£m rounding: how far the rounded £m figures miss adding up, a rounding of the "
        "display only",
    )
    failed = sum(1 for c in lines if c.difference_pence)
    verdict = (
        no_allocation(result)
        if not lines
        else f"Certified: all {len(lines)} lines reconcile to the penny."
        if not failed
        else f"NOT reconciled: {failed} of {len(lines)} lines differ."
    )
    put_text(ws.cell(end, 1), verdict)
    ws.cell(end, 1).font = BOLD
    put_text(
        ws.cell(end + 1, 1),
        "Re-checked when the workbook is read back: every line's arithmetic, and every figure "
        "against an independent sum of the detail sheets.",
    )


def build_board_pack(result: AllocationResult, scenario: Scenario | None = None) -> Workbook:
    rate = rate_of(scenario, result)
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "Summary"
    _summary(summary, result, rate)
    _reconciliation(wb.create_sheet("Reconciliation"), result)
    bridge_sheet(wb.create_sheet("Bridge"), result)
    notes_sheet(wb.create_sheet("Notes"), result, rate)
    tables = detail_tables(result)
    tables.insert(1, unit_table(result))
    for table in [*tables, *extra_tables(result, rate)]:
        write_table(
            wb.create_sheet(table.sheet),
            table.columns,
            table.rows,
            title=table.title,
            basis=table.basis,
        )
    for sheet in wb.worksheets:  # printed landscape, a page wide; the summary on one page
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 1 if sheet is summary else 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    return wb


def board_pack_bytes(result: AllocationResult, scenario: Scenario | None = None) -> bytes:
    buffer = io.BytesIO()
    build_board_pack(result, scenario).save(buffer)
    return buffer.getvalue()
