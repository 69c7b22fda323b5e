"""Workspace pages for the answers about a result: re-verify it, trace a figure, bridge it.

Each page calls the API's own route function with the signed-in key (same tenancy, same
limits, same compute slots), so a page shows exactly what the API answers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.deps import DatabaseDep, RunnerDep, SettingsDep
from api.routers import answers as answer_api
from api.routers import bridges as bridge_api
from api.storage import repository
from api.views import result_summary
from api.web.common import Me, WebRoute, render

router = APIRouter(prefix="/app", route_class=WebRoute, include_in_schema=False)


@router.get("/results/{result_id}/verify")
async def verify_page(
    result_id: str, request: Request, me: Me, database: DatabaseDep, runner: RunnerDep
) -> Response:
    """Re-solve the stored scenario and say whether every published penny is the same."""
    report = await answer_api.verify(result_id, database, me.principal, runner)
    return render(request, "verify.html", me=me, result_id=result_id, report=report)


@router.get("/results/{result_id}/trace")
async def trace_page(
    result_id: str,
    request: Request,
    me: Me,
    database: DatabaseDep,
    runner: RunnerDep,
    figure: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """A form naming a figure, and its derivation once one is named."""
    trace = None
    if figure.strip():
        trace = await answer_api.trace(result_id, database, me.principal, runner, figure)
    return render(request, "trace.html", me=me, result_id=result_id, figure=figure, trace=trace)


@router.get("/results/{result_id}/bridge")
async def bridge_page(
    result_id: str,
    request: Request,
    me: Me,
    database: DatabaseDep,
    runner: RunnerDep,
    settings: SettingsDep,
    to: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Choose another result of the scenario's tenancy; then the waterfall from this one."""
    with database.transaction(write=False) as session:
        row = repository.get_result(session, principal=me.principal, result_id=result_id)
        others = [
            result_summary(session, r)
            for r in repository.list_results(
                session, principal=me.principal, scenario_pk=row.scenario_pk
            )
            if r.id != row.id
        ]
    bridge = None
    if to:
        found = await bridge_api.bridge_results(
            result_id, to, database, me.principal, runner, settings, None, "json"
        )
        assert not isinstance(found, Response)
        bridge = found
    return render(
        request,
        "bridge.html",
        me=me,
        result_id=result_id,
        to=to,
        others=others,
        bridge=bridge,
    )
