"""The two national capitated streams of NHS England's published weighted populations.

NHS England allocates ICB **core services** by the ``Final WP`` column and **primary
medical care** by the ``Final PMC WP`` column of the same practice file: two pots, each
with its own weighted population per practice and so its own fair-share targets. This
module gives, per stream and level (systems, places, neighbourhoods), the published
population and weighted population, the stream's targets in exact pence (apportioned top
down by largest remainder, as `allocator.domain.targets` does for a scenario) and need
indices relative to England or to the unit's parent system.

Need index of a unit = (its Σ weighted population ÷ its Σ population) ÷ the same ratio
of the reference: England (every practice of the published file), or for places and
neighbourhoods their system (a system's parent is England). The published columns are
normalised so that England's ratio is 1 (to about 1e-11), so the England view is
``wp ÷ pop`` itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocator.domain.rounding import largest_remainder, largest_remainder_by_group
from allocator.synth.nhse import NhseTables

CORE, PMC = "core", "pmc"
STREAM_COLUMN = {CORE: "wp", PMC: "pmc_wp"}  # the published columns: Final WP, Final PMC WP
STREAM_NAME = {CORE: "ICB core services", PMC: "Primary medical care"}
LEVELS = ("system", "place", "neighbourhood")


@enum.unique
class RelativeTo(enum.StrEnum):
    """The reference of a need index."""

    ENGLAND = "england"
    PARENT = "parent"  # the unit's system (England for a system)


def subset(tables: NhseTables, system_ids: tuple[str, ...]) -> NhseTables:
    """Only the given systems (all when empty); unknown codes are a ValueError."""
    if not system_ids:
        return tables
    unknown = sorted(set(system_ids) - set(tables.systems["system_id"]))
    if unknown:
        raise ValueError(
            f"no ICB {', '.join(unknown)} in {tables.year}; codes are like "
            f"{', '.join(tables.systems['system_id'].head(3))}"
        )
    systems = tables.systems[tables.systems["system_id"].isin(system_ids)]
    places = tables.places[tables.places["system_id"].isin(system_ids)]
    hoods = tables.neighbourhoods[tables.neighbourhoods["place_id"].isin(places["place_id"])]
    return NhseTables(
        tables.year,
        systems.reset_index(drop=True),
        places.reset_index(drop=True),
        hoods.reset_index(drop=True),
    )


def level_frame(tables: NhseTables, level: str) -> pd.DataFrame:
    """One level's rows with id, name, system_id, pop and both streams' weighted populations."""
    if level == "system":
        frame = tables.systems.rename(columns={"system_id": "id", "system_name": "name"})
        frame["system_id"] = frame["id"]
    elif level == "place":
        frame = tables.places.rename(columns={"place_id": "id", "place_name": "name"})
    else:
        system_of = dict(zip(tables.places["place_id"], tables.places["system_id"], strict=True))
        frame = tables.neighbourhoods.rename(columns={"neighbourhood_id": "id", "pcn_name": "name"})
        frame["system_id"] = frame["place_id"].map(system_of)
    return frame[["id", "name", "system_id", "pop", "wp", "pmc_wp"]].reset_index(drop=True)


def need_index(
    tables: NhseTables,
    level: str,
    stream: str = CORE,
    relative_to: RelativeTo = RelativeTo.ENGLAND,
    england: NhseTables | None = None,
) -> pd.Series:
    """Need index per unit of ``level`` (indexed by unit id; NaN where a unit has no people).

    ``england`` is the whole published year when ``tables`` is a subset of it (England
    stays the reference of a subset).
    """
    column = STREAM_COLUMN[stream]
    frame = level_frame(tables, level)
    whole = (england or tables).systems
    england_ratio = float(whole[column].sum() / whole["pop"].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(frame["pop"] > 0, frame[column] / frame["pop"], np.nan)
    if relative_to is RelativeTo.ENGLAND or level == "system":
        reference = np.full(len(frame), england_ratio)
    else:
        systems = tables.systems.set_index("system_id")
        reference = (systems[column] / systems["pop"]).loc[frame["system_id"]].to_numpy()
    return pd.Series(ratio / reference, index=frame["id"].to_numpy(), name=f"{stream} need index")


@dataclass(frozen=True)
class StreamTargets:
    """One stream's targets in pence at each level; every level sums to the pot exactly."""

    stream: str
    pot_pence: int
    systems: pd.Series  # by system id
    places: pd.Series  # by place id
    neighbourhoods: pd.Series  # by core neighbourhood id (PCN.place)


def stream_targets(tables: NhseTables, stream: str, pot_pence: int) -> StreamTargets:
    """pot × the unit's share of the stream's weighted population, top down by largest remainder."""
    column = STREAM_COLUMN[stream]
    systems, places, hoods = tables.systems, tables.places, tables.neighbourhoods
    system_at = {s: k for k, s in enumerate(systems["system_id"])}
    place_at = {p: k for k, p in enumerate(places["place_id"])}
    system_pence = largest_remainder(pot_pence, systems[column].to_numpy(np.float64))
    place_pence = largest_remainder_by_group(
        system_pence,
        np.array([system_at[s] for s in places["system_id"]], dtype=np.int64),
        places[column].to_numpy(np.float64),
    )
    hood_pence = largest_remainder_by_group(
        place_pence,
        np.array([place_at[p] for p in hoods["place_id"]], dtype=np.int64),
        hoods[column].to_numpy(np.float64),
    )
    return StreamTargets(
        stream,
        pot_pence,
        pd.Series(system_pence, index=systems["system_id"].to_numpy()),
        pd.Series(place_pence, index=places["place_id"].to_numpy()),
        pd.Series(hood_pence, index=hoods["neighbourhood_id"].to_numpy()),
    )


def need_index_table(
    tables: NhseTables,
    streams: tuple[str, ...],
    relative_to: RelativeTo,
    england: NhseTables | None = None,
) -> pd.DataFrame:
    """Every unit of every level with its population, weighted populations and need indices."""
    parts = []
    for level in LEVELS:
        frame = level_frame(tables, level)
        out = frame[["id", "name", "system_id", "pop"]].copy()
        out.insert(0, "level", level)
        for stream in streams:
            out[f"{stream}_wp"] = frame[STREAM_COLUMN[stream]]
            index = need_index(tables, level, stream, relative_to, england)
            out[f"{stream}_need_index"] = index.to_numpy()
        parts.append(out)
    table = pd.concat(parts, ignore_index=True)
    table.insert(len(table.columns), "relative_to", relative_to.value)
    return table
