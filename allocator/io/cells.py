"""The one place export text cells are written, so no exported cell is ever a live formula.

Names (providers, places, schemes, rules) come from whoever wrote the scenario. A name such
as ``=HYPERLINK(...)`` or ``@SUM(...)`` written raw into a CSV is run as a formula when the
file is opened in a spreadsheet. CSV text follows the OWASP CSV-injection rule (a leading
``'`` before = + - @ tab or carriage return); workbook text is stored as string cells, which
a spreadsheet shows and never evaluates.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert_text(value: str) -> str:
    """``value`` as text a spreadsheet will not run: ``'`` before a formula's first character."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _inert(value: Any) -> Any:
    return inert_text(value) if isinstance(value, str) else value


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and headers are all `inert_text`."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(_inert)
    out.columns = [_inert(c) for c in out.columns]
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text (no index, RFC 4180 line ends) with every text cell inert.

    CRLF line ends make the writer quote a cell holding a lone carriage return, which
    would otherwise split its row in two.
    """
    return str(inert_frame(frame).to_csv(index=False, lineterminator="\r\n"))


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """`csv_text` as UTF-8 bytes."""
    return csv_text(frame).encode("utf-8")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` as CSV with every text cell inert."""
    path.write_bytes(csv_bytes(frame))


def string_cell(cell: Any) -> None:
    """Store a workbook cell holding text as a string cell (type 's'), never a formula."""
    if isinstance(cell.value, str):
        cell.data_type = "s"


def inert_sheet(sheet: Any) -> None:
    """`string_cell` for every cell of an openpyxl worksheet."""
    for row in sheet.iter_rows():
        for cell in row:
            string_cell(cell)


def workbook_bytes(frames: Mapping[str, pd.DataFrame]) -> bytes:
    """Each frame as a sheet of one ``.xlsx`` workbook (no index), every text cell a string."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name, index=False)
            inert_sheet(writer.sheets[name])
    return buffer.getvalue()


def write_workbook(frames: Mapping[str, pd.DataFrame], path: Path) -> None:
    """Write `workbook_bytes` of ``frames`` to ``path``."""
    path.write_bytes(workbook_bytes(frames))


__all__ = [
    "FORMULA_START",
    "csv_bytes",
    "csv_text",
    "inert_frame",
    "inert_sheet",
    "inert_text",
    "string_cell",
    "workbook_bytes",
    "write_csv",
    "write_workbook",
]
