"""The national acceptance shape on a few ICBs: both streams, system convergence, per-system MHIS.

`import-nhse 2024/25 --streams both --growth 0.04 --per-head-share 0.5 --convergence 0.25
--floor-growth 0.01 --mh-share 0.14` cut to five ICBs (``--systems``): it solves, every
published figure reconciles, over-target systems get exactly the convergence amount and
the others at least the floor, and each system's NHS money to mental health meets its
standard (binding in some systems).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from allocator.domain.arrays import ScenarioArrays
from allocator.domain.targets import compute_targets
from allocator.pipeline import solve_scenario
from allocator.synth.nhse import nhse_tables
from allocator.synth.nhse_national import StreamOptions, import_streams
from allocator.synth.nhse_streams import CORE, PMC, stream_targets, subset
from cli.app import app
from models import Scenario
from models.results import AllocationResult
from tests.rules.nhse_checks import (
    convergence_outcomes,
    mental_health_margins,
    published_problems,
    stream_totals,
)

YEAR = "2024/25"
SYSTEMS = ("QE1", "QHM", "QMJ", "QRV", "QWE")  # Lancashire, NE & N Cumbria, N Central, NW London
OPTIONS = StreamOptions(
    streams=(CORE, PMC),
    system_ids=SYSTEMS,
    growth_share=0.04,
    per_head_share=0.5,
    convergence_share=0.25,
    floor_growth_share=0.01,
    mh_share=0.14,
)


@cache
def solved() -> tuple[Scenario, AllocationResult]:
    scenario = import_streams(YEAR, OPTIONS)
    return scenario, solve_scenario(scenario)


def test_small_national_shape_solves_and_reconciles() -> None:
    scenario, result = solved()
    assert result.feasible, result.status_detail
    assert published_problems(scenario, result) == []
    pots = {f.funder_id: f.amount_pence for f in scenario.funders}
    # Five ICBs' 11,262,713 people (2024/25) at £1,500 and £175 a head, in whole £ millions.
    pop = float(subset(nhse_tables(YEAR), SYSTEMS).systems["pop"].sum())
    assert pots == {
        "NHS": round(pop * 1_500 / 1e6) * 100_000_000,
        "NHS-PMC": round(pop * 175 / 1e6) * 100_000_000,
    }
    # Each stream's money reaches only its own providers and is spent to the penny.
    assert stream_totals(scenario, result) == pots


def test_convergence_binds_on_over_target_systems() -> None:
    scenario, result = solved()
    outcome = convergence_outcomes(scenario, result)
    # The derived baselines put some systems over target and some under: both branches run.
    assert "held" in outcome.values() and "floor" in outcome.values()
    assert set(outcome) == set(SYSTEMS)


def test_mental_health_standard_holds_per_system_on_nhs_money() -> None:
    scenario, result = solved()
    assert len(scenario.minimum_spends) == len(SYSTEMS)
    for rule in scenario.minimum_spends:
        assert rule.funder_ids == ("NHS",) and rule.min_growth_share == 0.04
    margins = mental_health_margins(scenario, result)
    assert set(margins) == set(SYSTEMS)
    assert 0 in margins.values()  # it binds somewhere on the published pence


def test_each_stream_has_its_own_targets() -> None:
    """Scenario targets are the sum of the two streams' targets, to a penny of rounding."""
    scenario, result = solved()
    tables = subset(nhse_tables(YEAR), SYSTEMS)
    pots = {f.funder_id: f.amount_pence for f in scenario.funders}
    core = stream_targets(tables, CORE, pots["NHS"])
    pmc = stream_targets(tables, PMC, pots["NHS-PMC"])
    targets = compute_targets(ScenarioArrays.from_scenario(scenario))
    combined = dict(zip(targets.systems.ids, targets.systems.target_pence, strict=True))
    for system in SYSTEMS:
        assert abs(combined[system] - core.systems[system] - pmc.systems[system]) <= 1
    hood = dict(zip(targets.neighbourhoods.ids, targets.neighbourhoods.target_pence, strict=True))
    pmc_diff = [hood[f"{i}.pmc"] - t for i, t in pmc.neighbourhoods.items()]
    core_diff = [hood[i] - t for i, t in core.neighbourhoods.items()]
    assert max(map(abs, pmc_diff + core_diff)) <= 1
    # Every PMC neighbourhood is lifted to within the fairness stage's largest shortfall.
    lines = {u.unit_id: u for u in result.neighbourhoods}
    distance = np.array([lines[f"{i}.pmc"].distance_from_target for i in pmc.neighbourhoods.index])
    assert distance.min() > -0.05


def test_last_year_baselines_are_derived_as_documented() -> None:
    """Place 00L (Northumberland) by hand: last year's pots shared by the 2023/24 files."""
    scenario, _ = solved()
    last = subset(nhse_tables("2023/24"), SYSTEMS).places.set_index("place_id")
    pots = {f.funder_id: f.amount_pence for f in scenario.funders}
    expected = 0.0
    for column, pot in (("wp", pots["NHS"]), ("pmc_wp", pots["NHS-PMC"])):
        blend = 0.5 * last[column] + 0.5 * last["pop"] * last[column].sum() / last["pop"].sum()
        expected += round(pot / 1.04) * blend["00L"] / blend.sum()
    place = next(p for p in scenario.places if p.place_id == "00L")
    assert place.baseline_pence == pytest.approx(expected, abs=2)


def test_core_only_default_is_the_plain_import() -> None:
    from allocator.synth.nhse import import_nhse

    assert import_streams(YEAR) == import_nhse(YEAR)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (StreamOptions(convergence_share=0.2), "need last year's growth"),
        (StreamOptions(growth_share=0.04, convergence_share=1.5), "fraction from 0 to 1"),
        (StreamOptions(system_ids=("ZZZ",)), "no ICB ZZZ"),
        (StreamOptions(streams=("pmc",)), "streams are"),
        (StreamOptions(gbp_per_head=float("nan")), "positive amount"),
    ],
)
def test_bad_options_are_clear_errors(options: StreamOptions, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        import_streams(YEAR, options)


def test_cli_options_build_the_same_scenario(tmp_path: Path) -> None:
    out = tmp_path / "five.json"
    args = ["import-nhse", YEAR, str(out), "--streams", "both", "--systems", ",".join(SYSTEMS),
            "--growth", "0.04", "--per-head-share", "0.5", "--convergence", "0.25",
            "--floor-growth", "0.01", "--mh-share", "0.14"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    scenario, _ = solved()
    assert Scenario.model_validate_json(out.read_text()) == scenario
