"""Batch runs: parameter sweeps, Monte Carlo draws and multi-year plans over one scenario.

A `BatchSpec` (YAML, JSON, or the API's request body) names a base scenario and the
changes to apply: a grid, a list, or seeded draws. `run_batch` expands it into runs
with stable ids, solves them on this process, a local process pool or a Dask cluster,
records each finished run atomically (so a batch resumes where it stopped) and writes
tidy tables. `plan_years` rolls a scenario forward year by year, each year's baseline
being the previous year's allocation, and reports each place's glide path to target.
See ``docs/batch.md``.
"""

from __future__ import annotations

from allocator.batch.changes import (
    Change,
    DemandGrowth,
    PaceBounds,
    PotGrowth,
    RiskShareTerms,
    UnitPriceGrowth,
    apply_changes,
    scale_pence,
)
from allocator.batch.runner import BatchSummary, resolve_base, run_batch
from allocator.batch.spec import (
    Axis,
    BatchOptions,
    BatchSpec,
    ListRun,
    MonteCarlo,
    ReuseMode,
    Run,
    UncertainInput,
    expand_runs,
    load_spec,
)
from allocator.batch.store import RunFailure, RunRecord, RunStore
from allocator.batch.tables import build_tables, read_table

__all__ = [
    "Axis",
    "BatchOptions",
    "BatchSpec",
    "BatchSummary",
    "Change",
    "DemandGrowth",
    "ListRun",
    "MonteCarlo",
    "PaceBounds",
    "PotGrowth",
    "ReuseMode",
    "RiskShareTerms",
    "Run",
    "RunFailure",
    "RunRecord",
    "RunStore",
    "UncertainInput",
    "UnitPriceGrowth",
    "apply_changes",
    "build_tables",
    "expand_runs",
    "load_spec",
    "read_table",
    "resolve_base",
    "run_batch",
    "scale_pence",
]
