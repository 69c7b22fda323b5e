"""Keyword-only data access for batches, their systems and their runs.

A batch is visible to a key only when every system its base scenario covers is one of the
key's; anything else raises `NotFound`, exactly as a missing batch does. Every run of the
spec has a row from the start (``pending``); a run's row is filled in once, when its
record arrives, together with the batch's counters. Nothing here commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Literal

from sqlalchemy import ColumnElement, and_, exists, func, insert, not_, select, update
from sqlalchemy.orm import Session

from allocator.batch import Run, RunRecord
from allocator.errors import NotFound
from api.security import Principal
from api.storage.job_rows import (
    ACTIVE_JOB_STATES,
    finish,
    orphaned,
    state_counts,
    with_cancel_requested,
)
from api.storage.repository import new_id
from api.storage.tables import BatchRow, BatchRunRow, BatchSystem, utcnow

PENDING = "pending"
RunState = Literal["finished", "pending", "all"]
ACTIVE_BATCH_STATES = ACTIVE_JOB_STATES
RESUMABLE_STATES = ("failed", "cancelled")


def _visible(principal: Principal) -> ColumnElement[bool]:
    """Batches none of whose systems lie outside the principal's."""
    foreign = exists().where(
        and_(
            BatchSystem.batch_id == BatchRow.id,
            BatchSystem.system_id.not_in(sorted(principal.systems)),
        )
    )
    return not_(foreign)


def create_batch(
    session: Session,
    *,
    principal: Principal,
    name: str,
    scenario_pk: str | None,
    version: int | None,
    base_hash: str,
    base_document: str | None,
    spec: str,
    systems: Iterable[str],
    runs: Sequence[Run],
    runner_id: str,
) -> BatchRow:
    """A queued batch with one pending row per run of its spec."""
    row = BatchRow(
        id=new_id(),
        name=name,
        scenario_pk=scenario_pk,
        version=version,
        base_hash=base_hash,
        base_document=base_document,
        spec=spec,
        state="queued",
        runs_total=len(runs),
        runs_done=0,
        runs_failed=0,
        runner_id=runner_id,
        cancel_requested=False,
        created_by=principal.key_id,
    )
    session.add(row)
    session.flush()
    session.add_all(BatchSystem(batch_id=row.id, system_id=s) for s in sorted(set(systems)))
    if runs:
        session.execute(
            insert(BatchRunRow),
            [
                {
                    "batch_id": row.id,
                    "run_index": run.index,
                    "run_id": run.run_id,
                    "params": json.dumps(run.params),
                    "status": PENDING,
                    "reason": "",
                }
                for run in runs
            ],
        )
    session.flush()
    return row


def get_batch(session: Session, *, principal: Principal, batch_id: str) -> BatchRow:
    row = session.scalars(
        select(BatchRow).where(_visible(principal), BatchRow.id == batch_id)
    ).first()
    if row is None:
        raise NotFound(f"no batch {batch_id!r}")
    return row


def list_batches(
    session: Session, *, principal: Principal, page: int, page_size: int
) -> tuple[list[BatchRow], int]:
    query = select(BatchRow).where(_visible(principal))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(BatchRow.created_at.desc(), BatchRow.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows), total


def batch_system_ids(session: Session, *, batch_id: str) -> list[str]:
    rows = session.scalars(select(BatchSystem.system_id).where(BatchSystem.batch_id == batch_id))
    return sorted(rows)


def status_counts(session: Session, *, batch_id: str) -> dict[str, int]:
    """Finished runs by status (the solver's termination, or ``invalid`` / ``error``)."""
    rows = session.execute(
        select(BatchRunRow.status, func.count())
        .where(BatchRunRow.batch_id == batch_id, BatchRunRow.status != PENDING)
        .group_by(BatchRunRow.status)
    )
    return {str(status): int(count) for status, count in rows}


def _state_filter(batch_id: str, state: RunState) -> list[ColumnElement[bool]]:
    where = [BatchRunRow.batch_id == batch_id]
    if state == "finished":
        where.append(BatchRunRow.status != PENDING)
    elif state == "pending":
        where.append(BatchRunRow.status == PENDING)
    return where


def list_runs(
    session: Session, *, batch_id: str, state: RunState, page: int, page_size: int
) -> tuple[list[BatchRunRow], int]:
    """Runs in spec order (``run_index``)."""
    where = _state_filter(batch_id, state)
    total = session.scalar(select(func.count()).select_from(BatchRunRow).where(*where)) or 0
    rows = session.scalars(
        select(BatchRunRow)
        .where(*where)
        .order_by(BatchRunRow.run_index)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows), total


def finished_runs(session: Session, *, batch_id: str) -> list[BatchRunRow]:
    return list(
        session.scalars(
            select(BatchRunRow)
            .where(*_state_filter(batch_id, "finished"))
            .order_by(BatchRunRow.run_index)
        )
    )


def record_runs(session: Session, *, batch_id: str, records: Iterable[RunRecord]) -> int:
    """Fill in the pending rows of these runs and count them on the batch; returns how many.

    A run listed twice in the spec has two rows and one record: both are filled in.
    """
    done = failed = 0
    now = utcnow()
    for record in records:
        moved = session.execute(
            update(BatchRunRow)
            .where(
                BatchRunRow.batch_id == batch_id,
                BatchRunRow.run_id == record.run_id,
                BatchRunRow.status == PENDING,
            )
            .values(
                status=record.status,
                feasible=record.feasible,
                reason=record.reason,
                record=record.model_dump_json(),
                finished_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        count = int(getattr(moved, "rowcount", 0) or 0)
        done += count
        failed += 0 if record.feasible else count
    if done:
        session.execute(
            update(BatchRow)
            .where(BatchRow.id == batch_id)
            .values(runs_done=BatchRow.runs_done + done, runs_failed=BatchRow.runs_failed + failed)
            .execution_options(synchronize_session=False)
        )
    return done


def claim_batch(session: Session, *, batch_id: str) -> bool:
    """Mark a queued, uncancelled batch running; False if it is not (any more)."""
    claimed = session.execute(
        update(BatchRow)
        .where(
            BatchRow.id == batch_id,
            BatchRow.state == "queued",
            BatchRow.cancel_requested.is_(False),
        )
        .values(state="running", started_at=utcnow(), finished_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(claimed, "rowcount", 0) or 0) == 1


def requeue_batch(session: Session, *, row: BatchRow, runner_id: str) -> bool:
    """Queue a failed or cancelled batch again on ``runner_id``; False if it is neither."""
    moved = session.execute(
        update(BatchRow)
        .where(BatchRow.id == row.id, BatchRow.state.in_(RESUMABLE_STATES))
        .values(
            state="queued",
            runner_id=runner_id,
            cancel_requested=False,
            error=None,
            finished_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    return int(getattr(moved, "rowcount", 0) or 0) == 1


def finish_batches(
    session: Session, *, batch_ids: Iterable[str], state: str, error: str | None
) -> int:
    """Move still-active batches to a final state; returns how many moved."""
    return finish(session, BatchRow, batch_ids, state=state, error=error)


def orphaned_batches(session: Session, *, stale_after: timedelta, own_runner: str) -> list[str]:
    """Active batches whose runner is gone or silent for longer than ``stale_after``."""
    return orphaned(session, BatchRow, stale_after=stale_after, own_runner=own_runner)


def cancel_requested(session: Session, *, batch_ids: Iterable[str]) -> list[str]:
    return with_cancel_requested(session, BatchRow, batch_ids)


def batch_counts(session: Session) -> dict[str, int]:
    return state_counts(session, BatchRow)
