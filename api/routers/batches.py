"""Batches: submit a spec over a stored or inline scenario, follow it, read its runs, cancel.

A batch runs as a job (`api.batches`): submitting answers 202 at once; progress and the
finished runs are read from the database while it runs. The spec is the one
``allocator batch`` reads (`allocator.batch.BatchSpec`), with its base given as a stored
scenario version of the key's systems or as a scenario document.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from allocator.batch import BatchSpec, Run, RunRecord, build_tables, expand_runs
from allocator.io.cells import csv_bytes
from api.batch_requests import BatchBase, batch_spec, inline_base, stored_base
from api.deps import (
    DatabaseDep,
    Planner,
    Reader,
    RequestIdDep,
    RunnerDep,
    SessionDep,
    SettingsDep,
)
from api.errors import StateConflict, problem_responses
from api.paging import page_size_of
from api.quotas import check_batch_quota
from api.schemas import (
    BatchCreate,
    BatchPublic,
    BatchRunPublic,
    JobState,
    Page,
    ScenarioRef,
)
from api.security import Principal
from api.storage import batch_rows, repository
from api.storage.tables import BatchRow, utcnow
from api.views import batch_public, batch_run_public

router = APIRouter(
    prefix="/batches", tags=["batches"], responses=problem_responses(401, 403, 404, 422)
)


TableName = Literal["runs", "providers", "places"]


@router.post(
    "",
    status_code=202,
    responses=problem_responses(413, 429, 503),
    summary="Submit a batch (sweep, list of what-ifs or Monte Carlo) over one scenario",
)
async def create_batch(
    body: BatchCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    runner: RunnerDep,
    principal: Planner,
    request_id: RequestIdDep,
) -> BatchPublic:
    """The spec ``allocator batch`` reads (see docs/batch.md), its ``base`` being
    ``{"scenario_id", "version"}`` of a stored scenario (404 if not the key's) or a scenario
    document (checked as a submission is). Answers 202 with the queued batch; follow it
    at ``Location``. At most ``max_batch_runs`` runs; ``options.time_limit_s`` (per solver
    stage) defaults to the scenario's own, both capped at ``max_solve_time_s``."""

    def prepare() -> tuple[BatchBase, BatchSpec, list[Run]]:
        """Resolve, check and expand, before the write transaction (SQLite's lock) starts."""
        if isinstance(body.base, ScenarioRef):
            with database.transaction(write=False) as reading:
                base = stored_base(reading, principal, body.base)
        else:
            base = inline_base(body.base, principal, settings)
        spec = batch_spec(body, base, settings)
        return base, spec, expand_runs(spec, base.content_hash)

    base, spec, runs = await run_in_threadpool(prepare)

    def store() -> BatchPublic:
        check_batch_quota(session, principal=principal, systems=base.systems, settings=settings)
        row = batch_rows.create_batch(
            session,
            principal=principal,
            name=spec.name,
            scenario_pk=base.scenario_pk,
            version=base.version,
            base_hash=base.content_hash,
            base_document=base.document,
            spec=spec.model_dump_json(exclude={"base"}),
            systems=base.systems,
            runs=runs,
            runner_id=runner.runner_id,
        )
        repository.add_audit(
            session,
            principal=principal,
            request_id=request_id,
            action="batch.submitted",
            systems=base.systems,
            scenario_pk=base.scenario_pk,
            version=base.version,
            detail={
                "batch_id": row.id,
                "name": spec.name,
                "runs": len(runs),
                "base_hash": base.content_hash,
                "inline_base": base.document is not None,
            },
        )
        public = batch_public(session, row)
        session.commit()  # the worker must see the batch; the request's writes end here
        return public

    public = await run_in_threadpool(store)
    runner.submit_batch(public.id, principal.key_id)
    response.headers["Location"] = f"{request.url.path}/{public.id}"
    return public


@router.get("", summary="The batches of the key's systems, newest first")
def list_batches(
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Page[BatchPublic]:
    size = page_size_of(page_size, settings)
    rows, total = batch_rows.list_batches(session, principal=principal, page=page, page_size=size)
    items = [batch_public(session, row) for row in rows]
    return Page[BatchPublic](items=items, total=total, page=page, page_size=size)


@router.get("/{batch_id}", summary="A batch's state, progress and timings")
def get_batch(batch_id: str, session: SessionDep, principal: Reader) -> BatchPublic:
    """``queued`` → ``running`` → ``succeeded`` (every run recorded, whatever its status),
    ``failed`` (see ``error``; finished runs are kept) or ``cancelled``."""
    return batch_public(
        session, batch_rows.get_batch(session, principal=principal, batch_id=batch_id)
    )


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The runs: JSON pages, or one CSV table of every finished run",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/{batch_id}/runs",
    response_model=Page[BatchRunPublic],
    responses=CSV_RESPONSE,
    summary="A batch's runs, with their results as they finish",
)
def list_batch_runs(
    batch_id: str,
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
    state: Annotated[
        Literal["finished", "pending", "all"], Query(description="Which runs (JSON only).")
    ] = "finished",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    table: Annotated[TableName, Query(description="CSV only: which table.")] = "providers",
) -> Response:
    """JSON: a page of runs in spec order, each with its parameters, status and reason
    and, once finished, every provider's budget and place's allocation in pence. CSV: one
    of the tidy tables ``allocator batch`` writes (``runs``, ``providers``, ``places``), of
    every run finished so far, exactly as the CLI writes it."""
    row = batch_rows.get_batch(session, principal=principal, batch_id=batch_id)
    if format == "csv":
        return _csv(session, row, table)
    size = page_size_of(page_size, settings)
    rows, total = batch_rows.list_runs(
        session, batch_id=row.id, state=state, page=page, page_size=size
    )
    body = Page[BatchRunPublic](
        items=[batch_run_public(run) for run in rows], total=total, page=page, page_size=size
    )
    return Response(body.model_dump_json(), media_type="application/json")


def _csv(session: Session, row: BatchRow, table: TableName) -> Response:
    finished = batch_rows.finished_runs(session, batch_id=row.id)
    runs = [Run(r.run_index, r.run_id, json.loads(r.params), ()) for r in finished]
    records = {
        r.run_id: RunRecord.model_validate_json(r.record) for r in finished if r.record is not None
    }
    frame = build_tables(runs, records)[table]
    name = f"batch-{row.id}-{table}.csv"
    return Response(
        csv_bytes(frame),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


CHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": BatchPublic, "description": "Running: being stopped, or queued again"},
    **problem_responses(409, 503),
}


@router.post("/{batch_id}/cancel", responses=CHANGE_RESPONSES, summary="Cancel a batch")
def cancel_batch(
    batch_id: str,
    response: Response,
    session: SessionDep,
    runner: RunnerDep,
    principal: Planner,
    request_id: RequestIdDep,
) -> BatchPublic:
    """A queued batch is cancelled at once (200); a running one is stopped (202, poll it):
    its process is killed, the runs it finished are kept, the one in flight is dropped.
    A cancelled batch can be resumed."""
    row = batch_rows.get_batch(session, principal=principal, batch_id=batch_id)
    if JobState(row.state).finished:
        raise StateConflict(f"batch {batch_id} has already finished ({row.state})")
    row.cancel_requested = True
    if row.state == JobState.QUEUED:
        row.state, row.finished_at = "cancelled", utcnow()
        response.status_code = 200
    else:
        response.status_code = 202  # the runner kills the process and marks it cancelled
    _audit(session, principal, request_id, row, "batch.cancel_requested")
    session.flush()
    public = batch_public(session, row)
    runner.cancel_threadsafe(batch_id)
    return public


@router.post(
    "/{batch_id}/resume",
    status_code=202,
    responses={**CHANGE_RESPONSES, **problem_responses(429)},
    summary="Resume a failed or cancelled batch",
)
def resume_batch(
    batch_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    runner: RunnerDep,
    principal: Planner,
    request_id: RequestIdDep,
) -> BatchPublic:
    """Queue it again: only the runs it has not finished are run (e.g. after a cancel, a
    failure, or ``interrupted by server restart``)."""
    row = batch_rows.get_batch(session, principal=principal, batch_id=batch_id)
    check_batch_quota(
        session,
        principal=principal,
        systems=batch_rows.batch_system_ids(session, batch_id=row.id),
        settings=settings,
    )
    if not batch_rows.requeue_batch(session, row=row, runner_id=runner.runner_id):
        raise StateConflict(
            f"batch {batch_id} is {row.state}: only failed or cancelled batches resume"
        )
    _audit(session, principal, request_id, row, "batch.resumed")
    public = batch_public(session, row)
    session.commit()
    runner.submit_batch(row.id, principal.key_id)
    response.headers["Location"] = str(request.url.path).rsplit("/", 1)[0]
    return public


def _audit(
    session: Session, principal: Principal, request_id: str, row: BatchRow, action: str
) -> None:
    repository.add_audit(
        session,
        principal=principal,
        request_id=request_id,
        action=action,
        systems=batch_rows.batch_system_ids(session, batch_id=row.id),
        scenario_pk=row.scenario_pk,
        version=row.version,
        detail={"batch_id": row.id, "state": row.state, "runs_done": row.runs_done},
    )
