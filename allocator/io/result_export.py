"""Write an allocation result as JSON, CSV tables, the board pack (xlsx) or report (pdf).

`result_to_frames` gives one tidy table per level for CSV (money in pence, with a ``_gbp``
column beside each ``_pence`` one); the workbook is the board pack (`board_pack`). ``allocations`` is the one-table view a finance director
opens first: every provider's budget and every place's and neighbourhood's allocation
against its fair-share target, one row each (``level`` says which).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd

from allocator.errors import UnknownFormat
from allocator.io.cells import csv_bytes, write_csv
from models import Scenario
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


def _rules_frame(result: AllocationResult) -> pd.DataFrame:
    """Every rule line, with what relaxing it is worth in words (QALYs and £ per £1m)."""
    from allocator.explain.finance import rate_of, rule_words

    rate = rate_of(None, result)
    frame = pd.DataFrame([r.model_dump() for r in result.rules])
    if not frame.empty:
        frame["in_words"] = [rule_words(r, rate) for r in result.rules]
    return frame


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
        "rules": _rules_frame(result),
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


def workbook_bytes(result: AllocationResult, scenario: Scenario | None = None) -> bytes:
    """The result workbook, in memory: the board pack (`board_pack`). The scenario, when
    given, supplies the reference rate that prices the shadow prices in £."""
    from allocator.io.board_pack import board_pack_bytes

    return board_pack_bytes(result, scenario)


def write_result(result: AllocationResult, path: Path, scenario: Scenario | None = None) -> None:
    """``.json``: the full result; ``.csv``: the providers table; ``.xlsx``: the board pack;
    ``.pdf``: the board report."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(result.model_dump_json(indent=2) + "\n")
    elif suffix == ".csv":
        path.write_bytes(table_csv(result, "providers"))
    elif suffix == ".xlsx":
        path.write_bytes(workbook_bytes(result, scenario))
    elif suffix == ".pdf":
        from allocator.report.board import board_report_bytes

        path.write_bytes(board_report_bytes(result, scenario))
    else:
        raise UnknownFormat(f"cannot write {path.name}: use .json, .csv, .xlsx or .pdf")


def write_result_tables(result: AllocationResult, folder: Path) -> list[Path]:
    """Every table as its own CSV file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in result_to_frames(result).items():
        target = folder / f"{name}.csv"
        write_csv(frame, target)
        written.append(target)
    return written
