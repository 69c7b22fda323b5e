"""The Scenario sheet: one setting per row (key, label, value), read into the document with every unknown, repeated or wrong setting located by row."""

from __future__ import annotations

from typing import Any

from allocator.io.excel_cells import convert
from allocator.io.excel_layout import (
    SCENARIO_SHEET,
    SETTINGS,
    normalise,
)
from allocator.io.excel_reading import Reading

SETTING_BY_KEY = {normalise(s.key): s for s in SETTINGS} | {normalise(s.label): s for s in SETTINGS}


def read_settings(ws: Any, reading: Reading) -> None:
    seen: dict[str, int] = {}
    for number, cells in enumerate(ws.iter_rows(min_row=2, max_col=3), start=2):
        if reading.over_limit(SCENARIO_SHEET, number, 3):
            break
        key_cell = cells[0].value if cells else None
        label_cell = cells[1].value if len(cells) > 1 else None
        value_cell = cells[2] if len(cells) > 2 else None
        name = str(key_cell if key_cell not in (None, "") else label_cell or "").strip()
        if not name:
            if value_cell is not None and value_cell.value not in (None, ""):
                reading.issue(SCENARIO_SHEET, number, "a value without a setting key in column A")
            continue
        setting = SETTING_BY_KEY.get(normalise(name))
        if setting is None:
            reading.issue(SCENARIO_SHEET, number, f"unknown setting {name!r}; check its spelling")
            continue
        if setting.key in seen:
            reading.issue(
                SCENARIO_SHEET,
                number,
                f"setting {setting.key!r} appears twice (also row {seen[setting.key]})",
            )
            continue
        seen[setting.key] = number
        reading.places.setdefault(setting.path, (SCENARIO_SHEET, number))
        for depth in range(1, len(setting.path)):
            reading.places.setdefault(setting.path[:depth], (SCENARIO_SHEET, number))
        if value_cell is None:
            continue
        value, problem = convert(
            setting.kind, value_cell.value, getattr(value_cell, "data_type", None), setting.choices
        )
        if problem:
            reading.issue(
                SCENARIO_SHEET, number, f"setting {setting.key!r}: {problem}", setting.path
            )
        if value is not None:
            node = reading.document
            for part in setting.path[:-1]:
                node = node.setdefault(part, {})
            node[setting.path[-1]] = value
