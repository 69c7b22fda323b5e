"""Solve jobs: poll state and progress, cancel."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import Planner, Reader, RequestIdDep, RunnerDep, SessionDep
from api.errors import StateConflict, problem_responses
from api.schemas import JobPublic, JobState
from api.storage import job_rows, repository
from api.storage.tables import utcnow
from api.views import job_public

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=problem_responses(401, 403, 404))


@router.get("/{job_id}", summary="A solve job's state and progress")
def get_job(job_id: str, session: SessionDep, principal: Reader) -> JobPublic:
    """``queued`` → ``running`` → ``succeeded`` (see ``result_id``), ``failed`` (see
    ``error``) or ``cancelled``."""
    return job_public(job_rows.get_job(session, principal=principal, job_id=job_id))


def _cancel(
    job_id: str,
    response: Response,
    session: SessionDep,
    runner: RunnerDep,
    principal: Planner,
    request_id: RequestIdDep,
) -> JobPublic:
    job = job_rows.get_job(session, principal=principal, job_id=job_id)
    if JobState(job.state).finished:
        raise StateConflict(f"job {job_id} has already finished ({job.state})")
    job.cancel_requested = True
    if job.state == JobState.QUEUED:
        job.state, job.phase, job.finished_at = "cancelled", "cancelled", utcnow()
        response.status_code = 200
    else:
        response.status_code = 202  # the runner kills the process and marks it cancelled
    repository.add_audit(
        session,
        principal=principal,
        request_id=request_id,
        action="job.cancel_requested",
        systems=repository.scenario_system_ids(session, scenario_pk=job.scenario_pk),
        scenario_pk=job.scenario_pk,
        version=job.version,
        job_id=job.id,
    )
    session.flush()
    public = job_public(job)
    runner.cancel_threadsafe(job_id)
    return public


CANCEL_RESPONSES = {
    202: {"model": JobPublic, "description": "Running: the solve is being stopped"},
    **problem_responses(409),
}


@router.delete(
    "/{job_id}", responses=CANCEL_RESPONSES, summary="Cancel a job (same as POST .../cancel)"
)
def delete_job(
    job_id: str,
    response: Response,
    session: SessionDep,
    runner: RunnerDep,
    principal: Planner,
    request_id: RequestIdDep,
) -> JobPublic:
    """A queued job is cancelled at once (200); a running one is stopped (202, poll it)."""
    return _cancel(job_id, response, session, runner, principal, request_id)


@router.post("/{job_id}/cancel", responses=CANCEL_RESPONSES, summary="Cancel a job")
def cancel_job(
    job_id: str,
    response: Response,
    session: SessionDep,
    runner: RunnerDep,
    principal: Planner,
    request_id: RequestIdDep,
) -> JobPublic:
    """A queued job is cancelled at once (200); a running one is stopped (202, poll it)."""
    return _cancel(job_id, response, session, runner, principal, request_id)
