"""The bridge: steps by input group that add, to the penny, to the total change."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from allocator.errors import AllocatorError
from allocator.explain.bridge import bridge
from cli.app import app
from models import Scenario
from tests.conftest import DATA, load


def _changed(a: Scenario) -> Scenario:
    """-2% pot, +3% population in one place, a tighter provider pace cap."""
    funders = tuple(
        f.model_copy(update={"amount_pence": round(f.amount_pence * 0.98)}) for f in a.funders
    )
    place = a.places[0].place_id
    inside = {n.neighbourhood_id for n in a.neighbourhoods if n.place_id == place}
    populations = tuple(
        p.model_copy(update={"headcount": p.headcount * 1.03})
        if p.neighbourhood_id in inside
        else p
        for p in a.populations
    )
    pace = tuple(
        r.model_copy(update={"cap_growth_share": 0.06}) if r.rule_id == "provider-pace" else r
        for r in a.pace_of_change
    )
    return a.model_copy(
        update={"funders": funders, "populations": populations, "pace_of_change": pace}
    )


@pytest.fixture(scope="module")
def scenarios() -> tuple[Scenario, Scenario]:
    a = load(DATA / "realistic" / "realistic.json")
    return a, _changed(a)


def test_steps_add_to_the_total_change_for_every_provider_and_place(
    scenarios: tuple[Scenario, Scenario],
) -> None:
    a, b = scenarios
    result = bridge(a, b)
    assert result.order == ["pot and funders", "populations and weights", "pace rules"]
    figures = result.total_change_pence
    assert any(k.startswith("provider ") for k in figures)
    assert any(k.startswith("place ") for k in figures)
    assert any(k.startswith("segment ") for k in figures)
    for figure, total in figures.items():
        assert sum(step.effect_pence[figure] for step in result.steps) == total, figure
    # A 2% smaller pot is the step that moves the pot's total most.
    places = [k for k in figures if k.startswith("place ")]
    assert sum(figures[k] for k in places) < 0
    assert result.largest_step[max(places, key=lambda k: abs(figures[k]))] in result.order
    assert all(k in result.largest_step for k in figures)
    # The step named for each figure is the one with the largest effect on it.
    for figure in figures:
        named = next(s for s in result.steps if s.group == result.largest_step[figure])
        assert abs(named.effect_pence[figure]) == max(
            abs(s.effect_pence[figure]) for s in result.steps
        )
    # How much the order matters, for the largest steps.
    assert result.order_spread
    for line in result.order_spread:
        assert set(line.effect_pence_by_order) == {"stated", "reversed"}


def test_the_order_is_an_option(scenarios: tuple[Scenario, Scenario]) -> None:
    a, b = scenarios
    result = bridge(a, b, order=["pace rules"], spread_top=0)
    assert result.order[0] == "pace rules"
    for figure, total in result.total_change_pence.items():
        assert sum(step.effect_pence[figure] for step in result.steps) == total
    with pytest.raises(AllocatorError, match="the groups are"):
        bridge(a, b, order=["weather"])


def test_cli_bridge(tmp_path: Path, scenarios: tuple[Scenario, Scenario]) -> None:
    _, b = scenarios
    path = tmp_path / "b.json"
    path.write_text(b.model_dump_json())
    out = tmp_path / "bridge.json"
    ran = CliRunner().invoke(
        app, ["bridge", str(DATA / "realistic" / "realistic.json"), str(path), "--out", str(out)]
    )
    assert ran.exit_code == 0, ran.output
    assert "pot and funders" in ran.output and "total change" in ran.output
    assert '"largest_step"' in out.read_text()


def test_cli_bridge_workbook(tmp_path: Path, scenarios: tuple[Scenario, Scenario]) -> None:
    from openpyxl import load_workbook

    _, b = scenarios
    b_path, out = tmp_path / "b.json", tmp_path / "bridge.xlsx"
    b_path.write_text(b.model_dump_json())
    a_path = DATA / "realistic" / "realistic.json"
    ran = CliRunner().invoke(app, ["bridge", str(a_path), str(b_path), "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    rows = list(load_workbook(out)["Bridge"].iter_rows(values_only=True))
    header = rows[0]
    steps = [i for i, h in enumerate(header) if str(h).endswith("(pence)")]
    assert len(steps) == 3
    total = header.index("total_change_pence")
    kinds = {row[0] for row in rows[1:]}
    assert kinds == {"provider", "place", "segment"}
    for row in rows[1:]:
        assert sum(row[i] for i in steps) == row[total], row
