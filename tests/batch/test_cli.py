"""`allocator batch` and `allocator plan` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from cli.app import app
from tests.batch.conftest import REALISTIC, TINY

runner = CliRunner()

SPEC = """
name: cli-grid
base: tiny.json
grid:
  - name: pot_growth
    change: {kind: pot_growth}
    values: [0.0, 0.02]
  - name: frail_demand
    change: {kind: demand_growth, segment_id: frail}
    values: [0.0, 0.05]
"""


def test_batch_command_runs_a_yaml_spec_and_resumes(tmp_path: Path) -> None:
    (tmp_path / "tiny.json").write_text(TINY.read_text())
    (tmp_path / "spec.yaml").write_text(SPEC)
    out = tmp_path / "out"
    args = ["batch", str(tmp_path / "spec.yaml"), "--out", str(out)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "4 runs: 0 already recorded, 4 solved now" in first.output
    assert len(pd.read_csv(out / "providers.csv")) == 4 * 3
    assert (out / "summary.xlsx").exists()
    again = runner.invoke(app, [*args, "--full-results"])
    assert again.exit_code == 0, again.output
    assert len(list((out / "results").glob("*.json"))) == 4


def test_batch_command_reports_a_bad_spec(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text("base: tiny.json\n")
    result = runner.invoke(app, ["batch", str(tmp_path / "spec.yaml")])
    assert result.exit_code == 2
    assert runner.invoke(app, ["batch", str(tmp_path / "missing.yaml")]).exit_code == 2


def test_plan_command_prints_and_writes_the_glide_path(tmp_path: Path) -> None:
    out = tmp_path / "glide.csv"
    args = ["plan", str(REALISTIC), "--years", "3", "--growth", "0.03", "--out", str(out)]
    args += ["--demand-growth", "frailty=0.035", "--results", str(tmp_path / "years")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Glide path" in result.output and "Northbridge" in result.output
    frame = pd.read_csv(out)
    assert list(frame["year"].unique()) == [1, 2, 3]
    assert list(frame["financial_year"].unique()) == ["2025/26", "2026/27", "2027/28"]
    assert len(list((tmp_path / "years").glob("year-*.json"))) == 3


def test_plan_command_rejects_a_malformed_demand_growth(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["plan", str(TINY), "--demand-growth", "frail", "--out", str(tmp_path / "g.csv")]
    )
    assert result.exit_code == 2


def test_plan_shows_providers_as_well_as_places_in_pounds(tmp_path: Path) -> None:
    out = tmp_path / "glide.xlsx"
    args = ["plan", str(TINY), "--years", "2", "--out", str(out)]
    result = runner.invoke(app, args, env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    assert "Provider budgets" in result.output
    sheets = pd.read_excel(out, sheet_name=None)
    assert list(sheets) == ["places", "providers"]
    providers = sheets["providers"]
    assert set(providers["provider_id"]) == {"G1", "G2", "C"}
    assert list(providers["year"].unique()) == [1, 2]
    assert (providers["budget_gbp"] * 100).round().astype(int).tolist() == providers[
        "budget_pence"
    ].tolist()
    for _, row in providers.iterrows():  # each budget printed in £, its change signed
        assert f"£{row['budget_pence'] / 100:,.2f}" in result.output
    # Each year starts from the budgets of the year before.
    year2 = providers[providers["year"] == 2]
    year1 = providers[providers["year"] == 1]
    assert year2["baseline_pence"].tolist() == year1["budget_pence"].tolist()
    csv_out = tmp_path / "glide.csv"
    again = runner.invoke(app, ["plan", str(TINY), "--years", "1", "--out", str(csv_out)])
    assert again.exit_code == 0, again.output
    assert "allocation_gbp" in pd.read_csv(csv_out).columns
    assert "budget_gbp" in pd.read_csv(tmp_path / "glide-providers.csv").columns
