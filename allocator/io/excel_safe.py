"""Worksheet rows whose unreadable cells come back as cells, not as an exception.

openpyxl's read-only parser raises on the first cell it cannot decode (``<v>NaN</v>`` in a
number cell, a shared-string index past the table, a date that is not a date) and so loses
the whole sheet. Here such a cell is returned with the raw text the file holds and the data
type `UNREADABLE_TYPE`, so the reader reports it at its sheet, row and column.
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell.read_only import EMPTY_CELL
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import VALUE_TAG, WorkSheetParser

UNREADABLE_TYPE = "unreadable"


class _SafeParser(WorkSheetParser):  # type: ignore[misc]
    def parse_cell(self, element: Any) -> dict[str, Any]:
        try:
            cell: dict[str, Any] = super().parse_cell(element)
            return cell
        except Exception:  # any cell openpyxl cannot decode becomes a located problem
            try:
                row, column = coordinate_to_tuple(element.get("r") or "")
                self.col_counter = column
            except Exception:  # a missing or malformed reference: the next cell along
                self.col_counter += 1
                row, column = self.row_counter, self.col_counter
            raw = element.findtext(VALUE_TAG, None) or ""
            return {
                "row": row,
                "column": column,
                "value": raw,
                "data_type": UNREADABLE_TYPE,
                "style_id": 0,
            }


class SafeSheet(ReadOnlyWorksheet):  # type: ignore[misc]
    """A read-only worksheet read with `_SafeParser` (same rows otherwise)."""

    def _cells_by_row(
        self,
        min_col: int,
        min_row: int,
        max_col: int | None,
        max_row: int | None,
        values_only: bool = False,
    ) -> Any:
        filler = None if values_only else EMPTY_CELL
        max_col = max_col or self.max_column
        max_row = max_row or self.max_row
        empty_row: tuple[Any, ...] = ()
        if max_col is not None:
            empty_row = (filler,) * (max_col + 1 - min_col)
        counter, idx = min_row, 1
        with self._get_source() as src:
            parser = _SafeParser(
                src,
                self._shared_strings,
                data_only=self.parent.data_only,
                epoch=self.parent.epoch,
                date_formats=self.parent._date_formats,
                timedelta_formats=self.parent._timedelta_formats,
            )
            for idx, row in parser.parse():
                if max_row is not None and idx > max_row:
                    break
                for _ in range(counter, idx):
                    counter += 1
                    yield empty_row
                if counter <= idx:
                    counter += 1
                    yield self._get_row(row, min_col, max_col, values_only)
        if max_row is not None and max_row < idx:
            for _ in range(counter, max_row + 1):
                yield empty_row


def safe_sheet(ws: Any) -> Any:
    """``ws`` read so that no cell can fail the sheet (other sheet kinds unchanged)."""
    if type(ws) is not ReadOnlyWorksheet:
        return ws
    return SafeSheet(ws.parent, ws.title, ws._worksheet_path, ws._shared_strings)
