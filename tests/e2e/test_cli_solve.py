"""`allocator solve` and `allocator compare` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.app import app
from tests.conftest import DATA
from tests.explain.planted import floors_above_pot

runner = CliRunner()
TINY = DATA / "tiny" / "tiny.json"


def test_solve_prints_the_allocation_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    result = runner.invoke(app, ["solve", str(TINY), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "£4,060,000.00" in result.output  # Northtown GPs' budget
    assert "Binding rules" in result.output
    # Each stage shows its optimum and the published allocation's own figure after rounding.
    assert "stage stability: optimal, 1.972e+06 £; published 1.972e+06 £ after rounding" in (
        " ".join(result.output.split())
    )
    document = json.loads(out.read_text())
    assert document["status"] == "optimal"
    assert {p["provider_id"]: p["budget_pence"] for p in document["providers"]}["C"] == 220_000_000


def test_solve_with_sensitivity_reports_ranges(tmp_path: Path) -> None:
    result = runner.invoke(app, ["solve", str(TINY), "--sensitivity"])
    assert result.exit_code == 0, result.output
    assert "holds for" in result.output


def test_infeasible_scenario_prints_the_diagnosis(tmp_path: Path, tiny) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "short.json"
    path.write_text(floors_above_pot(tiny).model_dump_json())
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 3
    assert "cannot all hold" in result.output
    assert "Traceback" not in result.output


def test_compare_scenarios_solved_on_the_fly(tmp_path: Path, tiny) -> None:  # type: ignore[no-untyped-def]
    cut = tiny.model_copy(
        update={
            "funders": tuple(
                f.model_copy(update={"amount_pence": f.amount_pence * 98 // 100})
                for f in tiny.funders
            )
        }
    )
    path = tmp_path / "cut.json"
    path.write_text(cut.model_dump_json())
    out = tmp_path / "comparison.xlsx"
    result = runner.invoke(app, ["compare", str(TINY), str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "reconciles to the penny: yes" in result.output
    assert "funders[NHS].amount_pence" in result.output
    assert out.exists()
