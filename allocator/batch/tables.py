"""The batch's tidy tables, built from its run records.

Three tables, each written as Parquet and CSV (and together as an Excel summary):

* ``runs``: one row per run: its parameters, status, reason, total value, the worst
  place's distance from target and timings;
* ``providers``: one row per run × provider: parameters, status, value, baseline,
  budget and change in pence;
* ``places``: one row per run × place: parameters, status, value, target, allocation and
  baseline in pence and the distance from target.

Two long tables rather than one with a ``unit_level`` column, because providers and
places have different columns (payment and funding status against target and distance):
one table would be half empty. Every table starts with ``run_index`` (the run's position
in the spec) and ``run_id``, then one column per parameter; rows are in spec order.
Pence columns are nullable integers: empty when the run has no allocation.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from allocator.batch.spec import Run
from allocator.batch.store import RunRecord
from allocator.io.cells import write_csv, write_workbook

if TYPE_CHECKING:
    from collections.abc import Iterable

PENCE_COLUMNS = (
    "baseline_pence",
    "budget_pence",
    "change_pence",
    "target_pence",
    "allocation_pence",
)


def build_tables(runs: Iterable[Run], records: dict[str, RunRecord]) -> dict[str, pd.DataFrame]:
    """The ``runs``, ``providers`` and ``places`` tables of the finished runs, in spec order."""
    ordered = sorted(runs, key=lambda r: r.index)
    params = list(dict.fromkeys(k for r in ordered for k in r.params))
    lead = ["run_index", "run_id", *params]
    run_rows: list[dict[str, object]] = []
    provider_rows: list[dict[str, object]] = []
    place_rows: list[dict[str, object]] = []
    for run in ordered:
        record = records.get(run.run_id)
        if record is None:
            continue
        head: dict[str, object] = {"run_index": run.index, "run_id": run.run_id, **run.params}
        status = {
            "status": record.status,
            "feasible": record.feasible,
            "value_total": record.value_total,
        }
        run_rows.append(
            {
                **head,
                **status,
                "reason": record.reason,
                "worst_place_distance": record.worst_place_distance,
                "solve_s": record.timings_s.get("solve"),
                "total_s": record.timings_s.get("total"),
                "scenario_hash": record.scenario_hash,
            }
        )
        provider_rows += [{**head, **status, **p.model_dump()} for p in record.providers]
        place_rows += [{**head, **status, **u.model_dump()} for u in record.places]
    return {
        "runs": _frame(run_rows, lead),
        "providers": _frame(provider_rows, lead),
        "places": _frame(place_rows, lead),
    }


def _frame(rows: list[dict[str, object]], lead: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.reindex(columns=lead + [c for c in frame.columns if c not in lead])
    for column in frame.columns:
        if column in PENCE_COLUMNS:
            frame[column] = frame[column].astype("Int64")
    return frame


def write_tables(
    tables: dict[str, pd.DataFrame], out_dir: Path, *, excel: bool = True
) -> dict[str, Path]:
    """Write each table as ``<name>.parquet`` and ``<name>.csv``, plus ``summary.xlsx``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, frame in tables.items():
        parquet, csv = out_dir / f"{name}.parquet", out_dir / f"{name}.csv"
        _as_writable(frame).to_parquet(parquet, index=False)
        write_csv(frame, csv)
        written[f"{name}.parquet"], written[f"{name}.csv"] = parquet, csv
    if excel:
        path = out_dir / "summary.xlsx"
        write_workbook(tables, path)
        written["summary.xlsx"] = path
    return written


def _as_writable(frame: pd.DataFrame) -> pd.DataFrame:
    """Parameter columns may mix numbers and text (list runs): store those as text."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            kinds = {type(v) for v in out[column].dropna()}
            if len(kinds) > 1:
                out[column] = out[column].map(lambda v: None if v is None else str(v))
    return out


def read_table(out_dir: Path, name: str) -> pd.DataFrame:
    """A table written by `write_tables` (from Parquet)."""
    return pd.read_parquet(out_dir / f"{name}.parquet")


__all__ = ["build_tables", "read_table", "write_tables"]
