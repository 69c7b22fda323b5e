"""The board pack's Bridge, Notes and smaller detail sheets, and the shared sheet helpers."""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from allocator.explain.finance import (
    Rate,
    funder_names,
    funder_words,
    ranked_rules,
    rule_title,
    rule_words,
    scheme_words,
)
from allocator.io.board_cells import (
    BASIS_FONT,
    CHANGE_GBP,
    CHANGE_GBP_M,
    TITLE_FONT,
    Col,
    put_text,
    write_table,
)
from allocator.io.board_tables import Table
from models.results import AllocationResult


def text_block(ws: Worksheet, row: int, title: str, lines: Sequence[str]) -> int:
    put_text(ws.cell(row, 1), title)
    ws.cell(row, 1).font = TITLE_FONT
    for i, line in enumerate(lines, start=row + 1):
        put_text(ws.cell(i, 1), line)
        ws.cell(i, 1).alignment = Alignment(wrap_text=False)
    return row + len(lines) + 2


def masthead(ws: Worksheet, result: AllocationResult, title: str) -> None:
    put_text(ws.cell(1, 1), f"{title}: {result.scenario_id}")
    ws.cell(1, 1).font = Font(bold=True, size=16)
    put_text(
        ws.cell(2, 1),
        f"Status {result.status} · scenario hash {result.scenario_hash} · "
        f"software version {result.software_version} · backend {result.backend}",
    )
    ws.cell(2, 1).font = BASIS_FONT


def bridge_sheet(ws: Worksheet, result: AllocationResult) -> None:
    step = (
        Col("Step", "step", width=46),
        Col("£m", "pence", "gbp_m"),
        Col("£", "pence", "gbp"),
    )
    base = sum(p.baseline_pence for p in result.providers)
    ups = sum(p.change_pence for p in result.providers if p.change_pence > 0)
    downs = sum(p.change_pence for p in result.providers if p.change_pence < 0)
    row = write_table(
        ws,
        step,
        [
            (label, v, v)
            for label, v in (
                ("Baseline, all providers", base),
                ("Increases", ups),
                ("Decreases", downs),
                ("Budget, all providers", base + ups + downs),
            )
        ],
        title="Bridge: baseline to budget",
        basis="providers' baselines plus increases less decreases give this year's budgets",
        freeze=False,
    )
    for change_row in (5, 6):  # increases and decreases carry their sign
        ws.cell(change_row, 2).number_format = CHANGE_GBP_M
        ws.cell(change_row, 3).number_format = CHANGE_GBP
    money = (
        Col("Baseline (£)", "baseline_pence", "gbp"),
        Col("Change (£)", "change_pence", "change"),
        Col("Change (%)", "change_share", "share"),
        Col("Budget (£)", "budget_pence", "gbp"),
    )
    row = write_table(
        ws,
        (Col("Provider", "provider_name"), *money),
        [
            (
                p.name or p.provider_id,
                p.baseline_pence,
                p.change_pence,
                p.change_share,
                p.budget_pence,
            )
            for p in result.providers
        ],
        title="By provider",
        basis="whole budgets",
        first_row=row,
        freeze=False,
    )
    places = []
    for u in result.places:
        if u.baseline_pence is None or u.allocation_pence is None:
            continue
        change = u.allocation_pence - u.baseline_pence
        places.append(
            (
                u.name or u.unit_id,
                u.baseline_pence,
                change,
                change / u.baseline_pence if u.baseline_pence else None,
                u.allocation_pence,
            )
        )
    row = write_table(
        ws,
        (Col("Place", "place_name"), *money[:3], Col("Allocation (£)", "allocation_pence", "gbp")),
        places,
        title="By place",
        basis="place allocations (pass-through excluded)",
        first_row=row,
        freeze=False,
    )
    write_table(
        ws,
        (
            Col("Funder", "funder_name"),
            Col("Contribution (£)", "contribution_pence", "gbp"),
            Col("Pass-through (£)", "pass_through_pence", "gbp"),
            Col("Reserve (£)", "reserve_pence", "gbp"),
            Col("Allocated (£)", "allocated_pence", "gbp"),
            Col("Paid to providers (£)", "paid_pence", "gbp"),
        ),
        [
            (
                f.name or f.funder_id,
                f.contribution_pence,
                f.pass_through_pence,
                f.reserve_pence,
                f.allocated_pence,
                f.allocated_pence + f.pass_through_pence,
            )
            for f in result.pool
        ],
        title="By funder",
        basis="funders have no baseline in the result: contribution less reserve is what each pays providers",
        first_row=row,
        freeze=False,
    )
    ws.column_dimensions["A"].width = 46


def notes_sheet(ws: Worksheet, result: AllocationResult, rate: Rate) -> None:
    masthead(ws, result, "Notes")
    row = text_block(
        ws,
        4,
        "The reference rate",
        [
            rate.sentence(),
            "Value is in QALYs (or the scenario's value units); £ figures of value use this rate.",
        ],
    )
    row = write_table(
        ws,
        (Col("Rule", "rule", width=70), Col("What relaxing it is worth", "in_words", width=120)),
        [(rule_title(r.rule), rule_words(r, rate)) for r in ranked_rules(result)],
        title="Binding rules, the most valuable to relax first",
        basis="a rule's shadow price per £1m it is relaxed, in QALYs and in £ at the reference rate",
        first_row=row,
        freeze=False,
    )
    explanation = result.explanation
    names = funder_names(result)
    funders = (
        [funder_words(m, names.get(m.funder_id, m.funder_id), rate) for m in explanation.pool]
        if explanation
        else []
    )
    schemes = [scheme_words(s, rate) for s in explanation.schemes] if explanation else []
    row = text_block(
        ws, row, "More money from each funder", funders or ["Not priced for this result."]
    )
    if schemes:
        row = text_block(ws, row, "Unfunded schemes", schemes)
    notes = [*result.notes, *(explanation.notes if explanation else [])]
    if notes:
        row = text_block(ws, row, "Engine notes", notes)
    text_block(
        ws,
        row,
        "Conventions",
        [
            "Money is exact to the penny; £m figures are rounded to 1 dp for reading only.",
            "Negative figures carry a minus sign; increases carry a plus sign. Brackets are never used.",
            "Every detail sheet has a Provider id and a Total (£) column: per provider each sums to the budget.",
            "Pass-through is paid by a funder straight to a provider and is not split by place or neighbourhood.",
        ],
    )
    ws.column_dimensions["A"].width = 70
    ws.column_dimensions["B"].width = 120


def extra_tables(result: AllocationResult, rate: Rate) -> list[Table]:
    return [
        Table(
            "Schemes",
            "Schemes",
            "every scheme, funded or not; funded costs are in the providers' budgets",
            (
                Col("Scheme id", "scheme_id"),
                Col("Scheme", "name", width=34),
                Col("Provider id", "provider_id"),
                Col("Place id", "place_id"),
                Col("Units funded", "units_funded", "int"),
                Col("Most units", "max_units", "int"),
                Col("Cost (£)", "cost_pence", "gbp"),
                Col("Value (QALYs)", "value", "number"),
            ),
            [
                (
                    s.scheme_id,
                    s.name,
                    s.provider_id,
                    s.place_id,
                    s.units_funded,
                    s.max_units,
                    s.cost_pence,
                    s.value,
                )
                for s in result.schemes
            ],
        ),
        Table(
            "Rules",
            "Rules and what they are worth",
            "every rule's state; shadow price in words at the reference rate",
            (
                Col("Rule", "rule", width=70),
                Col("Block", "block", width=22),
                Col("Unit", "unit_id"),
                Col("Binding", "binding", "bool"),
                Col("Breach (£)", "breach_pence", "gbp"),
                Col("In words", "in_words", width=90),
                Col("Shadow price, raw (value units per pound)", "shadow_price", "number"),
            ),
            [
                (
                    rule_title(r.rule),
                    r.block,
                    r.unit_id,
                    r.binding,
                    r.breach_pence,
                    rule_words(r, rate),
                    r.shadow_price,
                )
                for r in result.rules
            ],
        ),
        Table(
            "Value",
            "Health value by place, segment and provider kind",
            "spend is pooled money in cells and schemes",
            (
                Col("Place id", "place_id"),
                Col("Segment", "segment_id", width=20),
                Col("Provider kind", "provider_kind", width=16),
                Col("Spend (£)", "spend_pence", "gbp"),
                Col("Value (QALYs)", "value", "number"),
            ),
            [
                (v.place_id, v.segment_id, v.provider_kind, v.spend_pence, v.value)
                for v in result.value_by
            ],
        ),
        Table(
            "Stages",
            "Objective stages",
            "the lexicographic sequence the engine solved",
            (
                Col("Stage", "stage"),
                Col("What it does", "description", width=60),
                Col("Status", "status"),
                Col("Objective", "objective", "number"),
                Col("Unit", "objective_unit", width=20),
            ),
            [
                (s.stage, s.description, s.status, s.objective, s.objective_unit)
                for s in result.stages
            ],
        ),
    ]
