"""Write an allocation result as JSON, CSV or an Excel workbook of tidy tables.

`result_to_frames` gives one table per level (money in pence, with a ``_gbp`` column
beside each ``_pence`` one). ``allocations`` is the one-table view a finance director
opens first: every provider's budget and every place's and neighbourhood's allocation
against its fair-share target, one row each (``level`` says which).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd

from allocator.errors import AllocatorError
from allocator.io.cells import csv_bytes, inert_sheet, write_csv
from models.results import AllocationResult

ResultTable = Literal[
    "summary",
    "allocations",
    "pool",
    "systems",
    "places",
    "neighbourhoods",
    "providers",
    "provider_segments",
    "cells",
    "flows",
    "schemes",
    "value",
    "rules",
    "stages",
]
TABLES: tuple[ResultTable, ...] = get_args(ResultTable)
ALLOCATION_COLUMNS = (
    "level",
    "unit_id",
    "name",
    "parent_id",
    "kind",
    "baseline_pence",
    "amount_pence",
    "change_pence",
    "change_share",
    "target_pence",
    "distance_from_target",
)


class UnknownFormat(AllocatorError):
    code = "unknown-format"
    title = "Unknown output format"


def _allocations(result: AllocationResult) -> pd.DataFrame:
    rows: list[dict[str, Any]] = [
        {
            "level": "provider",
            "unit_id": p.provider_id,
            "name": p.name,
            "parent_id": None,
            "kind": p.kind,
            "baseline_pence": p.baseline_pence,
            "amount_pence": p.budget_pence,
            "change_pence": p.change_pence,
            "change_share": p.change_share,
            "target_pence": None,
            "distance_from_target": None,
        }
        for p in result.providers
    ]
    for unit in (*result.places, *result.neighbourhoods):
        amount = unit.allocation_pence
        baseline = unit.baseline_pence
        change = None if amount is None or baseline is None else amount - baseline
        rows.append(
            {
                "level": unit.level,
                "unit_id": unit.unit_id,
                "name": unit.name,
                "parent_id": unit.parent_id,
                "kind": None,
                "baseline_pence": baseline,
                "amount_pence": amount,
                "change_pence": change,
                "change_share": None if change is None or not baseline else change / baseline,
                "target_pence": unit.target_pence,
                "distance_from_target": unit.distance_from_target,
            }
        )
    return pd.DataFrame(rows, columns=list(ALLOCATION_COLUMNS))


def result_to_frames(result: AllocationResult) -> dict[str, pd.DataFrame]:
    """One tidy table per level of the result (keys in `TABLES` order)."""
    summary = pd.DataFrame(
        [
            ("scenario_id", result.scenario_id),
            ("scenario_hash", result.scenario_hash),
            ("software_version", result.software_version),
            ("status", result.status),
            ("backend", result.backend),
            ("mip_gap", result.mip_gap),
            ("value_total", result.value_total),
            ("total_pence", result.pot.total_pence),
            ("pass_through_pence", result.pot.pass_through_pence),
            ("reserve_pence", result.pot.reserve_pence),
            ("capitated_pence", result.pot.capitated_pence),
            ("solve_s", result.timings.solve_s),
            ("total_s", result.timings.total_s),
        ],
        columns=["field", "value"],
    )
    frames = {
        "summary": summary,
        "allocations": _allocations(result),
        "pool": pd.DataFrame(
            [line.model_dump(exclude={"to_providers_pence"}) for line in result.pool]
        ),
        "systems": pd.DataFrame(
            [u.model_dump(exclude={"by_mechanism_pence"}) for u in result.systems]
        ),
        "places": pd.DataFrame(
            [u.model_dump(exclude={"by_mechanism_pence"}) for u in result.places]
        ),
        "neighbourhoods": pd.DataFrame(
            [u.model_dump(exclude={"by_mechanism_pence"}) for u in result.neighbourhoods]
        ),
        "providers": pd.DataFrame(
            [
                line.model_dump(exclude={"by_segment_pence", "by_place_pence", "by_funder_pence"})
                for line in result.providers
            ]
        ),
        "provider_segments": pd.DataFrame(
            [
                {"provider_id": p.provider_id, "segment_id": s, "budget_pence": v}
                for p in result.providers
                for s, v in p.by_segment_pence.items()
            ]
        ),
        "cells": pd.DataFrame([c.model_dump() for c in result.cells]),
        "flows": pd.DataFrame([f.model_dump() for f in result.flows]),
        "schemes": pd.DataFrame([s.model_dump() for s in result.schemes]),
        "value": pd.DataFrame([v.model_dump() for v in result.value_by]),
        "rules": pd.DataFrame([r.model_dump() for r in result.rules]),
        "stages": pd.DataFrame([s.model_dump() for s in result.stages]),
    }
    for frame in frames.values():
        for column in [c for c in frame.columns if str(c).endswith("_pence")]:
            frame[column.removesuffix("_pence") + "_gbp"] = frame[column] / 100
    return frames


def table_csv(result: AllocationResult, table: str = "providers") -> bytes:
    """One table as UTF-8 CSV bytes."""
    if table not in TABLES:
        raise UnknownFormat(f"no table {table!r}; choose one of {', '.join(TABLES)}")
    return csv_bytes(result_to_frames(result)[table])


def workbook_bytes(result: AllocationResult) -> bytes:
    """Every table as a sheet of one ``.xlsx`` workbook, in memory."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in result_to_frames(result).items():
            frame.to_excel(writer, sheet_name=name, index=False)
            inert_sheet(writer.sheets[name])
    return buffer.getvalue()


def write_result(result: AllocationResult, path: Path) -> None:
    """``.json``: the full result; ``.csv``: the providers table; ``.xlsx``: every table, a sheet each."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(result.model_dump_json(indent=2) + "\n")
    elif suffix == ".csv":
        path.write_bytes(table_csv(result, "providers"))
    elif suffix == ".xlsx":
        path.write_bytes(workbook_bytes(result))
    else:
        raise UnknownFormat(f"cannot write {path.name}: use .json, .csv or .xlsx")


def write_result_tables(result: AllocationResult, folder: Path) -> list[Path]:
    """Every table as its own CSV file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in result_to_frames(result).items():
        target = folder / f"{name}.csv"
        write_csv(frame, target)
        written.append(target)
    return written
