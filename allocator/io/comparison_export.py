"""Write a comparison of two allocations as CSV tables or a workbook, money in £.

One writer for the CLI (`allocator compare A B --out x.xlsx`) and the API
(`GET /comparisons?a=..&b=..&format=xlsx`). Changed inputs whose field is money
(``..._pence``) are shown in pounds, not raw pence. When two result files are compared
without their scenarios the inputs are unknown, and the sheet says so rather than
showing an empty table.
"""

from __future__ import annotations

import io
import json
from typing import Any, Literal, get_args

import pandas as pd
from openpyxl import Workbook

from allocator.domain.money import pence_to_gbp_str
from allocator.errors import UnknownFormat
from allocator.io.board_cells import Col, put_text, write_table
from allocator.io.cells import csv_bytes
from models.comparison import Comparison, InputChange

ComparisonTable = Literal["changes", "rules", "inputs"]
COMPARISON_TABLES: tuple[ComparisonTable, ...] = get_args(ComparisonTable)

INPUTS_UNKNOWN = (
    "Inputs unknown: two result files were compared without their scenarios, so which "
    "inputs differ cannot be said (the scenario hashes differ). Compare the scenarios, "
    "or results stored with their scenarios, to see the changed inputs."
)


def is_money(change: InputChange) -> bool:
    """Whether a changed input is a sum of money: its field ends ``_pence`` and it is whole."""
    field = change.path.rsplit(".", 1)[-1].split("[", 1)[0]
    values = [v for v in (change.a, change.b) if v is not None]
    return (
        field.endswith("_pence")
        and bool(values)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    )


def input_text(change: InputChange, value: Any) -> str:
    """One side of a changed input as a person reads it: money in £, absent as '(absent)'."""
    if value is None:
        return "(absent)"
    if is_money(change):
        return pence_to_gbp_str(int(value))
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def input_change_text(change: InputChange) -> str:
    """``funders[NHS].amount_pence: £1,200,000.00 → £1,176,000.00 (-£24,000.00)``."""
    text = f"{change.path}: {input_text(change, change.a)} → {input_text(change, change.b)}"
    if is_money(change) and change.a is not None and change.b is not None:
        delta = int(change.b) - int(change.a)
        text += f" ({'+' if delta >= 0 else '-'}{pence_to_gbp_str(abs(delta))})"
    return text


def _money_delta(change: InputChange) -> int | None:
    if not is_money(change) or change.a is None or change.b is None:
        return None
    return int(change.b) - int(change.a)


def comparison_frames(c: Comparison) -> dict[ComparisonTable, pd.DataFrame]:
    """Tidy tables: money in pence with a ``_gbp`` column beside each ``_pence`` one."""
    changes = pd.DataFrame(
        [x.model_dump() for x in c.lines],
        columns=list(c.lines[0].model_dump()) if c.lines else ["level", "unit_id"],
    )
    for column in [col for col in changes.columns if str(col).endswith("_pence")]:
        changes[column.removesuffix("_pence") + "_gbp"] = changes[column] / 100
    rules = pd.DataFrame(
        [r.model_dump() for r in c.rules],
        columns=["rule", "block", "unit_id", "change", "shadow_price_a", "shadow_price_b"],
    )
    inputs = pd.DataFrame(
        [
            {
                "path": i.path,
                "a": input_text(i, i.a),
                "b": input_text(i, i.b),
                "change_gbp": None if (d := _money_delta(i)) is None else d / 100,
            }
            for i in c.inputs
        ]
        if c.inputs_known
        else [{"path": "(unknown)", "a": INPUTS_UNKNOWN, "b": "", "change_gbp": None}],
        columns=["path", "a", "b", "change_gbp"],
    )
    return {"changes": changes, "rules": rules, "inputs": inputs}


def comparison_csv(c: Comparison, table: str = "changes") -> bytes:
    """One table of the comparison as UTF-8 CSV bytes (every text cell inert)."""
    if table not in COMPARISON_TABLES:
        raise UnknownFormat(f"no table {table!r}; choose one of {', '.join(COMPARISON_TABLES)}")
    return csv_bytes(comparison_frames(c)[table])


CHANGE_COLUMNS = (
    Col("Level", "level"),
    Col("Id", "unit_id"),
    Col("Name", "name", width=28),
    Col("A (£)", "a_pence", "gbp"),
    Col("B (£)", "b_pence", "gbp"),
    Col("Change (£)", "change_pence", "change"),
    Col("Change (%)", "change_share", "share"),
    Col("Distance from target A", "distance_a", "share"),
    Col("Distance from target B", "distance_b", "share"),
    Col("Change in distance", "distance_change", "share"),
)
RULE_COLUMNS = (
    Col("Rule", "rule", width=40),
    Col("Block", "block"),
    Col("Unit", "unit_id"),
    Col("Change", "change"),
)
INPUT_COLUMNS = (
    Col("Input (field)", "path", width=44),
    Col("A", "a", width=22),
    Col("B", "b", width=22),
    Col("Change (£)", "change_pence", "change"),
)


def build_comparison_workbook(c: Comparison) -> Workbook:
    """Summary, Changes, Rules, Inputs; money as pounds under currency formats."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Summary"
    summary = [
        ("A", c.a_label, None),
        ("B", c.b_label, None),
        ("Scenario hash A", c.a_scenario_hash, None),
        ("Scenario hash B", c.b_scenario_hash, None),
        ("Status A → B", f"{c.status_a} → {c.status_b}", None),
        ("Pool A", None, c.pot_a_pence),
        ("Pool B", None, c.pot_b_pence),
        ("Change in pool", None, c.pot_change_pence),
        ("Value A → B", f"{c.value_a:,.2f} → {c.value_b:,.2f} ({c.value_change:+,.2f})", None),
        ("Reconciles to the penny", "yes" if c.reconciles else "NO", None),
        (
            "Inputs",
            f"{len(c.inputs)} differ" if c.inputs_known else "unknown (see Inputs)",
            None,
        ),
    ]
    rows = [(label, text or "", pence) for label, text, pence in summary]
    write_table(
        ws,
        (Col("What", "field", width=26), Col("", "text", width=60), Col("£", "pence", "gbp")),
        rows,
        title=f"Comparison: {c.a_label} → {c.b_label}",
        basis="B minus A; + is more money in B. Pools include pass-through.",
    )
    sheets = (
        ("Changes", CHANGE_COLUMNS, c.lines, "per level, B minus A; each level sums to the change"),
        ("Rules", RULE_COLUMNS, c.rules, "rules that started or stopped binding"),
    )
    for title, columns, items, basis in sheets:
        sheet = wb.create_sheet(title)
        data = [[getattr(item, col.field) for col in columns] for item in items]
        write_table(sheet, columns, data, title=title, basis=basis)
    sheet = wb.create_sheet("Inputs")
    if not c.inputs_known:
        write_table(sheet, INPUT_COLUMNS, [], title="Inputs", basis="unknown")
        put_text(sheet.cell(5, 1), INPUTS_UNKNOWN)
        return wb
    data = [[i.path, input_text(i, i.a), input_text(i, i.b), _money_delta(i)] for i in c.inputs]
    write_table(
        sheet,
        INPUT_COLUMNS,
        data,
        title="Inputs that differ",
        basis="scenario A against scenario B; money fields in £",
    )
    if not data:
        put_text(sheet.cell(5, 1), "No inputs differ: the two scenarios are the same.")
    return wb


def comparison_workbook_bytes(c: Comparison) -> bytes:
    buffer = io.BytesIO()
    build_comparison_workbook(c).save(buffer)
    return buffer.getvalue()
