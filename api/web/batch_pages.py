"""Workspace pages for batches: submit a sweep over a scenario version, follow it live,
read its result tables, cancel or resume it, download its tables as CSV.

Every page calls the API's own batch routes (`api.routers.batches`) with the session's
principal, so roles and systems are checked exactly as for an API client.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from allocator.errors import Issue
from api.batches import base_document
from api.deps import DatabaseDep, RequestIdDep, RunnerDep, SettingsDep
from api.errors import InvalidRequest
from api.routers import batches as batch_api
from api.schemas import BatchCreate, BatchPublic, BatchRunPublic
from api.security import Role
from api.storage import batch_rows
from api.storage.tables import BatchRow
from api.views import batch_run_public
from api.web.common import Me, WebRoute, checked_form, key_names, need, render
from models import Scenario

router = APIRouter(prefix="/app", route_class=WebRoute, include_in_schema=False)

SHOWN_RUNS = 500  # runs shown on the page; the CSV downloads have every finished run
SPEC_KEYS = ("changes", "grid", "runs", "monte_carlo", "options", "description")


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def pot_growth_values(text: str) -> list[float]:
    """'-1, 0, 1.5' (per cent) as shares [-0.01, 0.0, 0.015]; located errors otherwise."""
    values: list[float] = []
    for position, part in enumerate(p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        try:
            values.append(round(float(part.rstrip("%")) / 100, 9))
        except ValueError:
            raise InvalidRequest(
                "the pot growth values are not numbers",
                [Issue(("pot_growth", position), f"{part!r} is not a percentage")],
            ) from None
    return values


def batch_body(form: FormData, scenario_id: str, version: int) -> BatchCreate:
    """The batch the form asks for: a spec pasted as JSON, else a sweep of pot growth."""
    base = {"scenario_id": scenario_id, "version": version}
    name = _text(form, "name")[:200]
    pasted = _text(form, "spec")
    if pasted:
        try:
            given = json.loads(pasted)
        except json.JSONDecodeError as error:
            raise InvalidRequest(
                "the batch spec is not JSON",
                [Issue(("spec",), f"line {error.lineno}, column {error.colno}: {error.msg}")],
            ) from None
        if not isinstance(given, dict):
            raise InvalidRequest("the batch spec must be a JSON object")
        fields: dict[str, Any] = {k: v for k, v in given.items() if k in SPEC_KEYS}
        fields["name"] = name or str(given.get("name", ""))[:200]
    else:
        values = pot_growth_values(_text(form, "pot_growth"))
        if not values:
            raise InvalidRequest(
                "give pot growth values to sweep, or paste a batch spec",
                [Issue(("pot_growth",), "e.g. -1, 0, 1, 2 (per cent)")],
            )
        axis = {"name": "pot_growth", "change": {"kind": "pot_growth"}, "values": values}
        fields = {"name": name or "pot growth sweep", "grid": [axis]}
    try:
        return BatchCreate.model_validate({**fields, "base": base})
    except ValidationError as error:
        issues = [Issue(("spec", *e["loc"]), e["msg"], code=e["type"]) for e in error.errors()]
        raise InvalidRequest(f"the batch spec has {len(issues)} problem(s)", issues) from None


@router.post("/scenarios/{scenario_id}/versions/{version}/batch")
async def submit(
    scenario_id: str,
    version: int,
    request: Request,
    me: Me,
    database: DatabaseDep,
    settings: SettingsDep,
    runner: RunnerDep,
    request_id: RequestIdDep,
) -> Response:
    form = await checked_form(request, me)
    principal = need(me, Role.PLAN)
    body = batch_body(form, scenario_id, version)
    with database.transaction(write=True) as session:
        public = await batch_api.create_batch(
            body, request, Response(), session, database, settings, runner, principal, request_id
        )
    return RedirectResponse(f"/app/batches/{public.id}", status_code=303)


@router.get("/batches")
def batch_list(request: Request, me: Me, database: DatabaseDep, settings: SettingsDep) -> Response:
    with database.transaction(write=False) as session:
        page = batch_api.list_batches(session, settings, me.principal, 1, 200)
        who = key_names(session, [b.created_by for b in page.items])
    return render(request, "batches.html", me=me, batches=page.items, total=page.total, who=who)


def pivot(
    runs: Sequence[BatchRunPublic], level: Literal["providers", "places"]
) -> tuple[list[str], list[tuple[BatchRunPublic, dict[str, Any]]]]:
    """Units as columns, one row per finished run: provider budgets or place distances."""
    columns: list[str] = []
    rows = []
    for run in runs:
        if level == "providers":
            cells: dict[str, Any] = {p.provider_id: p.budget_pence for p in run.providers}
        else:
            cells = {u.place_id: u.distance_from_target for u in run.places}
        columns += [c for c in cells if c not in columns]
        rows.append((run, cells))
    return columns, rows


def unit_names(document: str) -> dict[str, str]:
    """Place and provider names of the batch's base scenario, by id (for the headings)."""
    scenario = Scenario.model_validate_json(document)
    names = {p.place_id: p.name for p in scenario.places}
    return names | {p.provider_id: p.name for p in scenario.providers}


def run_label(params: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in params.items()) or "base"


@router.get("/batches/{batch_id}")
def batch_page(batch_id: str, request: Request, me: Me, database: DatabaseDep) -> Response:
    """A batch's progress (the page reloads itself until it finishes) and its tables."""
    with database.transaction(write=False) as session:
        batch: BatchPublic = batch_api.get_batch(batch_id, session, me.principal)
        rows, total = batch_rows.list_runs(
            session, batch_id=batch.id, state="all", page=1, page_size=SHOWN_RUNS
        )
        runs = [batch_run_public(r) for r in rows]
        who = key_names(session, [batch.created_by])
        base = session.get(BatchRow, batch.id)
        document = base_document(session, base) if base is not None else "{}"
    finished = [r for r in runs if r.status != "pending"]
    return render(
        request,
        "batch.html",
        me=me,
        batch=batch,
        runs=runs,
        runs_total=total,
        shown=SHOWN_RUNS,
        finished=finished,
        providers=pivot(finished, "providers"),
        places=pivot(finished, "places"),
        label=run_label,
        names=unit_names(document),
        who=who,
    )


@router.post("/batches/{batch_id}/{action}")
async def change(
    batch_id: str,
    action: Literal["cancel", "resume"],
    request: Request,
    me: Me,
    database: DatabaseDep,
    settings: SettingsDep,
    runner: RunnerDep,
    request_id: RequestIdDep,
) -> Response:
    await checked_form(request, me)
    principal = need(me, Role.PLAN)
    with database.transaction(write=True) as session:
        if action == "cancel":
            batch_api.cancel_batch(batch_id, Response(), session, runner, principal, request_id)
        else:
            batch_api.resume_batch(
                batch_id, request, Response(), session, settings, runner, principal, request_id
            )
    return RedirectResponse(f"/app/batches/{batch_id}", status_code=303)


@router.get("/batches/{batch_id}/export")
def export(
    batch_id: str,
    me: Me,
    database: DatabaseDep,
    settings: SettingsDep,
    table: Annotated[batch_api.TableName, Query()] = "runs",
) -> Response:
    """One of the tidy tables ``allocator batch`` writes, of every run finished so far."""
    with database.transaction(write=False) as session:
        return batch_api.list_batch_runs(
            batch_id, session, settings, me.principal, "finished", 1, None, "csv", table
        )
