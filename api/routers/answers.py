"""Answers about one stored result: re-verify it, trace one of its figures.

The scenario is the stored, content-hashed version the result was solved from; the
re-solve runs in a worker thread, one of the runner's compute slots at a time.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from allocator.explain.trace import Trace, trace_figure
from allocator.explain.verify import VerifyReport, verify_result
from api.deps import DatabaseDep, Reader, RunnerDep
from api.errors import StateConflict, problem_responses
from api.security import Principal
from api.storage import repository
from api.storage.db import Database
from api.views import allocation
from models import Scenario
from models.results import AllocationResult


def _load(
    database: Database, principal: Principal, result_id: str
) -> tuple[AllocationResult, Scenario]:
    """The stored result and the stored scenario version it was solved from."""
    with database.transaction(write=False) as session:
        row = repository.get_result(session, principal=principal, result_id=result_id)
        version = repository.get_version(
            session, principal=principal, scenario_pk=row.scenario_pk, version=row.version
        )
        result, document = allocation(row), version.document
    return result, Scenario.model_validate_json(document)


router = APIRouter(prefix="/results", tags=["results"], responses=problem_responses(401, 403, 404))


@router.post(
    "/{result_id}/verify",
    summary="Re-solve a result's stored scenario and compare, to the penny",
)
async def verify(
    result_id: str, database: DatabaseDep, principal: Reader, runner: RunnerDep
) -> VerifyReport:
    """Answers ``identical`` (every published figure the same penny), ``same optimum,
    different tie`` (every stage optimum agrees, the choice among equally good allocations
    differs) or ``different`` (with what differs), with the software and solver versions
    of the re-solve."""

    published, scenario = await run_in_threadpool(_load, database, principal, result_id)
    async with runner.compute_slots:
        return await run_in_threadpool(verify_result, published, scenario)


@router.get("/{result_id}/trace", summary="The derivation of one published figure")
async def trace(
    result_id: str,
    database: DatabaseDep,
    principal: Reader,
    runner: RunnerDep,
    figure: Annotated[
        str,
        Query(
            description="'provider ID', 'place ID' (ids or names), 'neighbourhood ID', "
            "'cell PROVIDER NEIGHBOURHOOD SEGMENT' or 'flow FUNDER PROVIDER SEGMENT'.",
            max_length=200,
        ),
    ],
) -> Trace:
    """Its parts (adding to it exactly), the fair-share target and distance from it, the
    binding rules on it and their prices, the stage that fixed it (by re-solves) and the
    pennies rounding moved. An unknown figure is 422; an infeasible result 409."""
    published, scenario = await run_in_threadpool(_load, database, principal, result_id)
    if not published.feasible:
        raise StateConflict(f"result {result_id} is {published.status}: it has no figures")
    async with runner.compute_slots:
        return await run_in_threadpool(trace_figure, published, scenario, figure)
