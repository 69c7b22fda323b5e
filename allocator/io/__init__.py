"""Scenario files: JSON and Excel workbooks, read leniently with every issue located.

`load_and_validate` / `load_scenario` (in `allocator.io.load`) dispatch on the extension;
`allocator.io.json_io` and `allocator.io.excel` read and write each format.
"""

from __future__ import annotations
