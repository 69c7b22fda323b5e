"""What the job runner writes to the database: claiming a queued job, storing what its
process produced, and recovery (shutdown, dead servers on this host, lost and orphaned rows).

Each function is one transaction, run in a thread by `api.jobs.JobRunner`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from api.orphans import is_dead_local
from api.storage import batch_rows, job_rows, repository
from api.storage.db import Database
from api.storage.tables import JobRow, utcnow

log = logging.getLogger("api.jobs")

RESTART_REASON = "interrupted by server restart"
SHUTDOWN_REASON = "interrupted by server shutdown"
LOST_REASON = "lost: its state could not be recorded while the database was unavailable"


def claim_job(database: Database, job_id: str, cancelled: bool) -> dict[str, Any] | None:
    """Mark the job running (if still queued and not cancelled) and return its payload."""
    with database.transaction() as session:
        if cancelled:
            job_rows.finish_jobs(session, job_ids=[job_id], state="cancelled", error=None)
            return None
        claimed = session.execute(
            update(JobRow)
            .where(
                JobRow.id == job_id,
                JobRow.state == "queued",
                JobRow.cancel_requested.is_(False),
            )
            .values(state="running", phase="solving", progress=0.1, started_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            job_rows.finish_jobs(session, job_ids=[job_id], state="cancelled", error=None)
            return None
        job = session.get(JobRow, job_id)
        assert job is not None
        return {
            "document": job_rows.job_document(session, job=job),
            "backend": job.backend,
            "time_limit_s": job.time_limit_s,
        }


def store_success(database: Database, job_id: str, summary: dict[str, Any], document: Any) -> str:
    """Store a finished solve's result and mark its job succeeded; returns the job's state."""
    with database.transaction() as session:
        job = session.get(JobRow, job_id)
        if job is None or job.state != "running":
            return job.state if job is not None else "failed"
        result = repository.add_result(session, job=job, document=document, **summary)
        job.state, job.phase, job.progress = "succeeded", "succeeded", 1.0
        job.result_id, job.finished_at = result.id, utcnow()
        repository.add_audit(
            session,
            principal=None,
            key_id=job.created_by,
            request_id=f"job:{job_id}",
            action="result.created",
            systems=repository.scenario_system_ids(session, scenario_pk=job.scenario_pk),
            scenario_pk=job.scenario_pk,
            version=job.version,
            result_id=result.id,
            job_id=job_id,
            detail={"status": summary.get("status")},
        )
    return "succeeded"


def shutdown_rows(database: Database, runner_id: str, ids: list[str]) -> None:
    """On a clean shutdown: fail this server's own active jobs and batches, remove its row."""
    with database.transaction() as session:
        moved = job_rows.finish_jobs(session, job_ids=ids, state="failed", error=SHUTDOWN_REASON)
        moved += batch_rows.finish_batches(
            session, batch_ids=ids, state="failed", error=SHUTDOWN_REASON
        )
        job_rows.remove_runner(session, runner_id=runner_id)
    if moved:
        log.warning("%d job(s) and batch(es) failed: %s", moved, SHUTDOWN_REASON)


def fail_dead_local_runners(database: Database) -> None:
    """At startup: fail the work of this host's servers that are dead (`api.orphans`)."""
    with database.transaction() as session:
        dead = [r for r in job_rows.runner_ids(session) if is_dead_local(r)]
        moved = job_rows.finish_of_runners(session, runner_ids=dead, error=RESTART_REASON)
    if moved:
        log.warning("%d job(s) and batch(es) of dead servers failed: %s", moved, RESTART_REASON)


def beat_and_recover(
    database: Database,
    runner_id: str,
    heartbeat_s: float,
    stale_after: timedelta,
    held: frozenset[str] = frozenset(),
) -> None:
    """Heartbeat; fail this server's lost rows and other (silent) servers' orphans."""
    with database.transaction() as session:
        job_rows.heartbeat(session, runner_id=runner_id)
        grace = timedelta(seconds=heartbeat_s)
        lost = job_rows.lost_rows(session, runner_id=runner_id, held=held, older_than=grace)
        gone = job_rows.finish_jobs(session, job_ids=lost["job"], state="failed", error=LOST_REASON)
        gone += batch_rows.finish_batches(
            session, batch_ids=lost["batch"], state="failed", error=LOST_REASON
        )
        orphans = job_rows.orphaned_jobs(session, stale_after=stale_after, own_runner=runner_id)
        moved = job_rows.finish_jobs(session, job_ids=orphans, state="failed", error=RESTART_REASON)
        batches = batch_rows.orphaned_batches(
            session, stale_after=stale_after, own_runner=runner_id
        )
        moved += batch_rows.finish_batches(
            session, batch_ids=batches, state="failed", error=RESTART_REASON
        )
        job_rows.delete_stale_runners(session, stale_after=stale_after)
    if moved:
        log.warning("%d orphaned job(s) and batch(es) failed: %s", moved, RESTART_REASON)
    if gone:
        log.warning("%d job(s) and batch(es) failed: %s", gone, LOST_REASON)
