"""Liveness (no key needed), readiness (the database answers, migrations applied), metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

from api.deps import DatabaseDep, Operator, Reader
from api.errors import NotReady, problem_responses
from api.schemas import Health, Readiness
from api.storage.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])

METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/health", summary="Liveness: the process answers")
async def health() -> Health:
    """No key needed, no database touched: the event loop is alive."""
    return Health(status="ok")


@router.get(
    "/ready",
    summary="Readiness: the database answers and is migrated",
    responses=problem_responses(401, 403, 503),
)
def ready(database: DatabaseDep, principal: Reader) -> Readiness:
    with database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
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
