"""Rebuild data/invalid/ten_errors.xlsx: the tiny example as a workbook with planted cell errors.

Run from the repository root: ``python data/invalid/make_ten_errors_xlsx.py``. Each edit
is listed in data/invalid/README.md with the sheet, row and message it must produce.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from allocator.io.excel import write_workbook
from allocator.io.json_io import read_json

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def build(out: Path) -> None:
    scenario, issues = read_json(ROOT / "data" / "tiny" / "tiny.json")
    assert scenario is not None, issues
    write_workbook(scenario, out)
    wb = load_workbook(out)
    wb["Populations"]["C2"] = "lots"  # text in a number column
    wb["Funders"]["D2"] = "=1000000*10"  # a formula
    wb["Funders"]["D3"] = 2000000.125  # more than 2 decimal places of pounds
    wb["Providers"]["F3"] = -5  # negative money
    wb["Providers"]["C4"] = "hospital"  # not a provider kind
    wb["Neighbourhoods"]["B3"] = "P9"  # unknown place
    wb["Places"]["B3"] = "S2"  # unknown system
    segments = wb["Segments"]
    segments.append(["well", "Healthy again", 2.0])  # duplicate id, row 4
    wb["LocalAdjustments"]["B2"] = 0  # factor must be more than 0
    wb["PaceOfChange"]["K2"] = "maybe"  # not TRUE/FALSE
    wb["ValueCurves"]["D3"] = "high"  # text in a number column
    settings = wb["Scenario"]
    for row in range(2, settings.max_row + 1):
        if settings.cell(row=row, column=1).value == "reserve.share":
            settings.cell(row=row, column=3).value = 1.5  # a share above 1
    wb.create_sheet("Notes")["A1"] = "scratch notes"  # an unknown sheet (a warning)
    wb.save(out)


if __name__ == "__main__":
    build(HERE / "ten_errors.xlsx")
