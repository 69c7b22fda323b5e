"""Write an allocation result as JSON, CSV or an Excel workbook of tidy tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from allocator.errors import AllocatorError
from models.results import AllocationResult


class UnknownFormat(AllocatorError):
    code = "unknown-format"
    title = "Unknown output format"


def result_to_frames(result: AllocationResult) -> dict[str, pd.DataFrame]:
    """One tidy table per level of the result, money in pence and pounds."""
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
        "pool": pd.DataFrame(
            [line.model_dump(exclude={"to_providers_pence"}) for line in result.pool]
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
        "flows": pd.DataFrame([f.model_dump() for f in result.flows]),
        "systems": pd.DataFrame(
            [u.model_dump(exclude={"by_mechanism_pence"}) for u in result.systems]
        ),
        "places": pd.DataFrame(
            [u.model_dump(exclude={"by_mechanism_pence"}) for u in result.places]
        ),
        "neighbourhoods": pd.DataFrame(
            [u.model_dump(exclude={"by_mechanism_pence"}) for u in result.neighbourhoods]
        ),
        "cells": pd.DataFrame([c.model_dump() for c in result.cells]),
        "schemes": pd.DataFrame([s.model_dump() for s in result.schemes]),
        "value": pd.DataFrame([v.model_dump() for v in result.value_by]),
        "rules": pd.DataFrame([r.model_dump() for r in result.rules]),
        "stages": pd.DataFrame([s.model_dump() for s in result.stages]),
    }
    for frame in frames.values():
        for column in [c for c in frame.columns if str(c).endswith("_pence")]:
            frame[column.removesuffix("_pence") + "_gbp"] = frame[column] / 100
    return frames


def write_result(result: AllocationResult, path: Path) -> None:
    """``.json``: the full result; ``.csv``: the providers table; ``.xlsx``: every table, a sheet each."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(result.model_dump_json(indent=2) + "\n")
    elif suffix == ".csv":
        result_to_frames(result)["providers"].to_csv(path, index=False)
    elif suffix == ".xlsx":
        with pd.ExcelWriter(path) as writer:
            for name, frame in result_to_frames(result).items():
                frame.to_excel(writer, sheet_name=name, index=False)
    else:
        raise UnknownFormat(f"cannot write {path.name}: use .json, .csv or .xlsx")


def write_result_tables(result: AllocationResult, folder: Path) -> list[Path]:
    """Every table as its own CSV file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in result_to_frames(result).items():
        target = folder / f"{name}.csv"
        frame.to_csv(target, index=False)
        written.append(target)
    return written
