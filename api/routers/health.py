"""Liveness (no key needed), readiness (the database takes a write, migrations applied), metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import SQLAlchemyError

from api.deps import DatabaseDep, Operator, Reader, RunnerDep
from api.errors import NotReady, problem_responses
from api.schemas import Health, Readiness
from api.storage import job_rows
from api.storage.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])

METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/health", summary="Liveness: the process answers")
async def health() -> Health:
    """No key needed, no database touched: the event loop is alive."""
    return Health(status="ok")


@router.get(
    "/ready",
    summary="Readiness: the database takes a write and is migrated",
    responses=problem_responses(401, 403, 503),
)
def ready(database: DatabaseDep, runner: RunnerDep, principal: Reader) -> Readiness:
    """503 while the database cannot take a write: the probe is this server's heartbeat,
    a real write in its own transaction (a read-only file or a full disk fails it)."""
    try:
        with database.transaction() as session:
            job_rows.heartbeat(session, runner_id=runner.runner_id)
    except SQLAlchemyError as error:
        reason = " ".join(str(getattr(error, "orig", None) or error).split())[:200]
        raise NotReady(f"the database cannot take a write: {reason}") from None
    revision = current_revision(database.engine)
    if revision != head_revision():
        raise NotReady(f"the database is at migration {revision}, not {head_revision()}")
    return Readiness(status="ready", database=database.engine.dialect.name, migration=revision)


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Metrics"},
        **problem_responses(401, 403),
    },
)
def metrics(request: Request, operator: Operator) -> Response:
    """Counts across every tenant: for operators (the metrics token) and admin keys only."""
    return Response(request.app.state.metrics.render(), media_type=METRICS_TYPE)
