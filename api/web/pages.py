"""Workspace pages: sign in and out, scenarios by system, versions, uploads, downloads."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from openpyxl import load_workbook
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from allocator.errors import ScenarioInvalid
from api.deps import DatabaseDep, RequestIdDep, SettingsDep
from api.routers import scenarios as scenario_api
from api.schemas import ScenarioVersionPublic
from api.security import Role, authenticate
from api.storage import repository
from api.storage.tables import ScenarioRow
from api.views import result_summary, version_public
from api.web.common import Me, WebRoute, checked_form, issue_rows, key_names, need, render
from api.web.session import (
    CSRF_FIELD,
    current_session,
    end_session,
    issue_presession,
    presession_id,
    signer_of,
    start_session,
)

router = APIRouter(prefix="/app", route_class=WebRoute, include_in_schema=False)


@dataclass(frozen=True, slots=True)
class ScenarioItem:
    """A scenario as the list shows it."""

    row: ScenarioRow
    systems: list[str]
    versions: list[ScenarioVersionPublic]
    plan: str | None


@router.get("/signin")
def signin_page(request: Request, database: DatabaseDep) -> Response:
    if current_session(request, database) is not None:
        return RedirectResponse("/app", status_code=303)
    response = HTMLResponse("")
    token = issue_presession(request, response)
    page = render(request, "signin.html", me=None, csrf=token, message="")
    page.raw_headers.extend(h for h in response.raw_headers if h[0] == b"set-cookie")
    return page


@router.post("/signin")
async def signin(request: Request, database: DatabaseDep) -> Response:
    form = await request.form()
    pre = presession_id(request)
    token = form.get(CSRF_FIELD)
    if pre is None or not signer_of(request).csrf_ok(
        pre, token if isinstance(token, str) else None
    ):
        return _signin_again(request, 403, "The sign-in form expired: please try again.")
    key = form.get("api_key")
    with database.transaction(write=False) as session:
        principal = authenticate(session, key) if isinstance(key, str) and key else None
    if principal is None:
        return _signin_again(request, 401, "That key is not known, or has been revoked.")
    response = RedirectResponse("/app", status_code=303)
    start_session(request, response, database, principal)
    return response


def _signin_again(request: Request, status: int, message: str) -> Response:
    response = HTMLResponse("")
    token = issue_presession(request, response)
    page = render(request, "signin.html", me=None, csrf=token, message=message, status=status)
    page.raw_headers.extend(h for h in response.raw_headers if h[0] == b"set-cookie")
    return page


@router.post("/signout")
async def signout(request: Request, me: Me, database: DatabaseDep) -> Response:
    await checked_form(request, me)
    response = RedirectResponse("/app/signin", status_code=303)
    end_session(response, database, me)
    return response


@router.get("")
def scenario_list(request: Request, me: Me, database: DatabaseDep) -> Response:
    """The key's scenarios, grouped under each of its systems, newest first."""
    with database.transaction(write=False) as session:
        rows, _ = repository.list_scenarios(
            session, principal=me.principal, page=1, page_size=10_000
        )
        items = []
        for row in rows:
            versions = repository.list_versions(session, principal=me.principal, scenario_pk=row.id)
            approval = repository.current_approval(session, scenario_pk=row.id)
            items.append(
                ScenarioItem(
                    row=row,
                    systems=repository.scenario_system_ids(session, scenario_pk=row.id),
                    versions=[version_public(v) for v in versions],
                    plan=approval.result_id if approval else None,
                )
            )
        who = key_names(session, [v.created_by for item in items for v in item.versions])
    by_system = {
        system: [item for item in items if system in item.systems]
        for system in sorted(me.principal.systems)
    }
    return render(request, "scenarios.html", me=me, by_system=by_system, who=who)


@router.get("/scenarios/{scenario_id}")
def scenario_page(scenario_id: str, request: Request, me: Me, database: DatabaseDep) -> Response:
    with database.transaction(write=False) as session:
        row = repository.get_scenario(session, principal=me.principal, scenario_pk=scenario_id)
        versions = [
            version_public(v)
            for v in repository.list_versions(session, principal=me.principal, scenario_pk=row.id)
        ]
        results = [
            result_summary(session, r)
            for r in repository.list_results(session, principal=me.principal, scenario_pk=row.id)
        ]
        systems = repository.scenario_system_ids(session, scenario_pk=row.id)
        who = key_names(session, [v.created_by for v in versions] + [r.created_by for r in results])
    return render(
        request,
        "scenario.html",
        me=me,
        scenario=row,
        systems=systems,
        versions=versions,
        results=results,
        who=who,
    )


def _headers_of(data: bytes) -> dict[str, dict[str, str]]:
    """Each sheet's header row as {header: column letter}, to locate problems by cell."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # not a readable workbook: its problems say so
        return {}
    out: dict[str, dict[str, str]] = {}
    for sheet in workbook.worksheets:
        first = next(sheet.iter_rows(min_row=1, max_row=1, max_col=200), ())
        out[sheet.title] = {
            str(cell.value).strip(): cell.column_letter
            for cell in first
            if cell.value is not None and hasattr(cell, "column_letter")
        }
    workbook.close()
    return out


async def _upload_of(request: Request, me: Me) -> tuple[str, bytes]:
    """The checked form's file name and bytes (kept to locate problems by cell: the API
    closes the upload once it has read it)."""
    form = await checked_form(request, me)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return "", b""
    data = await upload.read()
    await upload.seek(0)
    return upload.filename or "", data


async def _problems_page(
    request: Request, me: Me, error: ScenarioInvalid, upload: tuple[str, bytes]
) -> Response:
    name, data = upload
    headers = await run_in_threadpool(_headers_of, data) if name.lower().endswith(".xlsx") else {}
    return render(
        request,
        "problems.html",
        me=me,
        status=422,
        detail=error.detail,
        filename=name,
        problems=issue_rows(error.issues, headers),
    )


@router.post("/scenarios")
async def upload_scenario(
    request: Request,
    me: Me,
    settings: SettingsDep,
    database: DatabaseDep,
    request_id: RequestIdDep,
) -> Response:
    """A new scenario from an uploaded workbook or JSON file: stored only if it is valid."""
    upload = await _upload_of(request, me)
    principal = need(me, Role.PLAN)
    try:
        with database.transaction(write=True) as session:
            public = await scenario_api.create_scenario(
                request, Response(), session, settings, principal, request_id
            )
    except ScenarioInvalid as error:
        return await _problems_page(request, me, error, upload)
    return RedirectResponse(f"/app/scenarios/{public.id}?created=1", status_code=303)


@router.post("/scenarios/{scenario_id}/versions")
async def upload_version(
    scenario_id: str,
    request: Request,
    me: Me,
    settings: SettingsDep,
    database: DatabaseDep,
    request_id: RequestIdDep,
) -> Response:
    """A new version: the form carries the version it was based on; a stale one is refused."""
    upload = await _upload_of(request, me)
    principal = need(me, Role.PLAN)
    try:
        with database.transaction(write=True) as session:
            public = await scenario_api.create_version(
                scenario_id,
                request,
                Response(),
                session,
                database,
                settings,
                principal,
                request_id,
            )
    except ScenarioInvalid as error:
        return await _problems_page(request, me, error, upload)
    return RedirectResponse(
        f"/app/scenarios/{scenario_id}?version={public.version}", status_code=303
    )


@router.get("/scenarios/{scenario_id}/versions/{version}/download")
def download(
    scenario_id: str,
    version: int,
    me: Me,
    database: DatabaseDep,
    format: Annotated[Literal["json", "xlsx"], Query()] = "json",
) -> Response:
    with database.transaction(write=False) as session:
        return scenario_api.download_version(scenario_id, version, session, me.principal, format)
