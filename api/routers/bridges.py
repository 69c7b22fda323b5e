"""The bridge between two stored results: A's inputs switched to B's one group at a time.

A bridge is one solve per changed input group (and as many again for the reversed order
that measures how much the order matters), so it runs in a worker thread, one of the
runner's compute slots at a time, and only for scenarios small enough to be solved within
a request (``sync_max_cells``); larger ones are refused (413) with the CLI to use instead.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from allocator.errors import LimitExceeded
from allocator.explain.bridge import GROUPS, OTHER, Bridge, bridge
from allocator.io.bridge_export import bridge_workbook
from api.deps import DatabaseDep, Reader, RunnerDep, SettingsDep
from api.errors import problem_responses
from api.routers.results import XLSX
from api.security import Principal
from api.storage import repository
from api.storage.db import Database
from models import Scenario

router = APIRouter(
    prefix="/results", tags=["results"], responses=problem_responses(401, 403, 404, 413, 422)
)


def _scenarios(
    database: Database, principal: Principal, a: str, b: str, max_cells: int
) -> tuple[Scenario, Scenario]:
    """The stored scenario versions results ``a`` and ``b`` were solved from."""
    out = []
    with database.transaction(write=False) as session:
        for result_id in (a, b):
            row = repository.get_result(session, principal=principal, result_id=result_id)
            version = repository.get_version(
                session, principal=principal, scenario_pk=row.scenario_pk, version=row.version
            )
            if version.cells > max_cells:
                raise LimitExceeded(
                    f"result {result_id}'s scenario has {version.cells:,} cells; a bridge is "
                    f"built in the request up to {max_cells:,} (use `allocator bridge A B`)"
                )
            out.append(Scenario.model_validate_json(version.document))
    return out[0], out[1]


@router.post(
    "/{a}/bridge/{b}",
    summary="The bridge from result A to result B, step by input group",
    response_model=Bridge,
    responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def bridge_results(
    a: str,
    b: str,
    database: DatabaseDep,
    principal: Reader,
    runner: RunnerDep,
    settings: SettingsDep,
    order: Annotated[
        list[str] | None,
        Query(
            description="Groups to switch first, in order (repeat); the rest follow: "
            + ", ".join([*GROUPS, OTHER]),
            max_length=len(GROUPS) + 1,
        ),
    ] = None,
    format: Annotated[Literal["json", "xlsx"], Query()] = "json",
) -> Response | Bridge:
    """From A's stored scenario to B's, re-solving after each group of inputs switched.
    For every provider, place and segment the steps add, to the penny, to the total change;
    each figure names the step that moved it most, and ``order_spread`` gives, for the
    largest steps, the effect under the stated and the reversed order. An unknown group
    or a step with no allocation is 422."""
    scenario_a, scenario_b = await run_in_threadpool(
        _scenarios, database, principal, a, b, settings.sync_max_cells
    )
    async with runner.compute_slots:
        result = await run_in_threadpool(bridge, scenario_a, scenario_b, order=order or ())
    if format == "json":
        return result
    body = await run_in_threadpool(bridge_workbook, result)
    name = f"bridge-{a}-{b}.xlsx"
    return Response(
        body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
