"""Answers about one stored result: re-verify it by re-solving its stored scenario.

The scenario is the stored, content-hashed version the result was solved from; the
re-solve runs in a worker thread, one of the runner's compute slots at a time.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from allocator.explain.verify import VerifyReport, verify_result
from api.deps import DatabaseDep, Reader, RunnerDep
from api.errors import problem_responses
from api.storage import repository
from api.views import allocation
from models import Scenario
from models.results import AllocationResult

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

    def load() -> tuple[AllocationResult, Scenario]:
        with database.transaction(write=False) as session:
            row = repository.get_result(session, principal=principal, result_id=result_id)
            version = repository.get_version(
                session, principal=principal, scenario_pk=row.scenario_pk, version=row.version
            )
            result, document = allocation(row), version.document
        return result, Scenario.model_validate_json(document)

    published, scenario = await run_in_threadpool(load)
    async with runner.compute_slots:
        return await run_in_threadpool(verify_result, published, scenario)
