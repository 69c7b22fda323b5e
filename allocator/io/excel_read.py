"""Read a scenario workbook: every issue located by sheet, Excel row and document path.

The bytes are checked first (`excel_zip`), then each sheet is read in read-only mode
into rows of converted cells (`excel_cells`), the rows are assembled into a scenario
document (nested sheets such as PassThrough go inside their parent rows), and the
document is parsed leniently (`allocator.io.document`). Every issue, from a cell or from
the semantic checks, is then placed on the sheet and row it came from.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from allocator.errors import Issue
from allocator.io.document import parse_document
from allocator.io.excel_cells import convert
from allocator.io.excel_layout import (
    NESTED_SHEETS,
    README_SHEET,
    SCENARIO_SHEET,
    SETTINGS,
    SHEET_BY_NAME,
    SHEET_TABLES,
    SHEETS,
    TABLE_SHEETS,
    Column,
    Sheet,
    normalise,
)
from allocator.io.excel_reading import (
    SETTING_VALUE_COLUMN,
    Reading,
    Row,
    column_letter,
    column_prefix,
    reading_order,
)
from allocator.io.excel_safe import safe_sheet
from allocator.io.excel_settings import read_settings
from allocator.io.excel_zip import check_workbook_bytes
from allocator.io.read_limits import ReadBudget, ReadLimits
from allocator.validate import blocking
from allocator.validate.common import UNREADABLE, WARNING
from models import Scenario

MAX_HEADER_COLUMNS = 200


MAX_BLANK_RUN = 10_000


def _nest(values: dict[str, Any], keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        parts = key.split(".")
        if keys is not None and parts[0] not in keys:
            continue
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _read_rows(ws: Any, sheet: Sheet, reading: Reading) -> list[Row]:
    header_cells = next(ws.iter_rows(min_row=1, max_row=1, max_col=MAX_HEADER_COLUMNS), ())
    by_name = {normalise(c.header): c for c in sheet.columns} | {
        normalise(c.key): c for c in sheet.columns
    }
    columns: dict[int, Column] = {}
    for position, cell in enumerate(header_cells):
        text = "" if cell.value is None else str(cell.value).strip()
        if not text:
            continue
        column = by_name.get(normalise(text))
        if column is None:
            reading.issue(
                sheet.name, 1, f"column {text!r} is not part of the template; ignored", code=WARNING
            )
        elif column in columns.values():
            reading.issue(sheet.name, 1, f"column '{column.header}' appears twice")
        else:
            columns[position] = column
            reading.letters.setdefault(sheet.name, {})[column.key] = column_letter(position + 1)
    for column in sheet.columns:
        if column.required and column not in columns.values():
            reading.issue(sheet.name, 1, f"required column '{column.header}' is missing")
    if not columns:
        return []
    rows: list[Row] = []
    blank_run = 0
    width = max(columns) + 1
    pending = 0
    for number, cells in enumerate(ws.iter_rows(min_row=2, max_col=width), start=2):
        if reading.over_limit(sheet.name, number, width, pending):
            break
        row = Row(sheet.name, number)
        for position, column in columns.items():
            cell = cells[position] if position < len(cells) else None
            if cell is None:
                continue
            value, problem = convert(
                column.kind, cell.value, getattr(cell, "data_type", None), column.choices
            )
            if value is not None:
                row.values[column.key] = value
            if problem:
                row.errors.append((column.key, problem))
        pending += len(row.errors)
        if row.values or row.errors:
            rows.append(row)
            blank_run = 0
        else:
            blank_run += 1
            if blank_run >= MAX_BLANK_RUN:
                reading.issue(
                    sheet.name,
                    number,
                    f"stopped reading after {MAX_BLANK_RUN:,} empty rows",
                    code=WARNING,
                )
                break
    return rows


def _parents(reading: Reading, table: str, id_key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for index, item in enumerate(reading.document.get(table, [])):
        ident = item.get(id_key)
        if isinstance(ident, str):
            out.setdefault(ident, index)
    return out


def _assemble_nested(name: str, rows: list[Row], reading: Reading) -> None:
    doc = reading.document
    if name == "PassThrough":
        funders = _parents(reading, "funders", "funder_id")
        for row in rows:
            index = funders.get(str(row.values.get("funder_id", "")))
            if index is None:
                _orphan(reading, row, "funder_id", "Funders", "funders")
                continue
            items = doc["funders"][index].setdefault("pass_through", [])
            reading.place(
                ("funders", index, "pass_through", len(items)),
                row,
                ("funders", index),
                ("provider_id", "segment_id", "amount_pence"),
            )
            items.append(_nest(row.values, ("provider_id", "segment_id", "amount_pence")))
    elif name == "ValueCurves":
        curves: dict[tuple[str, str], int] = {}
        for row in rows:
            key = (str(row.values.get("segment_id", "")), str(row.values.get("provider_kind", "")))
            if key not in curves:
                curves[key] = len(doc.setdefault("value_curves", []))
                doc["value_curves"].append(
                    {k: row.values[k] for k in ("segment_id", "provider_kind") if k in row.values}
                    | {"points": []}
                )
            c = curves[key]
            points = doc["value_curves"][c]["points"]
            reading.places.setdefault(("value_curves", c), (row.sheet, row.number))
            point = ("spend_per_head_pence", "value_per_head")
            loc = ("value_curves", c, "points", len(points))
            reading.place(loc, row, ("value_curves", c), point)
            points.append(_nest(row.values, point))
    elif name == "RiskShareBands":
        agreements = _parents(reading, "risk_share_agreements", "agreement_id")
        groups: dict[tuple[int, str], list[Row]] = {}
        for row in rows:
            index = agreements.get(str(row.values.get("agreement_id", "")))
            side = str(row.values.get("side", ""))
            if index is None:
                _orphan(
                    reading, row, "agreement_id", "RiskShareAgreements", "risk_share_agreements"
                )
            elif side not in ("overspend", "underspend"):
                reading.issue(
                    row.sheet,
                    row.number,
                    f"column 'Side': must be overspend or underspend; got {side!r}",
                    ("risk_share_agreements", index),
                )
            else:
                groups.setdefault((index, side), []).append(row)
        for (index, side), members in groups.items():
            members.sort(
                key=lambda r: (
                    r.values.get("order") if isinstance(r.values.get("order"), int) else 10**9,
                    r.number,
                )
            )
            bands = doc["risk_share_agreements"][index].setdefault(f"{side}_bands", [])
            for row in members:
                fields = ("width_pence", "provider_share")
                reading.place(
                    ("risk_share_agreements", index, f"{side}_bands", len(bands)),
                    row,
                    ("risk_share_agreements", index),
                    fields,
                )
                bands.append(_nest(row.values, fields))
    elif name == "PooledPartners":
        agreements = _parents(reading, "risk_share_agreements", "agreement_id")
        for row in rows:
            index = agreements.get(str(row.values.get("agreement_id", "")))
            if index is None:
                _orphan(
                    reading, row, "agreement_id", "RiskShareAgreements", "risk_share_agreements"
                )
                continue
            partners = doc["risk_share_agreements"][index].setdefault("partners", [])
            fields = ("funder_id", "contribution_pence")
            reading.place(
                ("risk_share_agreements", index, "partners", len(partners)),
                row,
                ("risk_share_agreements", index),
                fields,
            )
            partners.append(_nest(row.values, fields))
    else:  # SegmentVolatility
        overrides = doc.setdefault("outturn", {}).setdefault("segment_overrides", [])
        for row in rows:
            reading.place(("outturn", "segment_overrides", len(overrides)), row)
            overrides.append(_nest(row.values))


def _orphan(reading: Reading, row: Row, key: str, parent_sheet: str, table: str) -> None:
    ident = row.values.get(key)
    what = f"{ident!r} is not on the {parent_sheet} sheet" if ident else "is blank"
    reading.issue(
        row.sheet,
        row.number,
        f"{column_prefix(row.sheet, key)}{what}; the row is ignored",
        (table,),
    )
    for error_key, message in row.errors:
        reading.issue(
            row.sheet, row.number, column_prefix(row.sheet, error_key) + message, (table,)
        )


def _locate(issue: Issue, reading: Reading) -> Issue:
    if issue.sheet is not None:
        return issue
    loc = issue.loc
    for length in range(len(loc), 0, -1):
        found = reading.places.get(loc[:length])
        if found is None:
            continue
        sheet, number = found
        rest = ".".join(str(part) for part in loc[length:])
        message = issue.message
        prefix = column_prefix(sheet, rest) if rest else ""
        if not prefix and rest and sheet in SHEET_BY_NAME:
            column = next(
                (c for c in SHEET_BY_NAME[sheet].columns if c.key.startswith(rest + ".")), None
            )
            prefix = f"column '{column.header}': " if column else ""
        if message.startswith("unexpected field") and ".payment." in f".{rest}.":
            message = "is not used with this payment kind; leave it blank"
        if sheet == SCENARIO_SHEET:
            setting = next((s.key for s in SETTINGS if s.path == loc[:length]), None)
            return Issue(
                loc=loc,
                message=message,
                sheet=sheet,
                row=number,
                code=issue.code,
                column=SETTING_VALUE_COLUMN if setting else None,
                field=setting,
            )
        return Issue(loc=loc, message=prefix + message, sheet=sheet, row=number, code=issue.code)
    head = loc[0] if loc else None
    sheet_name = TABLE_SHEETS.get(str(head), SCENARIO_SHEET if head is not None else None)
    return Issue(loc=loc, message=issue.message, sheet=sheet_name, row=None, code=issue.code)


def read_workbook_bytes(
    data: bytes, limits: ReadLimits | None = None
) -> tuple[Scenario | None, list[Issue]]:
    """A scenario from workbook bytes, with every issue located (None if any blocks).

    Reading stops at ``limits`` (rows per sheet, cells, problems) with a blocking issue.
    """
    problems = check_workbook_bytes(data)
    if problems:
        return None, problems
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception as err:  # openpyxl raises many types for malformed parts
        message = f"the workbook cannot be opened: {type(err).__name__}: {err}"
        return None, [Issue(loc=(), message=message, code=UNREADABLE)]
    reading = Reading(budget=ReadBudget(limits or ReadLimits()))
    try:
        _read_sheets(wb, reading)
    except Exception as err:  # a malformed sheet part surfaces while iterating
        message = f"the workbook cannot be read: {type(err).__name__}: {err}"
        return None, [*reading.issues, Issue(loc=(), message=message, code=UNREADABLE)]
    finally:
        wb.close()
    if reading.budget.stopped:  # what was read is incomplete: checking it further would mislead
        return None, reading.issues
    scenario, issues = parse_document(reading.document, reported=reading.issues)
    located = reading_order(
        [reading.in_cell(i) for i in (*reading.issues, *(_locate(i, reading) for i in issues))]
    )
    return (scenario if not blocking(located) else None), located


def _read_sheets(wb: Any, reading: Reading) -> None:
    present = {normalise(name): name for name in wb.sheetnames}
    known = {normalise(n) for n in (README_SHEET, SCENARIO_SHEET, *SHEET_BY_NAME)}
    for name in wb.sheetnames:
        if normalise(name) not in known:
            reading.issue(
                name, None, f"sheet {name!r} is not part of the template; ignored", code=WARNING
            )
    if normalise(SCENARIO_SHEET) in present:
        read_settings(safe_sheet(wb[present[normalise(SCENARIO_SHEET)]]), reading)
    else:
        reading.issue(SCENARIO_SHEET, None, "the required sheet 'Scenario' is missing")
    nested: list[tuple[str, list[Row]]] = []
    for sheet in SHEETS:
        if reading.budget.stopped:
            return
        actual = present.get(normalise(sheet.name))
        if actual is None:
            required = "required sheet" if sheet.required else "sheet"
            code = "invalid" if sheet.required else WARNING
            reading.issue(sheet.name, None, f"the {required} {sheet.name!r} is missing", code=code)
            continue
        ws = safe_sheet(wb[actual])
        if not hasattr(ws, "iter_rows"):
            reading.issue(sheet.name, None, "is a chart, not a sheet of rows")
            continue
        rows = _read_rows(ws, sheet, reading)
        if sheet.name in NESTED_SHEETS:
            nested.append((sheet.name, rows))
            continue
        table = SHEET_TABLES[sheet.name]
        items = reading.document.setdefault(table, [])
        for row in rows:
            reading.place((table, len(items)), row)
            items.append(_nest(row.values))
    for name, rows in nested:
        _assemble_nested(name, rows, reading)


def read_workbook(path: str | Path) -> tuple[Scenario | None, list[Issue]]:
    """A scenario from an ``.xlsx`` file. Raises OSError only if the file cannot be read."""
    return read_workbook_bytes(Path(path).read_bytes())
