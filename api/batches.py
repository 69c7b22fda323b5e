"""Batches as jobs: run in a killable worker process, recorded in the database as runs finish.

The job runner (`api.jobs.JobRunner`) runs at most ``batch_workers`` batches at once, each in
its own worker process (`api.worker.SolverProcess`, target ``Settings.batch_target``), which
calls `allocator.batch.run_batch` on one core. That function records each finished run in a
folder (``<data_dir>/batches/<batch id>``, one atomically written file per run); the
server reads new records from the folder every `HARVEST_S` seconds and stores them in the
batch's run rows, so partial results are visible while the batch runs and a cancel (which
kills the process) keeps every finished run.

The database is the record: before a batch (re)starts, the runs it already finished are
written back into its folder, so `run_batch` skips them. That is how a batch cancelled,
failed or interrupted by a restart resumes (``POST /batches/{id}/resume``). The folder is
removed when the process has ended and its records are stored.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from allocator.batch import RunRecord, RunStore
from api.settings import Settings
from api.storage import batch_rows
from api.storage.db import Database
from api.storage.tables import BatchRow, ScenarioVersionRow

log = logging.getLogger("api.batches")

HARVEST_S = 0.25  # how often a running batch's new records are stored


@dataclass(slots=True)
class Execution:
    """One run of a batch's worker process: its folder and the records already stored."""

    batch_id: str
    store_dir: Path
    payload: dict[str, Any]
    stored: set[str] = field(default_factory=set)


def base_document(session: Session, row: BatchRow) -> str:
    """The batch's base scenario JSON: given inline, or its stored version's."""
    if row.base_document is not None:
        return row.base_document
    return session.scalars(
        select(ScenarioVersionRow.document).where(
            ScenarioVersionRow.scenario_pk == row.scenario_pk,
            ScenarioVersionRow.version == row.version,
        )
    ).one()


def spec_json(session: Session, row: BatchRow) -> str:
    """The batch spec as the worker reads it: the stored spec with its base put back in."""
    return f'{row.spec[:-1]},"base":{base_document(session, row)}}}'


class BatchWork:
    """The database and folder side of running batches (no event loop in here)."""

    def __init__(self, *, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.root = settings.data_dir / "batches"

    def claim(self, batch_id: str, cancelled: bool) -> Execution | None:
        """Mark the batch running and prepare its folder; None if it is cancelled or taken."""
        with self.database.transaction() as session:
            row = session.get(BatchRow, batch_id)
            if row is None:
                return None
            if cancelled or (row.state == "queued" and row.cancel_requested):
                batch_rows.finish_batches(
                    session, batch_ids=[batch_id], state="cancelled", error=None
                )
                return None
            if not batch_rows.claim_batch(session, batch_id=batch_id):
                return None  # no longer queued: cancelled, or taken elsewhere
            spec = spec_json(session, row)
        store_dir = self.root / batch_id
        execution = Execution(
            batch_id=batch_id,
            store_dir=store_dir,
            payload={"spec": spec, "store_dir": str(store_dir)},
        )
        self.harvest(execution)  # runs a crashed server finished here but never stored
        self._seed(execution)
        return execution

    def _seed(self, execution: Execution) -> None:
        """Write the runs already stored into the folder, so the worker skips them."""
        store = RunStore(execution.store_dir).ensure()
        on_disk = store.finished_ids()
        with self.database.transaction(write=False) as session:
            rows = batch_rows.finished_runs(session, batch_id=execution.batch_id)
        for row in rows:
            if row.record is None or row.run_id in execution.stored:
                continue
            execution.stored.add(row.run_id)
            if row.run_id not in on_disk:
                store.save(RunRecord.model_validate_json(row.record))

    def harvest(self, execution: Execution) -> int:
        """Store the records that appeared in the folder since the last call."""
        store = RunStore(execution.store_dir)
        new = sorted(store.finished_ids() - execution.stored)
        if not new:
            return 0
        records = store.load_many(new)  # a record being written is skipped until complete
        with self.database.transaction() as session:
            batch_rows.record_runs(session, batch_id=execution.batch_id, records=records.values())
        execution.stored.update(records)
        return len(records)

    def finish(self, batch_id: str, state: str, error: str | None) -> None:
        with self.database.transaction() as session:
            batch_rows.finish_batches(session, batch_ids=[batch_id], state=state, error=error)

    def keep(self, execution: Execution) -> None:
        """Store whatever the folder holds, then remove it (the process has ended)."""
        self.harvest(execution)
        shutil.rmtree(execution.store_dir, ignore_errors=True)

    def record(
        self,
        execution: Execution,
        message: Any,
        exitcode: int | None,
        *,
        cancelled: bool,
        timed_out: bool,
    ) -> str:
        """Store the last records and the batch's final state; returns the state."""
        self.keep(execution)
        batch_id = execution.batch_id
        if isinstance(message, tuple) and message and message[0] == "ok":
            return self._complete(batch_id, message[1])
        if cancelled:
            self.finish(batch_id, "cancelled", None)
            return "cancelled"
        if timed_out:
            limit = self.settings.batch_wall_clock_s
            reason = f"killed after the {limit:g} s wall-clock limit; resume it to go on"
        elif isinstance(message, tuple) and message and message[0] == "error":
            reason = str(message[1])
            log.error("batch %s failed: %s\n%s", batch_id, reason, message[2])
        else:
            reason = f"the batch process died (exit code {exitcode})"
        self.finish(batch_id, "failed", reason)
        return "failed"

    def _complete(self, batch_id: str, reply: dict[str, Any]) -> str:
        """The worker finished the spec: succeeded if every run is stored."""
        with self.database.transaction() as session:
            row = session.get(BatchRow, batch_id)
            missing = row.runs_total - row.runs_done if row is not None else 0
        if missing:
            error = f"{missing} run(s) were not recorded; resume the batch to run them"
            self.finish(batch_id, "failed", error)
            return "failed"
        log.info("batch %s finished: %s", batch_id, reply.get("statuses"))
        self.finish(batch_id, "succeeded", None)
        return "succeeded"
