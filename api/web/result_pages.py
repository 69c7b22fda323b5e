"""Workspace pages for solving and results: jobs, the allocation, approval, comparison."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from allocator.io.result_export import ResultTable
from api.deps import DatabaseDep, RequestIdDep, RunnerDep, SettingsDep
from api.routers import jobs as job_api
from api.routers import results as result_api
from api.routers import solves as solve_api
from api.schemas import ApproveRequest
from api.security import Role
from api.storage import repository
from api.views import allocation, result_summary
from api.web import charts, figures
from api.web.common import Me, WebRoute, checked_form, key_names, need, render
from models import Scenario

router = APIRouter(prefix="/app", route_class=WebRoute, include_in_schema=False)


@router.post("/scenarios/{scenario_id}/versions/{version}/solve")
async def solve(
    scenario_id: str,
    version: int,
    request: Request,
    me: Me,
    database: DatabaseDep,
    settings: SettingsDep,
    runner: RunnerDep,
    request_id: RequestIdDep,
) -> Response:
    """Solve as the API does: a small scenario answers at once, a large one becomes a job."""
    await checked_form(request, me)
    principal = need(me, Role.PLAN)
    with database.transaction(write=True) as session:
        answer = await solve_api.solve_version(
            scenario_id,
            version,
            request,
            session,
            database,
            settings,
            runner,
            principal,
            request_id,
        )
    outcome = json.loads(bytes(answer.body))
    result = outcome.get("result")
    if result is not None:
        return RedirectResponse(f"/app/results/{result['id']}", status_code=303)
    return RedirectResponse(f"/app/jobs/{outcome['job']['id']}", status_code=303)


@router.get("/jobs/{job_id}")
def job_page(job_id: str, request: Request, me: Me, database: DatabaseDep) -> Response:
    """A job's progress; the page reloads itself until the job finishes."""
    with database.transaction(write=False) as session:
        job = job_api.get_job(job_id, session, me.principal)
    if job.state.finished and job.result_id:
        return RedirectResponse(f"/app/results/{job.result_id}", status_code=303)
    return render(request, "job.html", me=me, job=job)


@router.post("/jobs/{job_id}/cancel")
async def cancel(
    job_id: str,
    request: Request,
    me: Me,
    database: DatabaseDep,
    runner: RunnerDep,
    request_id: RequestIdDep,
) -> Response:
    await checked_form(request, me)
    principal = need(me, Role.PLAN)
    with database.transaction(write=True) as session:
        job_api.cancel_job(job_id, Response(), session, runner, principal, request_id)
    return RedirectResponse(f"/app/jobs/{job_id}", status_code=303)


@router.get("/results/{result_id}")
def result_page(result_id: str, request: Request, me: Me, database: DatabaseDep) -> Response:
    """The allocation: headline figures, money flows, distance from target, providers,
    binding rules and the reconciliation certificate."""
    started = time.perf_counter()
    with database.transaction(write=False) as session:
        row = repository.get_result(session, principal=me.principal, result_id=result_id)
        summary = result_summary(session, row)
        version = repository.get_version(
            session, principal=me.principal, scenario_pk=row.scenario_pk, version=row.version
        )
        others = [
            result_summary(session, r)
            for r in repository.list_results(
                session, principal=me.principal, scenario_pk=row.scenario_pk
            )
            if r.id != row.id
        ]
        approval = repository.current_approval(session, scenario_pk=row.scenario_pk)
        result, scenario = allocation(row), Scenario.model_validate_json(version.document)
        who = key_names(session, {row.created_by, approval.approved_by if approval else None})
    context: dict[str, Any] = {
        "summary": summary,
        "result": result,
        "others": others,
        "approval": approval,
        "scenario": scenario,
        "who": who,
    }
    if result.feasible:
        sankey, flows = figures.sankey_chart(result)
        checks, problems = figures.reconciliation(scenario, result)
        context |= {
            "sankey": sankey,
            "flows": flows,
            "distance": figures.distance_chart(result),
            "provider_chart": figures.provider_chart(result),
            "binding": [
                (r, figures.rule_words(r)) for r in result.rules if r.binding or r.breach_pence
            ],
            "checks": checks,
            "problems": problems,
        }
    context["built_ms"] = (time.perf_counter() - started) * 1000
    return render(request, "result.html", me=me, **context)


@router.post("/results/{result_id}/approve")
async def approve(
    result_id: str, request: Request, me: Me, database: DatabaseDep, request_id: RequestIdDep
) -> Response:
    form = await checked_form(request, me)
    principal = need(me, Role.APPROVE)
    note = form.get("note")
    options = ApproveRequest(
        note=(note if isinstance(note, str) else "")[:2000],
        supersede=form.get("supersede") == "yes",
    )
    with database.transaction(write=True) as session:
        result_api.approve_result(result_id, session, principal, request_id, options)
    return RedirectResponse(f"/app/results/{result_id}?approved=1", status_code=303)


@router.get("/results/{result_id}/export")
def export(
    result_id: str,
    me: Me,
    database: DatabaseDep,
    format: Annotated[Literal["csv", "xlsx", "json"], Query()] = "xlsx",
    table: Annotated[ResultTable, Query()] = "allocations",
) -> Response:
    with database.transaction(write=False) as session:
        return result_api.export_result(result_id, session, me.principal, format, table)


CONFIDENCES = (0.8, 0.9, 0.95, 0.99)


@router.get("/results/{result_id}/risk")
async def risk_page(
    result_id: str,
    request: Request,
    me: Me,
    database: DatabaseDep,
    settings: SettingsDep,
    runner: RunnerDep,
    confidence: Annotated[float, Query(ge=0.5, le=0.999)] = 0.95,
) -> Response:
    """Outturn risk of the allocation under its risk-share agreements (seeded, 10,000
    draws, as `allocator risk`): per provider and for the pool, and the reserve needed at
    the chosen confidence against the reserve held."""
    risk = await result_api.get_risk(
        result_id, database, settings, runner, me.principal, 10_000, 1, 0.95, confidence, "json"
    )
    assert not isinstance(risk, Response)
    report = risk.report
    with database.transaction(write=False) as session:
        result = allocation(
            repository.get_result(session, principal=me.principal, result_id=result_id)
        )
    names = {p.provider_id: p.name for p in result.providers}
    reserve = report.pool.reserve
    chart = charts.histogram(
        report.pool.histogram.bin_edges_pence,
        report.pool.histogram.counts,
        title="The pool's call on the reserve over 10,000 simulated outturns",
        marks=[("reserve held", reserve.reserve_pence), ("needed", reserve.reserve_needed_pence)],
    )
    return render(
        request,
        "risk.html",
        me=me,
        result_id=result_id,
        report=report,
        names=names,
        chart=chart,
        confidence=confidence,
        confidences=CONFIDENCES,
    )


@router.get("/compare")
def compare(
    request: Request,
    me: Me,
    database: DatabaseDep,
    a: Annotated[str, Query(max_length=64)],
    b: Annotated[str, Query(max_length=64)],
) -> Response:
    """Two results side by side: changes by provider, place and segment, rules that started
    or stopped binding, and a waterfall from one total to the other."""
    with database.transaction(write=False) as session:
        public = result_api.comparison_public(session, me.principal, a, b)
    comparison = public.comparison
    levels = {
        level: [line for line in comparison.lines if line.level == level]
        for level in ("provider", "place", "neighbourhood", "segment", "funder")
    }
    return render(
        request,
        "compare.html",
        me=me,
        a=public.a,
        b=public.b,
        comparison=comparison,
        levels=levels,
        waterfall=figures.comparison_waterfall(comparison),
    )
