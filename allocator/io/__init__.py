"""Scenario files: JSON and Excel workbooks, read leniently with every issue located.

`load_and_validate` / `load_scenario` dispatch on the extension; `allocator.io.json_io`
and `allocator.io.excel` read and write each format (openpyxl is imported only when a
workbook is read or written).
"""

from __future__ import annotations

from allocator.io.load import load_and_validate, load_scenario

__all__ = ["load_and_validate", "load_scenario"]
