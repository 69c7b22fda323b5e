"""Re-verify: identical, same optimum with a different tie, or different (and the CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from allocator.explain.verify import (
    DIFFERENT,
    IDENTICAL,
    SAME_OPTIMUM,
    published_pennies,
    verify_result,
)
from allocator.pipeline import solve_scenario
from allocator.stages import tie_break
from cli.app import app
from models import Scenario
from models.results import AllocationResult
from tests.conftest import DATA, load

REALISTIC = DATA / "realistic" / "realistic.json"


@pytest.fixture(scope="module")
def realistic() -> Scenario:
    return load(REALISTIC)


@pytest.fixture(scope="module")
def published(realistic: Scenario) -> AllocationResult:
    return solve_scenario(realistic)


def test_a_stored_result_verifies_identical(
    realistic: Scenario, published: AllocationResult
) -> None:
    stored = AllocationResult.model_validate_json(published.model_dump_json())
    report = verify_result(stored, realistic)
    assert report.verdict == IDENTICAL
    assert report.figures_differing == 0
    assert report.figures_compared == len(published_pennies(published)) > 1000
    assert report.scenario_hash == published.scenario_hash
    assert "highspy" in report.versions and "python" in report.versions


def test_a_changed_tie_break_is_the_same_optimum_with_a_different_tie(
    realistic: Scenario, published: AllocationResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = tie_break.hashed_factor
    monkeypatch.setattr(tie_break, "hashed_factor", lambda key: original(f"v2:{key}"))
    report = verify_result(published, realistic)
    assert report.verdict == SAME_OPTIMUM
    assert report.figures_differing > 0
    assert report.largest_difference_pence > 100  # a real move, not noise
    stages = {s.stage: s for s in report.stages}
    assert stages["tie_break"].published != stages["tie_break"].resolved


def test_another_scenario_is_different(realistic: Scenario, published: AllocationResult) -> None:
    funders = list(realistic.funders)  # a tuple in the model
    funders[0] = funders[0].model_copy(update={"amount_pence": funders[0].amount_pence + 10**9})
    report = verify_result(published, realistic.model_copy(update={"funders": tuple(funders)}))
    assert report.verdict == DIFFERENT
    assert "not the one the result was solved from" in " ".join(report.notes)
    assert report.differences and report.differences[0].figure


def test_cli_verify(tmp_path: Path, published: AllocationResult) -> None:
    path = tmp_path / "result.json"
    path.write_text(published.model_dump_json())
    runner = CliRunner()
    ok = runner.invoke(app, ["verify", str(path), "--scenario", str(REALISTIC)])
    assert ok.exit_code == 0, ok.output
    assert "identical" in ok.output and "0 of" in ok.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"scenario_id": 3}')
    refused = runner.invoke(app, ["verify", str(bad), "--scenario", str(REALISTIC)])
    assert refused.exit_code == 2
    assert "Traceback" not in refused.output
