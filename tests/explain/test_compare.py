"""Comparing two allocations: changes per level reconcile to the penny; rules and inputs that moved."""

from __future__ import annotations

from pathlib import Path

from allocator.explain.compare import compare_results, diff_inputs
from allocator.pipeline import solve_scenario
from models import Scenario


def _cut_pot(scenario: Scenario, share: float) -> Scenario:
    funders = tuple(
        f.model_copy(update={"amount_pence": round(f.amount_pence * (1 - share))})
        for f in scenario.funders
    )
    return scenario.model_copy(update={"funders": funders})


def test_pot_cut_comparison_reconciles_and_names_changes(tiny: Scenario) -> None:
    cut = _cut_pot(tiny, 0.02)
    a, b = solve_scenario(tiny), solve_scenario(cut)
    c = compare_results(a, b, scenario_a=tiny, scenario_b=cut)
    assert c.reconciles
    assert c.pot_change_pence == -24_000_000
    providers = {x.unit_id: x for x in c.lines if x.level == "provider"}
    assert (
        sum(x.change_pence for x in providers.values())
        == b.pot.capitated_pence - a.pot.capitated_pence
    )
    assert {i.path for i in c.inputs} == {"funders[NHS].amount_pence", "funders[LA].amount_pence"}
    states = {(r.unit_id, r.change) for r in c.rules}
    assert states  # a 2% cut moves providers off their caps
    for line in c.lines:
        assert line.change_pence == line.b_pence - line.a_pence


def test_diff_inputs_matches_list_items_by_id() -> None:
    a = {
        "providers": [
            {"provider_id": "X", "baseline_pence": 1},
            {"provider_id": "Y", "baseline_pence": 2},
        ]
    }
    b = {
        "providers": [
            {"provider_id": "Y", "baseline_pence": 3},
            {"provider_id": "X", "baseline_pence": 1},
        ]
    }
    changes = diff_inputs(a, b)
    assert [(c.path, c.a, c.b) for c in changes] == [("providers[Y].baseline_pence", 2, 3)]


def test_realistic_pot_cut_names_the_losers_and_reconciles() -> None:
    from tests.conftest import DATA, load

    realistic = load(DATA / "realistic" / "realistic.json")
    cut = _cut_pot(realistic, 0.02)
    a, b = solve_scenario(realistic, explain=False), solve_scenario(cut, explain=False)
    c = compare_results(a, b, scenario_a=realistic, scenario_b=cut)
    assert c.reconciles
    losses = sorted((x for x in c.lines if x.level == "provider"), key=lambda x: x.change_pence)
    assert losses[0].change_pence < 0
    places = sorted((x for x in c.lines if x.level == "place"), key=lambda x: x.change_pence)
    assert places[0].change_pence < 0
    assert (
        sum(x.change_pence for x in c.lines if x.level == "place")
        == b.pot.capitated_pence - a.pot.capitated_pence
    )
    assert c.rules  # a 2% smaller pot moves providers onto their floors
    assert {i.path for i in c.inputs} == {
        f"funders[{f.funder_id}].amount_pence" for f in realistic.funders
    }


def test_two_result_files_say_the_inputs_are_unknown(tiny: Scenario, tmp_path: Path) -> None:
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from cli.app import app

    cut = _cut_pot(tiny, 0.02)
    a, b = solve_scenario(tiny), solve_scenario(cut)
    assert not compare_results(a, b).inputs_known
    assert compare_results(a, solve_scenario(tiny)).inputs_known  # same hash: same inputs
    files = []
    for name, result in (("a.json", a), ("b.json", b)):
        files.append(tmp_path / name)
        files[-1].write_text(result.model_dump_json())
    out = tmp_path / "comparison.xlsx"
    run = CliRunner().invoke(app, ["compare", *map(str, files), "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "Inputs unknown" in run.output
    text = [
        str(c.value) for row in load_workbook(out)["Inputs"].iter_rows() for c in row if c.value
    ]
    assert any(t.startswith("Inputs unknown") for t in text)


def test_changed_inputs_are_shown_in_pounds(tiny: Scenario, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli.app import app

    cut = _cut_pot(tiny, 0.02)
    files = []
    for name, scenario in (("a.json", tiny), ("b.json", cut)):
        files.append(tmp_path / name)
        files[-1].write_text(scenario.model_dump_json())
    run = CliRunner().invoke(app, ["compare", *map(str, files)])
    assert run.exit_code == 0, run.output
    nhs = next(line for line in run.output.splitlines() if "funders[NHS].amount_pence" in line)
    assert "£" in nhs and "-£" in nhs.split("→")[-1]
    assert "0000000 →" not in nhs
