"""Scenarios as Excel workbooks: the documented template, a filled workbook, and the reader.

Layout (sheets, columns, units, help) is data in `excel_layout`; `excel_write` writes it
and `excel_read` reads it back with every issue located by sheet and row.
"""

from __future__ import annotations

from allocator.io.excel_read import read_workbook, read_workbook_bytes
from allocator.io.excel_write import build_workbook, write_template, write_workbook

__all__ = [
    "build_workbook",
    "read_workbook",
    "read_workbook_bytes",
    "write_template",
    "write_workbook",
]
