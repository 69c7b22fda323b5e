"""Keyword-only data access for solve jobs and the runners that execute them.

Visibility follows the job's scenario (`api.storage.repository.get_scenario`). The runner
rows and their heartbeats let a server find jobs orphaned by another server's crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from allocator.errors import NotFound
from api.security import Principal
from api.storage.db import Database
from api.storage.repository import get_scenario, new_id
from api.storage.tables import BatchRow, JobRow, RunnerRow, ScenarioVersionRow, utcnow

log = logging.getLogger("api.jobs")

ACTIVE_JOB_STATES = ("queued", "running")


def create_job(
    session: Session,
    *,
    principal: Principal,
    version: ScenarioVersionRow,
    backend: str | None,
    time_limit_s: float | None,
    runner_id: str,
) -> JobRow:
    job = JobRow(
        id=new_id(),
        scenario_pk=version.scenario_pk,
        version=version.version,
        state="queued",
        progress=0.0,
        phase="queued",
        backend=backend,
        time_limit_s=time_limit_s,
        runner_id=runner_id,
        cancel_requested=False,
        created_by=principal.key_id,
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, *, principal: Principal, job_id: str) -> JobRow:
    job = session.get(JobRow, job_id)
    if job is None:
        raise NotFound(f"no job {job_id!r}")
    try:
        get_scenario(session, principal=principal, scenario_pk=job.scenario_pk)
    except NotFound:
        raise NotFound(f"no job {job_id!r}") from None
    return job


def job_document(session: Session, *, job: JobRow) -> str:
    return session.scalars(
        select(ScenarioVersionRow.document).where(
            ScenarioVersionRow.scenario_pk == job.scenario_pk,
            ScenarioVersionRow.version == job.version,
        )
    ).one()


def job_counts(session: Session) -> dict[str, int]:
    return state_counts(session, JobRow)


def finish_jobs(session: Session, *, job_ids: Iterable[str], state: str, error: str | None) -> int:
    """Move still-active jobs to a final state; returns how many moved."""
    return finish(session, JobRow, job_ids, state=state, error=error, phase=state)


# Jobs and batches are both work a runner executes: the same states, heartbeats and cancels.
WorkRow = type[JobRow] | type[BatchRow]


def state_counts(session: Session, model: WorkRow) -> dict[str, int]:
    rows = session.execute(select(model.state, func.count()).group_by(model.state))
    return {str(row[0]): int(row[1]) for row in rows}


def finish(
    session: Session,
    model: WorkRow,
    ids: Iterable[str],
    *,
    state: str,
    error: str | None,
    **also: Any,
) -> int:
    """Move still-active rows to a final state; returns how many moved."""
    wanted = list(ids)
    if not wanted:
        return 0
    moved = session.execute(
        update(model)
        .where(model.id.in_(wanted), model.state.in_(ACTIVE_JOB_STATES))
        .values(state=state, error=error, finished_at=utcnow(), **also)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(moved, "rowcount", 0) or 0)


def orphaned(
    session: Session, model: WorkRow, *, stale_after: timedelta, own_runner: str
) -> list[str]:
    """Active rows whose runner is gone or silent for longer than ``stale_after``."""
    rows = session.scalars(
        select(model.id).where(
            model.state.in_(ACTIVE_JOB_STATES),
            model.runner_id != own_runner,
            model.runner_id.not_in(live_runners(stale_after=stale_after)),
        )
    )
    return list(rows)


def with_cancel_requested(session: Session, model: WorkRow, ids: Iterable[str]) -> list[str]:
    """Those of ``ids`` whose cancel was asked for (possibly through another server)."""
    wanted = list(ids)
    if not wanted:
        return []
    rows = session.scalars(
        select(model.id).where(model.id.in_(wanted), model.cancel_requested.is_(True))
    )
    return list(rows)


def heartbeat(session: Session, *, runner_id: str) -> None:
    row = session.get(RunnerRow, runner_id)
    if row is None:
        session.add(RunnerRow(id=runner_id))
    else:
        row.heartbeat_at = utcnow()
    session.flush()


def remove_runner(session: Session, *, runner_id: str) -> None:
    row = session.get(RunnerRow, runner_id)
    if row is not None:
        session.delete(row)
        session.flush()


def live_runners(*, stale_after: timedelta) -> Select[Any]:
    """Ids of the runners that have beaten within ``stale_after`` (a subquery)."""
    cutoff = datetime.now(UTC) - stale_after
    return select(RunnerRow.id).where(RunnerRow.heartbeat_at >= cutoff)


def runner_ids(session: Session) -> list[str]:
    return list(session.scalars(select(RunnerRow.id)))


def finish_of_runners(session: Session, *, runner_ids: list[str], error: str) -> int:
    """Fail the active jobs and batches of ``runner_ids`` and forget those runners."""
    if not runner_ids:
        return 0
    moved = 0
    for model in (JobRow, BatchRow):
        ids = session.scalars(
            select(model.id).where(
                model.state.in_(ACTIVE_JOB_STATES), model.runner_id.in_(runner_ids)
            )
        )
        extra = {"phase": "failed"} if model is JobRow else {}
        moved += finish(session, model, list(ids), state="failed", error=error, **extra)
    for row in session.scalars(select(RunnerRow).where(RunnerRow.id.in_(runner_ids))):
        session.delete(row)
    session.flush()
    return moved


def lost_rows(
    session: Session, *, runner_id: str, held: frozenset[str], older_than: timedelta
) -> dict[str, list[str]]:
    """This runner's active jobs and batches that it no longer holds, by kind ("job", "batch").

    Only rows created more than ``older_than`` ago: a row just committed by a request may
    not have reached the runner's queue yet.
    """
    cutoff = datetime.now(UTC) - older_than
    found: dict[str, list[str]] = {}
    for kind, model in (("job", JobRow), ("batch", BatchRow)):
        rows = session.scalars(
            select(model.id).where(
                model.state.in_(ACTIVE_JOB_STATES),
                model.runner_id == runner_id,
                model.created_at < cutoff,
            )
        )
        found[kind] = [row for row in rows if row not in held]
    return found


def orphaned_jobs(session: Session, *, stale_after: timedelta, own_runner: str) -> list[str]:
    """Active jobs whose runner is gone or silent for longer than ``stale_after``."""
    return orphaned(session, JobRow, stale_after=stale_after, own_runner=own_runner)


def cancel_requested(session: Session, *, job_ids: Iterable[str]) -> list[str]:
    return with_cancel_requested(session, JobRow, job_ids)


def delete_stale_runners(session: Session, *, stale_after: timedelta) -> None:
    cutoff = datetime.now(UTC) - stale_after
    for row in session.scalars(select(RunnerRow).where(RunnerRow.heartbeat_at < cutoff)):
        session.delete(row)
    session.flush()


def progress_recorder(database: Database, job_id: str) -> Callable[[str, float], None]:
    """Records a running job's latest phase (e.g. the solver stage just finished) and share
    done, as its solver process reports them (called on the thread waiting for it)."""

    def record(phase: str, progress: float) -> None:
        try:
            with database.transaction() as session:
                session.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id, JobRow.state == "running")
                    .values(phase=phase[:64], progress=min(max(progress, 0.0), 1.0))
                    .execution_options(synchronize_session=False)
                )
        except SQLAlchemyError:  # progress is advisory: a database fault must not end the solve
            log.warning("job %s: progress not recorded (database unavailable)", job_id)

    return record
