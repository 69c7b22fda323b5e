"""`allocator trace`: a provider budget from a stored result, and a located error."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from allocator.pipeline import solve_scenario
from cli.app import app
from tests.conftest import DATA, load

TINY = DATA / "tiny" / "tiny.json"


def test_cli_trace(tmp_path: Path) -> None:
    result = solve_scenario(load(TINY))
    path = tmp_path / "result.json"
    path.write_text(result.model_dump_json())
    provider = result.providers[0]
    runner = CliRunner()
    out = tmp_path / "trace.json"
    figure = f"provider {provider.provider_id}"
    args = ["trace", str(path), figure, "--scenario", str(TINY), "--out", str(out)]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert "fixed by stage" in ok.output
    assert f'"published_pence": {provider.budget_pence}' in out.read_text()
    bad = runner.invoke(app, ["trace", str(path), "provider nope", "--scenario", str(TINY)])
    assert bad.exit_code == 1
    assert "the providers are" in bad.output


def test_cli_trace_a_neighbourhood_and_a_flow(tmp_path: Path) -> None:
    result = solve_scenario(load(TINY))
    path = tmp_path / "result.json"
    path.write_text(result.model_dump_json())
    unit, flow = result.neighbourhoods[0], result.flows[0]
    runner = CliRunner()
    for figure, published in (
        (f"neighbourhood {unit.unit_id}", unit.allocation_pence),
        (f"flow {flow.funder_id} -> {flow.provider_id}/{flow.segment_id}", flow.amount_pence),
    ):
        out = tmp_path / "trace.json"
        args = ["trace", str(path), figure, "--scenario", str(TINY), "--out", str(out)]
        ok = runner.invoke(app, args)
        assert ok.exit_code == 0, ok.output
        assert f'"published_pence": {published}' in out.read_text()
    bad = runner.invoke(app, ["trace", str(path), "cell x", "--scenario", str(TINY)])
    assert bad.exit_code == 1
    assert "name the figure as" in bad.output
