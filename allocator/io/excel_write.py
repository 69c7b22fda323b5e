"""Write the scenario workbook: a documented blank template or a filled one.

Every sheet has a bold, frozen header row whose cells carry a comment explaining the
column, drop-down lists for choices and for ids defined on other sheets, and checks on
shares and money. Money is written in pounds (two decimals); floats are written so that
reading them back gives exactly the same float.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel

from allocator.domain.money import pence_to_gbp_decimal
from allocator.errors import Issue, ScenarioInvalid
from allocator.io.excel_layout import (
    LIST_ROWS,
    NESTED_SHEETS,
    README_SHEET,
    SCENARIO_SHEET,
    SETTING_COLUMNS,
    SETTINGS,
    SHEET_TABLES,
    SHEETS,
    Column,
    Kind,
    Setting,
    Sheet,
)
from allocator.io.excel_readme import readme_lines
from models import Scenario

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
MONEY_FORMAT = "#,##0.00"
TEXT_FORMAT = "@"
AUTHOR = "care-allocator"


class _ExactNumber:
    """A number openpyxl writes verbatim: it formats floats to 16 digits, which loses some."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def _survives(number: float) -> bool:
    """Does openpyxl's 16-significant-digit text of ``number`` read back as ``number``?

    Negative zero does not: "-0" reads back as the integer 0 (and changes the content hash).
    """
    negative_zero = number == 0 and math.copysign(1.0, number) < 0
    return not negative_zero and float(f"{number:.16g}") == number


def _put_number(cell: Any, value: float | int | Decimal) -> None:
    """Write a number that reads back exactly (the verbatim text when 16 digits would not)."""
    if isinstance(value, Decimal):
        number = float(value)
        cell.value = number
        if not _survives(number) or Decimal(repr(number)) != value:
            cell._value = _ExactNumber(str(value))
        return
    cell.value = value
    if isinstance(value, float) and not _survives(value):
        cell._value = _ExactNumber(repr(value))


def _put_text(cell: Any, text: str, where: tuple[str | int, ...]) -> None:
    if ILLEGAL_CHARACTERS_RE.search(text):
        raise ScenarioInvalid(
            "The scenario cannot be written to Excel",
            [Issue(loc=where, message="contains control characters Excel cannot store")],
        )
    cell.value = text
    cell.data_type = "s"  # text, even when it starts with '=' (never a formula)


def put_value(cell: Any, kind: Kind, value: Any, where: tuple[str | int, ...] = ()) -> None:
    """Write one document value into a cell in the workbook's convention for ``kind``."""
    if value is None or value == "" or value == [] or value == ():
        return
    if kind is Kind.MONEY:
        _put_number(cell, pence_to_gbp_decimal(int(value)))
        cell.number_format = MONEY_FORMAT
    elif kind in (Kind.IDS, Kind.ENUMS):
        _put_text(cell, ", ".join(str(v) for v in value), where)
    elif kind is Kind.BOOL:
        cell.value = bool(value)
    elif kind is Kind.INT:
        cell.value = int(value)
    elif kind in (Kind.FLOAT, Kind.SHARE):
        _put_number(cell, float(value))
    else:
        _put_text(cell, str(value), where)


def _validation(column: Column | Setting) -> DataValidation | None:
    kind = column.kind
    ref = getattr(column, "ref", None)
    if kind is Kind.ENUM or (kind is Kind.BOOL):
        choices = column.choices or ("TRUE", "FALSE")
        return DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
    if kind is Kind.ID and ref:
        formula = f"={ref}!$A$2:$A${LIST_ROWS}"
        return DataValidation(type="list", formula1=formula, allow_blank=True)
    if kind is Kind.SHARE:
        return DataValidation(
            type="decimal", operator="between", formula1="0", formula2="1", allow_blank=True
        )
    if kind is Kind.MONEY:
        return DataValidation(
            type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True
        )
    if kind is Kind.INT:
        return DataValidation(
            type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True
        )
    return None


def _explain(validation: DataValidation, what: str) -> None:
    validation.showErrorMessage = True
    validation.errorTitle = "Not allowed here"
    validation.error = what
    validation.promptTitle = None


def _header(ws: Worksheet, columns: tuple[Column, ...]) -> None:
    for number, column in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=number, value=column.header)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        comment = Comment(f"{column.comment}\n(field: {column.key})", AUTHOR)
        comment.width, comment.height = 320, 110
        cell.comment = comment
        letter = get_column_letter(number)
        dimension = ws.column_dimensions[letter]
        dimension.width = column.width
        if column.kind in (Kind.ID, Kind.IDS, Kind.TEXT, Kind.ENUMS):
            dimension.number_format = TEXT_FORMAT
        validation = _validation(column)
        if validation is not None:
            _explain(validation, column.comment)
            ws.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{LIST_ROWS}")
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 32


def _dig(document: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = document
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def sheet_rows(
    sheet: Sheet, scenario: Scenario
) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """(document location, row dict) of every row the sheet holds for ``scenario``."""
    doc = scenario.model_dump(mode="json")
    if sheet.name not in NESTED_SHEETS:
        name = SHEET_TABLES[sheet.name]
        for i, row in enumerate(doc[name]):
            yield (name, i), row
    elif sheet.name == "PassThrough":
        for i, funder in enumerate(doc["funders"]):
            for j, item in enumerate(funder["pass_through"]):
                yield ("funders", i, "pass_through", j), {"funder_id": funder["funder_id"], **item}
    elif sheet.name == "ValueCurves":
        for i, curve in enumerate(doc["value_curves"]):
            for j, point in enumerate(curve["points"]):
                head = {"segment_id": curve["segment_id"], "provider_kind": curve["provider_kind"]}
                yield ("value_curves", i, "points", j), {**head, **point}
    elif sheet.name == "RiskShareBands":
        for i, agreement in enumerate(doc["risk_share_agreements"]):
            for side in ("overspend", "underspend"):
                for j, band in enumerate(agreement[f"{side}_bands"]):
                    head = {"agreement_id": agreement["agreement_id"], "side": side, "order": j + 1}
                    yield ("risk_share_agreements", i, f"{side}_bands", j), {**head, **band}
    elif sheet.name == "PooledPartners":
        for i, agreement in enumerate(doc["risk_share_agreements"]):
            for j, partner in enumerate(agreement["partners"]):
                head = {"agreement_id": agreement["agreement_id"]}
                yield ("risk_share_agreements", i, "partners", j), {**head, **partner}
    else:
        for j, item in enumerate(doc["outturn"]["segment_overrides"]):
            yield ("outturn", "segment_overrides", j), item


def default_settings() -> dict[str, Any]:
    """The scenario-level settings a blank template starts with: the schema's defaults."""
    out: dict[str, Any] = {}
    for name, info in Scenario.model_fields.items():
        if info.is_required():
            continue
        value = info.get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json")
        if not isinstance(value, tuple):
            out[name] = value
    return out


def _scenario_sheet(ws: Worksheet, scenario: Scenario | None) -> None:
    _header(ws, SETTING_COLUMNS)
    ws.column_dimensions["C"].number_format = "General"
    doc = scenario.model_dump(mode="json") if scenario is not None else default_settings()
    for number, setting in enumerate(SETTINGS, start=2):
        _put_text(ws.cell(row=number, column=1), setting.key, ())
        _put_text(ws.cell(row=number, column=2), setting.label, ())
        _put_text(ws.cell(row=number, column=4), setting.comment, ())
        put_value(
            ws.cell(row=number, column=3), setting.kind, _dig(doc, setting.path), setting.path
        )
        validation = _validation(setting)
        if validation is not None:
            _explain(validation, setting.comment)
            ws.add_data_validation(validation)
            validation.add(f"C{number}")
        ws.cell(row=number, column=1).font = Font(color="808080")


def _readme_sheet(ws: Worksheet) -> None:
    ws.column_dimensions["A"].width = 120
    for number, (text, bold) in enumerate(readme_lines(), start=1):
        cell = ws.cell(row=number, column=1)
        _put_text(cell, text, ())
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if bold:
            cell.font = Font(bold=True, size=13 if number == 1 else 11)


def build_workbook(scenario: Scenario | None = None) -> Workbook:
    """The workbook in memory: blank (a template) or holding ``scenario``."""
    wb = Workbook()
    readme = wb.active
    readme.title = README_SHEET
    _readme_sheet(readme)
    _scenario_sheet(wb.create_sheet(SCENARIO_SHEET), scenario)
    for sheet in SHEETS:
        write_sheet(
            wb.create_sheet(sheet.name),
            sheet,
            [] if scenario is None else sheet_rows(sheet, scenario),
        )
    return wb


def write_sheet(
    ws: Worksheet, sheet: Sheet, rows: Iterable[tuple[tuple[str | int, ...], dict[str, Any]]]
) -> None:
    """The template's header for ``sheet`` and then ``rows`` (document location, row dict)."""
    _header(ws, sheet.columns)
    for number, (loc, row) in enumerate(rows, start=2):
        for col_number, column in enumerate(sheet.columns, start=1):
            value = _dig(row, column.path)
            put_value(
                ws.cell(row=number, column=col_number), column.kind, value, (*loc, *column.path)
            )


def write_template(path: str | Path) -> None:
    """Write the blank, documented template (no example rows: the README has examples)."""
    build_workbook(None).save(Path(path))


def write_workbook(scenario: Scenario, path: str | Path) -> None:
    """Write ``scenario`` as a filled workbook that reads back to an equal scenario."""
    build_workbook(scenario).save(Path(path))
