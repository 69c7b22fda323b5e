"""Risk outputs share one sign convention (+ is an overspend, a cost to the bearer); charts
are in £m with VaR, CVaR and the reserve drawn; a short reserve is warned about."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from allocator.pipeline import solve_scenario
from allocator.riskshare import result_risk_report
from allocator.riskshare.histogram import draw_risk
from allocator.riskshare.report import (
    SIGN_CONVENTION,
    ReserveRisk,
    RiskReport,
    reserve_warning,
)
from cli.app import app
from models import Scenario
from tests.conftest import DATA

runner = CliRunner()
TINY = DATA / "tiny" / "tiny.json"
REALISTIC = DATA / "realistic" / "realistic.json"


def _report() -> RiskReport:
    scenario = Scenario.model_validate_json(TINY.read_text())
    return result_risk_report(
        solve_scenario(scenario, explain=False),
        scenario,
        draws=400,
        seed=1,
        level=0.95,
        reserve_confidence=0.95,
    )


def test_terminal_tables_and_export_use_plus_for_an_overspend(tmp_path: Path) -> None:
    out = tmp_path / "risk.xlsx"
    result = runner.invoke(
        app, ["risk", str(TINY), "--draws", "300", "--out", str(out)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "surplus" not in result.output and "expected position" not in result.output
    assert "expected overspend" in result.output and "+ overspend" in result.output
    summary = pd.read_excel(out, sheet_name="summary").set_index("field")["value"]
    assert summary["sign"] == SIGN_CONVENTION
    providers = pd.read_excel(out, sheet_name="providers").set_index("provider_id")
    # The workbook's expected share is the same signed figure the terminal prints.
    for provider_id, expected in providers["share_expected_pence"].items():
        pounds = f"{abs(int(expected)) / 100:,.2f}"
        sign = "+" if expected > 0 else "-" if expected < 0 else ""
        assert f"{sign}£{pounds}" in result.output, provider_id


def test_the_chart_is_in_pounds_millions_with_var_cvar_and_reserve() -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    report = _report()
    pool = report.pool
    axes = Figure().subplots()
    draw_risk(
        axes,
        pool.histogram,
        stats=pool.call,
        level=0.95,
        reserve_pence=pool.reserve.reserve_pence,
    )
    assert "£m" in axes.get_xlabel() and "+ overspend, a cost to the pool" in axes.get_xlabel()
    assert axes.get_ylabel().startswith("draws")
    labels = [line.get_label() for line in axes.get_lines()]
    assert any(label.startswith("VaR 95% ") and label.endswith("m") for label in labels)
    assert any(label.startswith("CVaR 95% ") for label in labels)
    assert any(label.startswith("reserve £") for label in labels)
    var = next(line for line in axes.get_lines() if line.get_label().startswith("VaR"))
    assert var.get_xdata()[0] == pytest.approx(pool.call.var_pence / 100_000_000)
    low, high = pool.histogram.bin_edges_pence[0], pool.histogram.bin_edges_pence[-1]
    assert axes.get_xlim()[0] <= low / 100_000_000 and axes.get_xlim()[1] >= high / 1e8


def test_a_reserve_below_the_confidence_is_warned_about(tmp_path: Path) -> None:
    from models.scenario import ContingencyReserve

    short = ReserveRisk(
        reserve_pence=100_000_000,
        confidence=0.95,
        expected_call_pence=50_000_000,
        expected_call_se_pence=1,
        expected_shortfall_pence=10_000_000,
        prob_exceeds_reserve=0.12,
        reserve_needed_pence=250_000_000,
    )
    assert reserve_warning(short) == (
        "Warning: the reserve of £1.0m is below the £2.5m that 95% confidence needs "
        "(short by £1.5m); the call exceeds it in 12.0% of draws."
    )
    assert reserve_warning(short.model_copy(update={"reserve_pence": 250_000_000})) is None
    doc = Scenario.model_validate_json(REALISTIC.read_text())
    doc = doc.model_copy(update={"reserve": ContingencyReserve(share=0.0)})
    path = tmp_path / "no-reserve.json"
    path.write_text(doc.model_dump_json())
    result = runner.invoke(
        app, ["risk", str(path), "--draws", "300", "--no-histograms"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "Warning: the reserve of £0.0m is below" in " ".join(result.output.split())
