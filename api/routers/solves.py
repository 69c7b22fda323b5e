"""Solving a scenario version: answered in the request when small and quick, else a job."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Body, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from allocator.backends.registry import available_backends
from allocator.errors import SolverUnavailable
from api.deps import DatabaseDep, Planner, RequestIdDep, RunnerDep, SessionDep, SettingsDep
from api.errors import InvalidRequest, QueueFull, problem_responses
from api.quotas import check_job_quota
from api.schemas import JobPublic, SolveOutcome, SolveRequest
from api.storage import job_rows, repository
from api.storage.tables import JobRow, ResultRow
from api.views import job_public, result_public_json

router = APIRouter(
    tags=["solves"], responses=problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 503)
)


def effective_time_limit(request_limit: float | None, own: float | None, maximum: float) -> float:
    """The per-stage limit a solve runs with: the request's (at most ``maximum``, else 422),
    else the scenario's own capped at ``maximum``."""
    if request_limit is not None:
        if request_limit > maximum:
            raise InvalidRequest(
                f"time_limit_s {request_limit:g} is more than this server allows ({maximum:g} s)"
            )
        return request_limit
    return min(float(own), maximum) if own else maximum


def document_time_limit(document: str) -> float | None:
    """The scenario document's own per-stage time limit, if it sets one."""
    own = json.loads(document).get("objective", {}).get("time_limit_s")
    return float(own) if own else None


@router.post(
    "/scenarios/{scenario_id}/versions/{version}/solve",
    response_model=SolveOutcome,
    responses={
        200: {"description": "Solved within the request: the job and its result"},
        202: {"model": SolveOutcome, "description": "Queued or running: poll the job"},
    },
    summary="Solve a scenario version",
)
async def solve_version(
    scenario_id: str,
    version: Annotated[int, Path(ge=1, le=1_000_000_000)],
    request: Request,
    session: SessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    runner: RunnerDep,
    principal: Planner,
    request_id: RequestIdDep,
    body: Annotated[SolveRequest | None, Body()] = None,
) -> Response:
    """Allocate the version's budget. Small scenarios (``sync_max_cells``) solved within
    ``sync_solve_budget_s`` answer 200 with the result; otherwise 202 with a job to poll at
    ``Location``. An infeasible scenario is a result (its status and diagnosis), not an error.
    """
    options = body or SolveRequest()
    if options.backend is not None and options.backend not in available_backends():
        raise SolverUnavailable(
            f"solver backend {options.backend!r} is not installed here; available: "
            f"{', '.join(available_backends()) or 'none'}"
        )

    refused = await runner.refusals.recall(principal.key_id, scenario_id)
    if refused is not None:
        raise refused

    def enqueue() -> tuple[JobRow, int]:
        # Visible first (404 before 429), then the quota, before the version's document is
        # read and, for a full queue, without the write lock: refusals stay cheap.
        with database.transaction(write=False) as reading:
            repository.get_scenario(reading, principal=principal, scenario_pk=scenario_id)
            systems = repository.scenario_system_ids(reading, scenario_pk=scenario_id)
            check_job_quota(
                reading, principal=principal, systems=systems, settings=settings, serialise=False
            )
        check_job_quota(session, principal=principal, systems=systems, settings=settings)
        row = repository.get_version(
            session, principal=principal, scenario_pk=scenario_id, version=version
        )
        limit = effective_time_limit(
            options.time_limit_s, document_time_limit(row.document), settings.max_solve_time_s
        )
        job = job_rows.create_job(
            session,
            principal=principal,
            version=row,
            backend=options.backend,
            time_limit_s=limit,
            runner_id=runner.runner_id,
        )
        repository.add_audit(
            session,
            principal=principal,
            request_id=request_id,
            action="solve.requested",
            systems=systems,
            scenario_pk=scenario_id,
            version=version,
            job_id=job.id,
            detail={"backend": options.backend, "time_limit_s": limit, "mode": options.mode},
        )
        session.commit()  # the worker must see the job; the request's writes end here
        return job, row.cells

    try:
        job, cells = await run_in_threadpool(enqueue)
    except QueueFull as full:
        runner.refusals.remember(principal.key_id, scenario_id, full)
        raise
    runner.submit(job.id, principal.key_id)
    if options.mode == "auto" and cells <= settings.sync_max_cells:
        await runner.wait(job.id, settings.sync_solve_budget_s)

    def outcome() -> tuple[JobPublic, str | None, str]:
        """The job, its result id and the `SolveOutcome` JSON, built off the event loop."""
        with database.transaction(write=False) as reading:
            current = reading.get(JobRow, job.id)
            assert current is not None
            result = reading.get(ResultRow, current.result_id) if current.result_id else None
            public = job_public(current)
            found = result_public_json(reading, result) if result is not None else "null"
            return (
                public,
                current.result_id,
                f'{{"job":{public.model_dump_json()},"result":{found}}}',
            )

    public, result_id, content = await run_in_threadpool(outcome)
    base = str(request.base_url).rstrip("/") + "/api/v1"
    headers: dict[str, str] = {}
    if public.state.finished:
        status = 200
        if result_id is not None:
            headers["Location"] = f"{base}/results/{result_id}"
    else:
        status = 202
        headers["Location"] = f"{base}/jobs/{job.id}"
        headers["Retry-After"] = "1"
    return Response(content, status_code=status, media_type="application/json", headers=headers)
