"""The resumable record of a batch: one small JSON file per finished run.

Layout of the output folder::

    batch.json            the manifest: spec, base hash, every run's index, id and parameters
    runs/<run_id>.json    one `RunRecord` per finished run (failed runs too, with the reason)
    results/<run_id>.json the full `AllocationResult`, when asked for
    CANCEL                present while a cancel is in progress: workers stop between runs

Every file is written to a temporary name in the same folder, flushed to disk and moved
into place with ``os.replace``, so a record is either complete or absent: a crash or a
kill loses at most the runs in flight. A record is written after the run's full result,
so its presence means the run is done. Records are keyed by run id, which hashes the base
scenario, the changes and the solver settings: re-running a spec skips every run whose
record exists, and specs that share runs share their records.
"""

from __future__ import annotations

import enum
import json
import os
import uuid
from pathlib import Path
from typing import Any

from pydantic import Field

from models.base import DomainModel

MANIFEST = "batch.json"
CANCEL = "CANCEL"


@enum.unique
class RunFailure(enum.StrEnum):
    """Statuses of runs that never reached the solver's own termination reasons."""

    INVALID = "invalid"  # the changed scenario breaks a rule of the schema or validation
    ERROR = "error"  # an exception (reported with its type and message)


class ProviderRow(DomainModel):
    provider_id: str
    kind: str
    payment: str
    funded: bool | None = None
    baseline_pence: int
    budget_pence: int | None = None
    change_pence: int | None = None
    change_share: float | None = None


class PlaceRow(DomainModel):
    place_id: str
    target_pence: int
    allocation_pence: int | None = None
    distance_from_target: float | None = None
    baseline_pence: int | None = None


class RunRecord(DomainModel):
    """What a batch keeps of one run (the tables are built from these)."""

    run_id: str
    run_index: int
    params: dict[str, Any] = Field(default_factory=dict)
    changes: list[dict[str, Any]] = Field(default_factory=list)
    status: str = Field(description="Solver termination reason, or 'invalid' / 'error'.")
    feasible: bool = False
    reason: str = ""
    scenario_hash: str | None = None
    backend: str | None = None
    value_total: float | None = None
    worst_place_distance: float | None = None
    timings_s: dict[str, float] = Field(default_factory=dict)
    providers: list[ProviderRow] = Field(default_factory=list)
    places: list[PlaceRow] = Field(default_factory=list)
    worker: str = ""


class RunStore:
    """A folder of run records, written atomically, safe for several writer processes."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.results_dir = self.root / "results"

    def ensure(self) -> RunStore:
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        return self

    def record_path(self, run_id: str) -> Path:
        return self.runs_dir / f"{run_id}.json"

    def result_path(self, run_id: str) -> Path:
        return self.results_dir / f"{run_id}.json"

    def has(self, run_id: str) -> bool:
        return self.record_path(run_id).exists()

    def has_result(self, run_id: str) -> bool:
        return self.result_path(run_id).exists()

    def finished_ids(self) -> set[str]:
        """Ids of every recorded run (temporary files of unfinished writes are ignored)."""
        try:
            names = os.listdir(self.runs_dir)
        except FileNotFoundError:
            return set()
        return {n[:-5] for n in names if n.endswith(".json") and not n.startswith(".")}

    def save(self, record: RunRecord, result_json: str | None = None) -> None:
        """Write the full result (if given), then the record: each atomically."""
        if result_json is not None:
            atomic_write(self.result_path(record.run_id), result_json)
        atomic_write(self.record_path(record.run_id), record.model_dump_json())

    def load(self, run_id: str) -> RunRecord:
        return RunRecord.model_validate_json(self.record_path(run_id).read_bytes())

    def load_many(self, run_ids: list[str]) -> dict[str, RunRecord]:
        """The records that exist among ``run_ids``; unreadable ones are skipped (re-run)."""
        out: dict[str, RunRecord] = {}
        for run_id in dict.fromkeys(run_ids):
            try:
                out[run_id] = self.load(run_id)
            except (FileNotFoundError, ValueError):
                continue
        return out

    def write_manifest(self, doc: dict[str, Any]) -> None:
        atomic_write(self.root / MANIFEST, json.dumps(doc, indent=1, sort_keys=True))

    # Cancellation: a marker file every worker that shares the folder can see.

    def request_cancel(self) -> None:
        atomic_write(self.root / CANCEL, "cancel requested\n")

    def clear_cancel(self) -> None:
        (self.root / CANCEL).unlink(missing_ok=True)

    def cancel_requested(self) -> bool:
        return (self.root / CANCEL).exists()


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file, or the whole new one."""
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


__all__ = [
    "PlaceRow",
    "ProviderRow",
    "RunFailure",
    "RunRecord",
    "RunStore",
    "atomic_write",
]
