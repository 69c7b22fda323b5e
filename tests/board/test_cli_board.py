"""`allocator solve --out`, `allocator report` and `allocator convert` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from allocator.io.board_verify import verify_board_pack
from allocator.io.load import load_scenario
from cli.app import app
from tests.conftest import DATA

runner = CliRunner()
TINY = DATA / "tiny" / "tiny.json"
REALISTIC = DATA / "realistic" / "realistic.json"


def test_solve_writes_the_board_pack_and_prints_finance_words(tmp_path: Path) -> None:
    out = tmp_path / "result.xlsx"
    result = runner.invoke(app, ["solve", str(REALISTIC), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "QALYs per £1m" in result.output and "Reference rate: £12,936 per QALY" in result.output
    assert "£1m more from NHS Tri-Borough ICB core allocation buys" in result.output
    assert "e-05" not in result.output
    assert load_workbook(out, read_only=True).sheetnames[0] == "Summary"
    assert verify_board_pack(out) == []


def test_report_writes_a_pdf_and_a_pack(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result_json = tmp_path / "result.json"
    assert runner.invoke(app, ["solve", str(TINY), "--out", str(result_json)]).exit_code == 0
    pdf = tmp_path / "board.pdf"
    done = runner.invoke(
        app,
        [
            "report",
            str(result_json),
            "--scenario",
            str(TINY),
            "--compare",
            str(TINY),
            "--out",
            str(pdf),
        ],
    )
    assert done.exit_code == 0, done.output
    assert pdf.read_bytes().startswith(b"%PDF")
    pack = tmp_path / "board.xlsx"
    assert runner.invoke(app, ["report", str(result_json), "--out", str(pack)]).exit_code == 0
    assert verify_board_pack(pack) == []


def test_solve_writes_the_board_report_pdf(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "board.pdf"
    result = runner.invoke(app, ["solve", str(TINY), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    bad = runner.invoke(app, ["solve", str(TINY), "--out", str(tmp_path / "x.docx")])
    assert bad.exit_code == 2 and "use .json, .csv, .xlsx or .pdf" in bad.output


def test_report_refuses_a_scenario_that_is_not_the_results(tmp_path: Path) -> None:
    result_json = tmp_path / "result.json"
    assert runner.invoke(app, ["solve", str(TINY), "--out", str(result_json)]).exit_code == 0
    done = runner.invoke(
        app,
        [
            "report",
            str(result_json),
            "--scenario",
            str(REALISTIC),
            "--out",
            str(tmp_path / "x.pdf"),
        ],
    )
    assert done.exit_code == 2 and "Scenario mismatch" in done.output
    assert "Traceback" not in done.output
    bad = runner.invoke(app, ["report", str(result_json), "--out", str(tmp_path / "x.docx")])
    assert bad.exit_code == 2 and "use .pdf or .xlsx" in bad.output


@pytest.mark.parametrize("source", [TINY, REALISTIC], ids=["tiny", "realistic"])
def test_convert_round_trips_with_the_same_content_hash(source: Path, tmp_path: Path) -> None:
    original = load_scenario(source).content_hash()
    xlsx, back = tmp_path / "scenario.xlsx", tmp_path / "back.json"
    assert runner.invoke(app, ["convert", str(source), str(xlsx)]).exit_code == 0
    assert load_scenario(xlsx).content_hash() == original
    done = runner.invoke(app, ["convert", str(xlsx), str(back)])
    assert done.exit_code == 0, done.output
    assert load_scenario(back).content_hash() == original and original in done.output
    assert (
        json.loads(back.read_text())["scenario_id"] == json.loads(source.read_text())["scenario_id"]
    )


def test_convert_refuses_other_formats(tmp_path: Path) -> None:
    done = runner.invoke(app, ["convert", str(TINY), str(tmp_path / "s.csv")])
    assert done.exit_code == 2 and "use .json or .xlsx" in done.output
