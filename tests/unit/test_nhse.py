"""Import of NHS England's GP-practice weighted populations (the copy in data/reference/)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocator.domain.arrays import ScenarioArrays
from allocator.domain.targets import Targets, compute_targets
from allocator.synth.nhse import REFERENCE_DIR, YEARS, import_nhse, parse_year
from models import Scenario

ROOT = Path(__file__).resolve().parents[2]


@cache
def imported(year: str) -> tuple[Scenario, ScenarioArrays, Targets]:
    scenario = import_nhse(year)
    arrays = ScenarioArrays.from_scenario(scenario)
    return scenario, arrays, compute_targets(arrays)


@cache
def published(year: str) -> pd.DataFrame:
    """The CSV read independently of the importer."""
    frame = pd.read_csv(REFERENCE_DIR / YEARS[year], dtype=str, keep_default_na=False)
    frame["pop"] = frame["pop 2022/23"].astype(float)
    frame["wp"] = frame["Final WP"].astype(float)
    frame["place"] = np.where(frame["LOC22"] != "", frame["LOC22"], frame["CCG21"])
    return frame


def test_reads_the_copy_in_the_repository() -> None:
    assert REFERENCE_DIR == ROOT / "data" / "reference" / "nhse-gp-practice-weighted-populations"
    for name in YEARS.values():
        assert (REFERENCE_DIR / name).stat().st_size > 1_000_000
    assert (REFERENCE_DIR / "LICENCE.md").exists()


@pytest.mark.parametrize(
    ("text", "year"),
    [("2022", "2022/23"), ("2022/23", "2022/23"), ("2023-24", "2023/24"), ("2024_25", "2024/25"),
     ("24/25", "2024/25"), (" 2023/2024 ", "2023/24")],
)  # fmt: skip
def test_parse_year(text: str, year: str) -> None:
    assert parse_year(text) == year


@pytest.mark.parametrize("text", ["2021", "2022/24", "next year", "2025/26"])
def test_parse_year_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"year|file"):
        parse_year(text)


@pytest.mark.parametrize("year", list(YEARS))
def test_levels_and_exact_targets(year: str) -> None:
    scenario, arrays, targets = imported(year)
    assert len(scenario.systems) == 42
    assert len(scenario.places) == 106
    frame = published(year)
    assert arrays.headcount.sum() == pytest.approx(frame["pop"].sum(), rel=1e-12)
    pot = scenario.funders[0].amount_pence
    for level in (targets.systems, targets.places, targets.neighbourhoods):
        assert abs(level.target_share.sum() - 1.0) < 1e-12
        assert int(level.target_pence.sum()) == pot
    # Each level sums exactly to its parent.
    place_sum = np.bincount(arrays.neighbourhood_place, weights=targets.neighbourhoods.target_pence)
    assert np.array_equal(place_sum.astype(np.int64), targets.places.target_pence)
    system_sum = np.bincount(arrays.place_system, weights=targets.places.target_pence)
    assert np.array_equal(system_sum.astype(np.int64), targets.systems.target_pence)


@pytest.mark.parametrize("year", list(YEARS))
def test_weighted_populations_are_the_published_ones(year: str) -> None:
    _, arrays, targets = imported(year)
    frame = published(year)
    by_system = frame.groupby("ICS22")[["pop", "wp"]].sum()
    np.testing.assert_allclose(arrays.system_wp, by_system.loc[arrays.system_ids, "wp"], rtol=1e-12)
    by_place = frame.groupby("place")[["pop", "wp"]].sum()
    np.testing.assert_allclose(arrays.place_wp, by_place.loc[arrays.place_ids, "wp"], rtol=1e-12)
    # Need index = (Σ Final WP ÷ Σ pop) of the unit ÷ the same ratio for England (≈ 1).
    england = frame["wp"].sum() / frame["pop"].sum()
    assert england == pytest.approx(1.0, abs=1e-9)
    system_index = dict(zip(targets.systems.ids, targets.systems.need_index, strict=True))
    place_index = dict(zip(targets.places.ids, targets.places.need_index, strict=True))
    for icb in ("QE1", "QHM", "QMJ"):  # Lancashire & S Cumbria, NE & N Cumbria, N Central London
        rows = frame[frame["ICS22"] == icb]
        assert system_index[icb] == pytest.approx(
            rows["wp"].sum() / rows["pop"].sum() / england, rel=1e-12
        )
    for place in ("16C", "00L", "15E"):  # Tees Valley, Northumberland, Birmingham and Solihull
        rows = frame[frame["place"] == place]
        assert place_index[place] == pytest.approx(
            rows["wp"].sum() / rows["pop"].sum() / england, rel=1e-12
        )


def test_hand_checked_need_indices_2022_23() -> None:
    """Rounded values read off the published CSV (Σ Final WP ÷ Σ pop)."""
    _, _, targets = imported("2022/23")
    systems = dict(zip(targets.systems.ids, targets.systems.need_index, strict=True))
    places = dict(zip(targets.places.ids, targets.places.need_index, strict=True))
    assert round(systems["QE1"], 4) == 1.1090
    assert round(systems["QHM"], 4) == 1.1182
    assert round(systems["QMJ"], 4) == 0.9555
    assert round(places["16C"], 4) == 1.1496


def test_straddling_pcns_split_by_place_2022_23() -> None:
    scenario, arrays, _ = imported("2022/23")
    frame = published("2022/23")
    pairs = frame.assign(pcn=frame["PCN_Code"].replace({"U": "unassigned"}))[["pcn", "LOC22"]]
    assert len(scenario.neighbourhoods) == len(pairs.drop_duplicates()) == 1305
    straddling = pairs.drop_duplicates().groupby("pcn")["LOC22"].nunique()
    straddling = straddling[(straddling > 1) & (straddling.index != "unassigned")]
    assert len(straddling) > 0
    ids = {n.neighbourhood_id for n in scenario.neighbourhoods}
    for pcn in straddling.index:
        places = frame.loc[frame["PCN_Code"] == pcn, "LOC22"].unique()
        assert {f"{pcn}.{p}" for p in places} <= ids
    # A neighbourhood's weighted population is its practices' published Final WP.
    wp = dict(zip(arrays.neighbourhood_ids, arrays.neighbourhood_wp, strict=True))
    pcn, place = (
        straddling.index[0],
        frame.loc[frame["PCN_Code"] == straddling.index[0], "LOC22"].iloc[0],
    )
    rows = frame[(frame["PCN_Code"] == pcn) & (frame["LOC22"] == place)]
    assert wp[f"{pcn}.{place}"] == pytest.approx(rows["wp"].sum(), rel=1e-12)


def test_practices_without_a_pcn_2022_23() -> None:
    scenario, arrays, _ = imported("2022/23")
    frame = published("2022/23")
    no_pcn = frame[frame["PCN_Code"].isin(["", "U"])]
    assert len(no_pcn) == 75
    heads = dict(zip(arrays.neighbourhood_ids, arrays.headcount.sum(axis=1), strict=True))
    for place, rows in no_pcn.groupby("LOC22"):
        assert heads[f"unassigned.{place}"] == pytest.approx(rows["pop"].sum(), rel=1e-12)
    unassigned = [
        n for n in scenario.neighbourhoods if n.neighbourhood_id.startswith("unassigned.")
    ]
    assert len(unassigned) == no_pcn["LOC22"].nunique()


@pytest.mark.parametrize("year", ["2023/24", "2024/25"])
def test_later_years_take_2022_23_pcns(year: str) -> None:
    scenario, arrays, _ = imported(year)
    frame = published(year)
    assert (frame["LOC22"] == "").all()
    assert (frame["PCN_Code"] == "").all()
    base = published("2022/23").set_index("Practice_Code")["PCN_Code"]
    pcn = frame["Practice_Code"].map(base).fillna("U").replace({"": "U", "U": "unassigned"})
    pairs = pd.DataFrame({"pcn": pcn, "place": frame["CCG21"]}).drop_duplicates()
    assert len(scenario.neighbourhoods) == len(pairs)
    new_practices = frame[~frame["Practice_Code"].isin(base.index)]
    assert len(new_practices) > 0
    heads = dict(zip(arrays.neighbourhood_ids, arrays.headcount.sum(axis=1), strict=True))
    unassigned = frame[pcn == "unassigned"]
    for place, rows in unassigned.groupby("CCG21"):
        assert heads[f"unassigned.{place}"] == pytest.approx(rows["pop"].sum(), rel=1e-12)
    assert set(new_practices["CCG21"]) <= set(unassigned["CCG21"])


def test_import_is_illustrative() -> None:
    scenario = import_nhse("2024/25")
    assert "ILLUSTRATIVE" in scenario.description
    assert all(p.kind.value == "other" for p in scenario.providers)
    assert len(scenario.providers) == 42
