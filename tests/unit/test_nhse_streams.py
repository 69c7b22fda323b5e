"""The two national streams of the published file and their need indices, checked by hand."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from allocator.synth.nhse import REFERENCE_DIR, YEARS, NhseTables, nhse_tables
from allocator.synth.nhse_streams import (
    CORE,
    PMC,
    RelativeTo,
    need_index,
    need_index_table,
    stream_targets,
    subset,
)
from allocator.validate import blocking, validate_scenario
from cli.app import app
from models import Scenario


@cache
def tables(year: str) -> NhseTables:
    return nhse_tables(year)


@cache
def published(year: str) -> pd.DataFrame:
    """The CSV read independently of the importer."""
    frame = pd.read_csv(REFERENCE_DIR / YEARS[year], dtype=str, keep_default_na=False)
    for column in ("pop 2022/23", "Final WP", "Final PMC WP"):
        frame[column] = frame[column].astype(float)
    frame["place"] = np.where(frame["LOC22"] != "", frame["LOC22"], frame["CCG21"])
    return frame


@pytest.mark.parametrize("year", list(YEARS))
@pytest.mark.parametrize(("stream", "column"), [(CORE, "Final WP"), (PMC, "Final PMC WP")])
def test_streams_reconcile_to_the_published_columns(year: str, stream: str, column: str) -> None:
    t, frame = tables(year), published(year)
    key = "wp" if stream == CORE else "pmc_wp"
    by_system = frame.groupby("ICS22")[column].sum()
    np.testing.assert_allclose(
        t.systems[key], by_system.loc[t.systems["system_id"]], rtol=1e-12, atol=0
    )
    by_place = frame.groupby("place")[column].sum()
    np.testing.assert_allclose(t.places[key], by_place.loc[t.places["place_id"]], rtol=1e-12)
    assert t.neighbourhoods[key].sum() == pytest.approx(frame[column].sum(), rel=1e-12)
    pot = 10_877_700_000_000 if stream == PMC else 93_232_000_000_000
    targets = stream_targets(t, stream, pot)
    # Exact pence at every level, each level summing to its parent.
    assert int(targets.systems.sum()) == int(targets.places.sum()) == pot
    assert int(targets.neighbourhoods.sum()) == pot
    place_sums = targets.places.groupby(t.places.set_index("place_id")["system_id"]).sum()
    assert (place_sums.loc[targets.systems.index] == targets.systems).all()
    share = t.systems[key] / t.systems[key].sum()
    assert np.abs(targets.systems.to_numpy() - pot * share.to_numpy()).max() < 1.0


# Read off the published 2022/23 CSV: Σ column ÷ Σ pop of the unit, over the same ratio of
# England (core 1.000000000004, PMC 0.999999997) or of the unit's ICB.
HAND_2022_23 = [
    # level, id, stream, relative to England, relative to the parent system
    ("system", "QE1", CORE, 1.1090, 1.1090),  # Lancashire and South Cumbria
    ("system", "QE1", PMC, 1.0557, 1.0557),
    ("system", "QHM", CORE, 1.1182, 1.1182),  # North East and North Cumbria
    ("system", "QHM", PMC, 1.0681, 1.0681),
    ("system", "QMJ", CORE, 0.9555, 0.9555),  # North Central London
    ("system", "QMJ", PMC, 0.9808, 0.9808),
    ("place", "16C", CORE, 1.1496, 1.0281),  # Tees Valley, in QHM
    ("place", "16C", PMC, 1.1173, 1.0461),
    ("place", "00L", CORE, 1.1341, 1.0142),  # Northumberland, in QHM
    ("place", "00L", PMC, 1.0537, 0.9866),
    ("neighbourhood", "U89141.16C", CORE, 1.1114, 0.9939),  # Stockton PCN, 7 practices
    ("neighbourhood", "U89141.16C", PMC, 1.1142, 1.0432),
    ("neighbourhood", "U07032.16C", CORE, 1.2270, 1.0973),  # North Stockton PCN
    ("neighbourhood", "U07032.16C", PMC, 1.1802, 1.1050),
]


@pytest.mark.parametrize(("level", "unit", "stream", "england", "parent"), HAND_2022_23)
def test_hand_checked_need_indices(
    level: str, unit: str, stream: str, england: float, parent: float
) -> None:
    t = tables("2022/23")
    assert round(need_index(t, level, stream, RelativeTo.ENGLAND)[unit], 4) == england
    assert round(need_index(t, level, stream, RelativeTo.PARENT)[unit], 4) == parent


def test_stockton_pcn_by_hand() -> None:
    """The docs' worked example: 53,236.2 people, Final WP 59,166.3, Final PMC WP 59,317.5."""
    frame = published("2022/23")
    rows = frame[frame["PCN_Code"] == "U89141"]
    assert len(rows) == 7
    pop, core, pmc = (rows[c].sum() for c in ("pop 2022/23", "Final WP", "Final PMC WP"))
    assert (round(pop, 1), round(core, 1), round(pmc, 1)) == (53_236.2, 59_166.3, 59_317.5)
    icb = frame[frame["ICS22"] == "QHM"]
    icb_core = icb["Final WP"].sum() / icb["pop 2022/23"].sum()
    index = need_index(tables("2022/23"), "neighbourhood", CORE, RelativeTo.PARENT)
    assert index["U89141.16C"] == pytest.approx(core / pop / icb_core, rel=1e-12)


def test_a_subset_keeps_england_as_reference() -> None:
    whole = tables("2024/25")
    part = subset(whole, ("QMJ", "QE1"))
    for relative_to in RelativeTo:
        full = need_index(whole, "place", PMC, relative_to)
        cut = need_index(part, "place", PMC, relative_to, england=whole)
        pd.testing.assert_series_equal(cut, full.loc[cut.index])
    assert set(part.places["system_id"]) == {"QMJ", "QE1"}
    table = need_index_table(part, (CORE, PMC), RelativeTo.ENGLAND, whole)
    assert list(table["level"].unique()) == ["system", "place", "neighbourhood"]
    assert len(table) == 2 + len(part.places) + len(part.neighbourhoods)


def test_cli_both_streams_with_parent_need_indices(tmp_path: Path) -> None:
    out, indices = tmp_path / "nclondon.json", tmp_path / "need.csv"
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["import-nhse", "2022/23", str(out), "--streams", "both", "--systems", "qmj,QHM",
         "--need-index", "parent", "--need-index-csv", str(indices)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "relative to parent" in result.output
    scenario = Scenario.model_validate_json(out.read_text())
    assert [f.funder_id for f in scenario.funders] == ["NHS", "NHS-PMC"]
    assert {s.segment_id for s in scenario.segments} == {"all", "pmc"}
    assert blocking(validate_scenario(scenario)) == []
    with indices.open() as handle:
        rows = {(r["level"], r["id"]): r for r in csv.DictReader(handle)}
    stockton = rows[("neighbourhood", "U89141.16C")]
    assert (stockton["relative_to"], stockton["system_id"]) == ("parent", "QHM")
    assert float(stockton["core_need_index"]) == pytest.approx(0.9939, abs=5e-5)
    assert float(stockton["pmc_need_index"]) == pytest.approx(1.0432, abs=5e-5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--need-index", "region"], "england or parent"),
        (["--streams", "pmc"], "core or both"),
        (["--mh-share", "0.14"], "need last year's growth"),
    ],
)
def test_cli_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["import-nhse", "2024/25", str(tmp_path / "x.json"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "x.json").exists()


def test_targets_parent_view_matches_the_import() -> None:
    """`allocator targets --need-index parent` on an imported scenario: the same indices."""
    from allocator.domain.arrays import ScenarioArrays
    from allocator.domain.need_index import parent_need_index
    from allocator.domain.targets import compute_targets
    from allocator.synth.nhse_national import StreamOptions, import_streams

    scenario = import_streams("2022/23", StreamOptions(system_ids=("QHM", "QMJ")))
    arrays = ScenarioArrays.from_scenario(scenario)
    computed = compute_targets(arrays)
    part = subset(tables("2022/23"), ("QHM", "QMJ"))
    for level, ids in (("place", arrays.place_ids), ("neighbourhood", arrays.neighbourhood_ids)):
        got = parent_need_index(arrays, computed, level)
        expected = need_index(part, level, CORE, RelativeTo.PARENT).loc[ids].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    # A system's parent is the whole scenario.
    np.testing.assert_allclose(
        parent_need_index(arrays, computed, "system"), computed.systems.need_index
    )


def test_targets_command_prints_the_parent_view(tmp_path: Path) -> None:
    out = tmp_path / "qhm.json"
    runner = CliRunner()
    assert (
        runner.invoke(app, ["import-nhse", "2022/23", str(out), "--systems", "QHM"]).exit_code == 0
    )
    args = ["targets", str(out), "--level", "neighbourhood", "--need-index", "parent"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "relative to the unit's system" in result.output
    stockton = next(line for line in result.output.splitlines() if "U89141.16C" in line)
    assert "0.9939" in stockton
    # `targets` knows only the scenario: its "england" is the whole scenario, here QHM alone,
    # so it equals the parent view (the import's CSV keeps England as the reference: 1.1114).
    whole = runner.invoke(app, ["targets", str(out), "--level", "neighbourhood"]).output
    assert "relative to the whole scenario" in whole
    assert "0.9939" in next(line for line in whole.splitlines() if "U89141.16C" in line)
