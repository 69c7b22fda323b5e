"""`allocator risk`, `allocator risk-design` and `allocator solve --risk-limits` as a user runs them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from allocator.io.risk_export import SHEETS, TIDY_COLUMNS
from allocator.pipeline import solve_scenario
from cli.app import app
from models import RiskShareAgreement, Scenario
from tests.conftest import DATA

runner = CliRunner()
TINY = DATA / "tiny" / "tiny.json"
REALISTIC = DATA / "realistic" / "realistic.json"


def test_risk_on_a_scenario_prints_the_tables_and_writes_a_tidy_csv(tmp_path: Path) -> None:
    out = tmp_path / "risk.csv"
    result = runner.invoke(app, ["risk", str(REALISTIC), "--draws", "500", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for text in (
        "Providers after sharing",
        "P(overspend)",
        "CVaR of the call",
        "P(call exhausts the reserve)",
        "reserve needed at 95%",
        "The pool's call",
    ):
        assert text in result.output  # fmt: skip
    table = pd.read_csv(out)
    assert tuple(table.columns) == TIDY_COLUMNS
    assert set(table["subject"]) == {"provider", "pool", "pooled_budget", "partner"}
    reserve = table[(table.subject == "pool") & (table.measure == "reserve_pence")]
    assert reserve["value"].tolist() == [2_311_125_000]  # 0.75% of the pooled money
    nth_cvar = table[(table.subject_id == "NTH") & (table.part == "share")]
    assert nth_cvar.set_index("measure").loc["cvar_pence", "value"] <= 1_500_000_000  # its cap


def test_risk_workbook_has_a_sheet_per_table_and_histograms_can_be_off(tmp_path: Path) -> None:
    out = tmp_path / "risk.xlsx"
    result = runner.invoke(
        app, ["risk", str(TINY), "--draws", "300", "--no-histograms", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "The pool's call" not in result.output
    assert list(pd.read_excel(out, sheet_name=None)) == list(SHEETS)


def test_risk_on_a_result_needs_the_scenario_it_was_solved_from(tmp_path: Path) -> None:
    solved = tmp_path / "result.json"
    solved.write_text(
        solve_scenario(Scenario.model_validate_json(TINY.read_text())).model_dump_json()
    )
    ok = runner.invoke(app, ["risk", str(solved), "--scenario", str(TINY), "--draws", "300"])
    assert ok.exit_code == 0, ok.output
    missing = runner.invoke(app, ["risk", str(solved), "--draws", "300"])
    assert missing.exit_code == 2 and "--scenario" in missing.output
    wrong = runner.invoke(app, ["risk", str(solved), "--scenario", str(REALISTIC)])
    assert wrong.exit_code == 2 and "was not solved from realistic.json" in wrong.output
    assert "Traceback" not in missing.output + wrong.output


def test_bad_options_are_clean_errors(tmp_path: Path) -> None:
    level = runner.invoke(app, ["risk", str(TINY), "--level", "95"])
    assert level.exit_code == 2 and "between 0 and 1" in level.output
    out = runner.invoke(app, ["risk", str(TINY), "--out", str(tmp_path / "r.pdf")])
    assert out.exit_code == 1 and "use .json, .csv or .xlsx" in out.output


def test_png_without_matplotlib_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails
    result = runner.invoke(app, ["risk", str(TINY), "--png", str(tmp_path / "png")])
    assert result.exit_code == 1
    text = " ".join(result.output.split())  # the error console wraps long lines
    assert "pip install matplotlib" in text and "Traceback" not in text
    assert not (tmp_path / "png").exists()  # checked before any work


def test_png_histograms_are_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    folder = tmp_path / "png"
    result = runner.invoke(
        app, ["risk", str(TINY), "--draws", "200", "--no-histograms", "--png", str(folder)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == [
        "pool-call.png", "provider-C.png", "provider-G1.png", "provider-G2.png",
    ]  # fmt: skip


def test_risk_design_prints_a_pasteable_agreement(tmp_path: Path) -> None:
    out = tmp_path / "agreement.json"
    result = runner.invoke(
        app,
        ["risk-design", str(REALISTIC), "--provider", "TMH", "--draws", "500", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert (
        "Recommended bands" in result.output and '"agreement_id": "TMH-designed"' in result.output
    )
    agreement = RiskShareAgreement.model_validate(json.loads(out.read_text()))
    assert [b.width_pence is None for b in agreement.overspend_bands] == [False, False, True]


def test_risk_design_that_cannot_meet_the_limits_says_which(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["risk-design", str(REALISTIC), "--provider", "NTH", "--draws", "300"]
    )
    assert result.exit_code == 3
    assert "provider's limit" in result.output and "lowest provider CVaR" in result.output
    unknown = runner.invoke(app, ["risk-design", str(TINY), "--provider", "NOPE"])
    assert unknown.exit_code == 2 and "no provider 'NOPE'" in unknown.output


def test_solve_with_risk_limits_prints_the_check(tmp_path: Path) -> None:
    doc = json.loads(TINY.read_text())
    doc["providers"][0]["risk_appetite_pence"] = 20_000_000  # generous for Northtown GPs
    path = tmp_path / "appetite.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "aware.json"
    result = runner.invoke(
        app,
        [
            "solve",
            str(path),
            "--risk-limits",
            "providers",
            "--risk-draws",
            "200",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "CVaR limit, Northtown GPs" in result.output
        and "Violation rate out of sample" in result.output
    )
    saved = json.loads(out.read_text())
    assert saved["risk_limits"]["draws"] == 200 and saved["risk_limits"]["violated"] == 0
    # The risk report on that result draws costs around the reference budgets it was made with.
    again = runner.invoke(app, ["risk", str(out), "--scenario", str(path), "--draws", "300"])
    assert again.exit_code == 0 and "expected costs given" in again.output
    doc["providers"][0]["risk_appetite_pence"] = 0
    path.write_text(json.dumps(doc))
    infeasible = runner.invoke(app, ["solve", str(path), "--risk-limits", "all"])
    assert infeasible.exit_code == 3 and "CVaR limit" in infeasible.output


def test_risk_design_writes_rows_to_paste_into_the_scenario_workbook(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from allocator.io.excel import write_workbook

    out = tmp_path / "agreement.xlsx"
    result = runner.invoke(
        app,
        ["risk-design", str(REALISTIC), "--provider", "TMH", "--draws", "500", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert book.sheetnames == ["Design", "RiskShareAgreements", "RiskShareBands"]
    design = [[c.value for c in row] for row in book["Design"].iter_rows(min_row=4)]
    assert any("TMH-designed" in str(row[2]) for row in design)  # what to paste where
    money = [c for row in book["Design"].iter_rows(min_row=5, max_col=2) for c in row[1:]]
    assert all("£" in c.number_format for c in money if c.value is not None)
    # The rows are exactly what a scenario workbook holding the agreement has.
    realistic = Scenario.model_validate_json(REALISTIC.read_text())
    snippet = result.output[result.output.index("{") : result.output.rindex("}") + 1]
    agreement = RiskShareAgreement.model_validate(json.loads(snippet))
    holding = realistic.model_copy(
        update={"risk_share_agreements": (*realistic.risk_share_agreements, agreement)}
    )
    write_workbook(holding, tmp_path / "scenario.xlsx")
    scenario_book = load_workbook(tmp_path / "scenario.xlsx")
    for sheet in ("RiskShareAgreements", "RiskShareBands"):
        header = [c.value for c in scenario_book[sheet][1]]
        assert [c.value for c in book[sheet][1]] == header
        theirs = [
            [c.value for c in row]
            for row in scenario_book[sheet].iter_rows(min_row=2)
            if row[0].value == agreement.agreement_id
        ]
        ours = [[c.value for c in row] for row in book[sheet].iter_rows(min_row=2)]
        assert ours == theirs and ours
