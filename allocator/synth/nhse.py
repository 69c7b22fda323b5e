"""Import NHS England's published GP-practice weighted populations as a national scenario.

The files (``data/reference/nhse-gp-practice-weighted-populations/``, Open Government
Licence v3.0) give, for every GP practice in England, its ICB, sub-ICB location, PCN
(2022/23 only), the formula's projected population (``pop 2022/23``, despite the header)
and its weighted population for ICB core services (``Final WP``).

The import builds the *population side* of a national scenario:

- systems = ICBs (``ICS22``); places = sub-ICB locations (``LOC22``; blank in 2023/24
  and 2024/25, whose ``CCG21`` column carries the same sub-ICB codes, so it is used
  instead); neighbourhoods = PCNs (``PCN_Code``) keyed by PCN × place, so a PCN whose
  practices sit in two places (or ICBs) becomes two neighbourhoods (``U12345.16C``).
- Practices without a PCN (code ``U``, "Unallocated", or blank) form one neighbourhood
  ``unassigned.<place>`` per place. 2023/24 and 2024/25 publish no PCN codes: practices
  take their 2022/23 PCN by practice code where the practice exists then, else
  ``unassigned``.
- One segment ``all`` (cost weight 1) whose headcount is ``pop``, and one local
  adjustment per neighbourhood, ``Σ Final WP ÷ Σ pop``, so the scenario's weighted
  population of each neighbourhood equals the published ``Final WP`` (up to float).

Money is illustrative: one NHS funder of ``gbp_per_head`` × population and one
placeholder provider (kind ``other``) per ICB serving its places. It is for fair-share
targets, not an allocation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models import (
    Funder,
    FunderKind,
    LocalAdjustment,
    Neighbourhood,
    Place,
    Population,
    Provider,
    ProviderKind,
    Scenario,
    Segment,
    System,
)

REFERENCE_DIR = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "reference"
    / "nhse-gp-practice-weighted-populations"
)
YEARS: dict[str, str] = {
    "2022/23": "gp_practice_weighted_populations_2022_23.csv",
    "2023/24": "gp_practice_weighted_populations_2023_24.csv",
    "2024/25": "gp_practice_weighted_populations_2024_25.csv",
}
PCN_YEAR = "2022/23"  # the only year that publishes PCN codes
NO_PCN = frozenset({"", "U"})  # "U" is published as "Unallocated"
UNASSIGNED = "unassigned"
DEFAULT_GBP_PER_HEAD = 1_500.0  # illustrative pot: about the order of ICB core allocations
POP, WP, PMC_WP = "pop 2022/23", "Final WP", "Final PMC WP"
_CODES = [
    "Practice_Code",
    "CCG21",
    "Former CCG",
    "PCN_Code",
    "PCN_Name",
    "LOC22",
    "LOC22name",
    "ICS22",
    "ICS22name",
]


def parse_year(text: str) -> str:
    """'2022', '2022/23', '2022-23', '2022_23' or '22/23' -> '2022/23' (one of `YEARS`)."""
    match = re.fullmatch(r"\s*(?:20)?(\d{2})(?:\s*[/_-]\s*(?:20)?(\d{2}))?\s*", text)
    if match is None:
        raise ValueError(f"not a financial year: {text!r} (try 2022/23)")
    start = int(match.group(1))
    if match.group(2) is not None and int(match.group(2)) != (start + 1) % 100:
        raise ValueError(f"not a financial year: {text!r} (the second year must follow the first)")
    year = f"20{start:02d}/{(start + 1) % 100:02d}"
    if year not in YEARS:
        raise ValueError(f"no published file for {year}; available: {', '.join(YEARS)}")
    return year


def read_year(year: str, directory: Path | None = None) -> pd.DataFrame:
    """The published practice rows of one year (codes as strings, blanks as '')."""
    path = (directory or REFERENCE_DIR) / YEARS[parse_year(year)]
    frame = pd.read_csv(
        path,
        usecols=[*_CODES, POP, WP, PMC_WP],
        dtype=dict.fromkeys(_CODES, str) | dict.fromkeys((POP, WP, PMC_WP), np.float64),
        keep_default_na=False,
    )
    for column in _CODES:
        frame[column] = frame[column].str.strip()
    return frame


def practice_table(year: str, directory: Path | None = None) -> pd.DataFrame:
    """Practices with their system, place and neighbourhood keys, population and weighted population.

    Columns: practice, system_id, system_name, place_id, place_name, pcn, pcn_name,
    neighbourhood_id, pop, wp (core services), pmc_wp (primary medical care).
    """
    year = parse_year(year)
    rows = read_year(year, directory)
    base = rows if year == PCN_YEAR else read_year(PCN_YEAR, directory)
    place = np.where(rows["LOC22"] != "", rows["LOC22"], rows["CCG21"])
    place_names = dict(zip(base["LOC22"], base["LOC22name"], strict=True))
    own_names = np.where(rows["LOC22name"] != "", rows["LOC22name"], rows["Former CCG"])
    if year == PCN_YEAR:
        pcn, pcn_name = rows["PCN_Code"], rows["PCN_Name"]
    else:
        by_practice = base.set_index("Practice_Code")
        pcn = rows["Practice_Code"].map(by_practice["PCN_Code"]).fillna("")
        pcn_name = rows["Practice_Code"].map(by_practice["PCN_Name"]).fillna("")
    pcn = pd.Series(np.asarray(pcn, dtype=object), index=rows.index)
    unassigned = pcn.isin(NO_PCN).to_numpy()
    pcn = pcn.where(~unassigned, UNASSIGNED)
    out = pd.DataFrame(
        {
            "practice": rows["Practice_Code"],
            "system_id": rows["ICS22"],
            "system_name": rows["ICS22name"],
            "place_id": place,
            "place_name": [place_names.get(p) or n for p, n in zip(place, own_names, strict=True)],
            "pcn": pcn,
            "pcn_name": np.where(unassigned, "Practices not in a PCN", np.asarray(pcn_name)),
            "pop": rows[POP],
            "wp": rows[WP],
            "pmc_wp": rows[PMC_WP],
        }
    )
    out["neighbourhood_id"] = out["pcn"].astype(str) + "." + out["place_id"].astype(str)
    return out


@dataclass(frozen=True)
class NhseTables:
    """The three levels of the import, one row per unit, in a stable order."""

    year: str
    systems: pd.DataFrame  # system_id, system_name, pop, wp, pmc_wp
    places: pd.DataFrame  # place_id, place_name, system_id, pop, wp, pmc_wp
    neighbourhoods: (
        pd.DataFrame
    )  # neighbourhood_id, pcn, pcn_name, place_id, pop, wp, pmc_wp, practices


def nhse_tables(year: str, directory: Path | None = None) -> NhseTables:
    practices = practice_table(year, directory)
    # A place lies in one ICB in every published year; take the first if that ever changes.
    places = (
        practices.groupby("place_id", sort=True)
        .agg(
            place_name=("place_name", "first"),
            system_id=("system_id", "first"),
            pop=("pop", "sum"),
            wp=("wp", "sum"),
            pmc_wp=("pmc_wp", "sum"),
        )
        .reset_index()
    )
    system_names = practices.groupby("system_id")["system_name"].first()
    systems = places.groupby("system_id", sort=True)[["pop", "wp", "pmc_wp"]].sum().reset_index()
    systems.insert(1, "system_name", systems["system_id"].map(system_names))
    practices["place_id"] = practices["place_id"].astype(str)
    neighbourhoods = (
        practices.groupby("neighbourhood_id", sort=True)
        .agg(
            pcn=("pcn", "first"),
            pcn_name=("pcn_name", "first"),
            place_id=("place_id", "first"),
            pop=("pop", "sum"),
            wp=("wp", "sum"),
            pmc_wp=("pmc_wp", "sum"),
            practices=("practice", "count"),
        )
        .reset_index()
    )
    return NhseTables(parse_year(year), systems, places, neighbourhoods)


def import_nhse(
    year: str,
    directory: Path | None = None,
    *,
    gbp_per_head: float = DEFAULT_GBP_PER_HEAD,
) -> Scenario:
    """The population side of a national scenario for one published year (see module doc)."""
    tables = nhse_tables(year, directory)
    total_pop = float(tables.systems["pop"].sum())
    pot_pence = round(total_pop * gbp_per_head / 1_000_000) * 100_000_000  # whole £ millions
    system_share = tables.systems["wp"] / tables.systems["wp"].sum()
    hoods = tables.neighbourhoods
    factor = np.where(hoods["pop"] > 0, hoods["wp"] / hoods["pop"].where(hoods["pop"] > 0, 1), 1)
    places_of = tables.places.groupby("system_id")["place_id"].apply(tuple)
    slug = tables.year.replace("/", "-")
    return Scenario(
        scenario_id=f"nhse-{slug}",
        name=f"England {tables.year}: NHS England GP-practice weighted populations",
        financial_year=tables.year,
        description=(
            f"Population side of a national scenario for {tables.year}: 42 ICBs as systems, "
            "sub-ICB locations as places, PCNs (keyed PCN.place; practices without a PCN as "
            "'unassigned.<place>') as neighbourhoods; one segment 'all' with the formula's "
            "projected population and a local adjustment Final WP / pop, so weighted populations "
            "equal NHS England's published core-services weighted populations. Contains public "
            "sector information licensed under the Open Government Licence v3.0 (NHS England). "
            f"The pot (£{gbp_per_head:,.0f} per head) and the one placeholder provider per ICB are "
            "ILLUSTRATIVE: use this scenario for fair-share targets, not as an allocation."
        ),
        systems=tuple(
            System(system_id=s, name=n)
            for s, n in zip(tables.systems["system_id"], tables.systems["system_name"], strict=True)
        ),
        places=tuple(
            Place(place_id=p, system_id=s, name=n)
            for p, s, n in zip(
                tables.places["place_id"],
                tables.places["system_id"],
                tables.places["place_name"],
                strict=True,
            )
        ),
        neighbourhoods=tuple(
            Neighbourhood(neighbourhood_id=i, place_id=p, name=n)
            for i, p, n in zip(
                hoods["neighbourhood_id"], hoods["place_id"], hoods["pcn_name"], strict=True
            )
        ),
        segments=(Segment(segment_id="all", name="Whole registered population", cost_weight=1.0),),
        populations=tuple(
            Population(neighbourhood_id=i, segment_id="all", headcount=float(h))
            for i, h in zip(hoods["neighbourhood_id"], hoods["pop"], strict=True)
        ),
        local_adjustments=tuple(
            LocalAdjustment(
                neighbourhood_id=i, factor=float(f), reason="need index (Final WP / pop)"
            )
            for i, f in zip(hoods["neighbourhood_id"], factor, strict=True)
        ),
        funders=(
            Funder(
                funder_id="NHS",
                name=f"Illustrative NHS allocation (£{gbp_per_head:,.0f} per head)",
                kind=FunderKind.NHS_ALLOCATION,
                amount_pence=pot_pence,
            ),
        ),
        providers=tuple(
            Provider(
                provider_id=f"{s}-placeholder",
                name="Placeholder: all services of the ICB",
                kind=ProviderKind.OTHER,
                place_ids=places_of[s],
                segment_ids=("all",),
                baseline_pence=round(pot_pence * float(share)),
            )
            for s, share in zip(tables.systems["system_id"], system_share, strict=True)
        ),
    )
