"""Fair-share targets of the tiny example, by hand, and the `allocator targets` command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from allocator.domain.arrays import ScenarioArrays
from allocator.domain.targets import compute_targets
from cli.app import app
from models import Scenario

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "data" / "tiny" / "tiny.json"
runner = CliRunner()


def test_tiny_targets_by_hand(tiny: Scenario) -> None:
    """data/tiny/HAND_CALCULATION.md, section 2.

    Pool: £10,000,000 + £2,000,000, less a 2% reserve (£240,000) = capitated pot £11,760,000.
    Weighted populations: N1 = 6,000 × 1.0 + 400 × 5.0 = 8,000 (no adjustment);
    N2 = (9,000 × 1.0 + 200 × 5.0) × 1.2 = 12,000; system 20,000 for 15,600 people.
    Targets: P1 = N1 = £11,760,000 × 8,000 / 20,000 = £4,704,000 (40%),
    P2 = N2 = £11,760,000 × 12,000 / 20,000 = £7,056,000 (60%); S1 = the pot.
    Need index = (weighted population ÷ heads) ÷ (20,000 ÷ 15,600):
    N1 = (8,000 / 6,400) / (20,000 / 15,600) = 1.25 × 0.78 = 0.975;
    N2 = (12,000 / 9,200) / (20,000 / 15,600) = 1.304347… × 0.78 = 1.017391…
    """
    targets = compute_targets(ScenarioArrays.from_scenario(tiny))
    assert targets.capitated_pot_pence == 1_176_000_000
    assert targets.systems.target_pence.tolist() == [1_176_000_000]
    assert targets.places.target_pence.tolist() == [470_400_000, 705_600_000]
    assert targets.neighbourhoods.target_pence.tolist() == [470_400_000, 705_600_000]
    np.testing.assert_allclose(targets.neighbourhoods.weighted_population, [8_000, 12_000])
    np.testing.assert_allclose(targets.neighbourhoods.headcount, [6_400, 9_200])
    np.testing.assert_allclose(targets.places.target_share, [0.4, 0.6])
    need = targets.neighbourhoods.need_index
    assert need[0] == pytest.approx(0.975, rel=1e-12)
    assert need[1] == pytest.approx(12_000 / 9_200 * 15_600 / 20_000, rel=1e-12)
    assert need[1] == pytest.approx(1.0173913043478, rel=1e-12)
    assert targets.systems.need_index.tolist() == pytest.approx([1.0])
    distance = targets.places.distance_from_target(np.array([470_400_000, 600_000_000]))
    assert distance[0] == 0.0
    assert distance[1] == pytest.approx(-105_600_000 / 705_600_000)


def test_targets_command_prints_every_level() -> None:
    result = runner.invoke(app, ["targets", str(TINY)])
    assert result.exit_code == 0, result.output
    for text in ("Systems", "Places", "Neighbourhoods", "£4,704,000.00", "£7,056,000.00",
                 "£11,760,000.00", "0.9750", "1.0174", "40.0000%", "12,000"):  # fmt: skip
        assert text in result.output


def test_targets_command_one_level() -> None:
    result = runner.invoke(app, ["targets", str(TINY), "--level", "place"])
    assert result.exit_code == 0, result.output
    assert "Places" in result.output
    assert "Neighbourhoods" not in result.output


def test_targets_command_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["targets", str(tmp_path / "nope.json")])
    assert result.exit_code != 0


def test_generate_and_import_commands_write_loadable_scenarios(tmp_path: Path) -> None:
    out = tmp_path / "g.json"
    result = runner.invoke(app, ["generate", str(out), "--size", "system", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert len(Scenario.model_validate_json(out.read_text()).neighbourhoods) == 50
    result = runner.invoke(app, ["generate", str(out), "--systems", "2", "--places", "2",
                                 "--neighbourhoods", "3", "--providers", "8"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(Scenario.model_validate_json(out.read_text()).providers) == 16
    out = tmp_path / "n.json"
    result = runner.invoke(app, ["import-nhse", "2023-24", str(out)])
    assert result.exit_code == 0, result.output
    assert len(Scenario.model_validate_json(out.read_text()).systems) == 42
    result = runner.invoke(app, ["targets", str(out), "--level", "system"])
    assert result.exit_code == 0
    assert "QE1" in result.output
    assert runner.invoke(app, ["import-nhse", "2019", str(out)]).exit_code == 2


def test_targets_table_with_an_allocation(tiny: Scenario) -> None:
    from rich.console import Console

    from cli.targets import level_table

    places = compute_targets(ScenarioArrays.from_scenario(tiny)).places
    table = level_table(
        "Places", places, {"P1": "Northtown"}, {"P1": 470_400_000, "P2": 600_000_000}
    )
    console = Console(width=200, record=True)
    console.print(table)
    text = console.export_text()
    assert "£6,000,000.00" in text
    assert "+0.00%" in text
    assert "-14.97%" in text  # (6,000,000 − 7,056,000) ÷ 7,056,000
