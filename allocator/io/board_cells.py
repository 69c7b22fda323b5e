"""Writing the board pack's cells: inert text, money as pounds under a currency format, tables.

Text from a scenario (names, ids, notes) could start with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return, which a spreadsheet may run as a formula (OWASP "CSV injection").
`put_text` writes it through `allocator.io.cells.inert_text` (a leading ``'``) and stores it
as a string cell (type ``s``), so it is never evaluated.
Money is integer pence; it is written as pounds (``Decimal(pence) / 100``, exact to the
penny) under a currency format, so a cell shows £ with 2 decimals and sums to the penny.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from allocator.io.cells import inert_text

# Negative numbers with a minus sign in every format; changes carry an explicit + or -.
GBP = "£#,##0.00;-£#,##0.00;£0.00"
GBP_M = '£#,##0.0,,"m";-£#,##0.0,,"m";£0.0"m"'
CHANGE_GBP = "+£#,##0.00;-£#,##0.00;£0.00"
CHANGE_GBP_M = '+£#,##0.0,,"m";-£#,##0.0,,"m";£0.0"m"'
MILLIONS = '+£#,##0.0"m";-£#,##0.0"m";£0.0"m"'  # a figure already in £m
SHARE = "+0.00%;-0.00%;0.00%"
PLAIN_SHARE = "0.00%"
NUMBER = "#,##0.00;-#,##0.00;0.00"
INTEGER = "#,##0;-#,##0;0"
PENCE = '#,##0.00"p"'  # a fraction of money in pence (not a sum of money to add up)
MONEY_FORMATS = frozenset({GBP, GBP_M, CHANGE_GBP, CHANGE_GBP_M, MILLIONS})

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
TITLE_FONT = Font(bold=True, size=13)
BASIS_FONT = Font(italic=True, color="404040")


def put_text(cell: Any, value: object) -> None:
    """A string cell (data type ``s``) holding inert text; control characters are dropped."""
    text = ILLEGAL_CHARACTERS_RE.sub("", inert_text(str(value)))
    cell.value = text
    cell.data_type = "s"


def pounds(pence: int) -> Decimal:
    """Integer pence as exact pounds: 12345 -> Decimal('123.45')."""
    return Decimal(int(pence)) / 100


def put_money(cell: Any, pence: int | None, number_format: str = GBP) -> None:
    if pence is None:
        return
    cell.value = pounds(pence)
    cell.number_format = number_format


def cell_pence(value: object) -> int:
    """A money cell read back (pounds, 2 dp) as integer pence."""
    if value is None or value == "":
        return 0
    return int((Decimal(str(value)) * 100).to_integral_value())


@dataclass(frozen=True)
class Col:
    """One column of a table: its header, the field it shows, and how to write a value."""

    header: str
    field: str
    kind: str = "text"  # text | gbp | gbp_m | change | change_m | millions | share | plain_share | number | int | pence | bool
    width: float | None = None


_FORMATS = {
    "gbp": GBP,
    "gbp_m": GBP_M,
    "change": CHANGE_GBP,
    "change_m": CHANGE_GBP_M,
    "millions": MILLIONS,
    "share": SHARE,
    "plain_share": PLAIN_SHARE,
    "number": NUMBER,
    "int": INTEGER,
    "pence": PENCE,
}
_WIDTHS = {"gbp": 19.0, "gbp_m": 11.0, "change": 17.0, "change_m": 10.0, "share": 10.0}


def put(cell: Any, kind: str, value: object) -> None:
    """Write ``value`` in the convention of a column ``kind`` (money kinds take pence)."""
    if value is None:
        return
    if kind in ("gbp", "gbp_m", "change", "change_m"):
        put_money(cell, int(value), _FORMATS[kind])  # type: ignore[call-overload]
    elif kind in _FORMATS:
        cell.value = value
        cell.number_format = _FORMATS[kind]
    elif kind == "bool":
        put_text(cell, "yes" if value else "no")
    else:
        put_text(cell, value)


def write_table(
    ws: Worksheet,
    columns: Sequence[Col],
    rows: Sequence[Sequence[object]],
    *,
    title: str,
    basis: str,
    first_row: int = 1,
    freeze: bool = True,
) -> int:
    """A titled table: title, its basis in words, a header row with each field name in a
    comment; ``freeze``: frozen under the header and filtered (one such table a sheet).
    Returns the row after the table and a blank one."""
    put_text(ws.cell(first_row, 1), title)
    ws.cell(first_row, 1).font = TITLE_FONT
    put_text(ws.cell(first_row + 1, 1), "Basis: " + basis)
    ws.cell(first_row + 1, 1).font = BASIS_FONT
    head = first_row + 2
    for j, col in enumerate(columns, start=1):
        cell = ws.cell(head, j)
        put_text(cell, col.header)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.comment = Comment(f"field: {col.field}", "allocator", width=220, height=40)
    for i, row in enumerate(rows, start=head + 1):
        for j, (col, value) in enumerate(zip(columns, row, strict=True), start=1):
            put(ws.cell(i, j), col.kind, value)
    last = head + len(rows)
    if freeze:
        ws.freeze_panes = ws.cell(head + 1, 1)
        ws.auto_filter.ref = f"A{head}:{get_column_letter(len(columns))}{max(last, head)}"
    for j, col in enumerate(columns, start=1):
        letter = get_column_letter(j)
        width = col.width or _WIDTHS.get(col.kind)
        if width is None:
            longest = max([len(str(r[j - 1] or "")) for r in rows[:200]] + [len(col.header)])
            width = min(max(longest + 2, 8), 60)
        ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, width)
    return last + 2


def header_row(ws: Worksheet, first_row: int = 1) -> int:
    """The header row of a table written by `write_table` at ``first_row``."""
    return first_row + 2
