"""Scenarios and their immutable versions: submit, list, fetch, download."""

from __future__ import annotations

import io
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from allocator.io.json_io import to_json_text
from api.deps import DatabaseDep, Planner, Reader, RequestIdDep, SessionDep, SettingsDep
from api.errors import BadRequest, PreconditionRequired, problem_responses
from api.jsonpatch import bounded_patch
from api.paging import page_size_of
from api.schemas import (
    Page,
    ResultSummary,
    ScenarioDetail,
    ScenarioPublic,
    ScenarioVersionDetail,
    ScenarioVersionPublic,
)
from api.storage import repository
from api.submissions import VERSION_TAG_PATTERN, parse_version_tag, read_submission
from api.views import (
    result_summary,
    scenario_detail,
    scenario_public,
    version_detail,
    version_public,
)
from models import Scenario

router = APIRouter(
    prefix="/scenarios", tags=["scenarios"], responses=problem_responses(401, 403, 404, 422)
)

SUBMIT_RESPONSES = problem_responses(400, 409, 413, 415, 428)


def _body(*, with_base_version: bool) -> dict[str, Any]:
    """OpenAPI request body: the scenario as JSON, or a .json/.xlsx file upload."""
    form: dict[str, Any] = {
        "file": {"type": "string", "format": "binary", "description": ".json or .xlsx"},
        "comment": {"type": "string", "maxLength": 2000},
    }
    if with_base_version:
        form["base_version"] = {"type": "integer", "minimum": 1}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Scenario"}},
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": form, "required": ["file"]}
                },
            },
        }
    }


def _etag(version: int) -> str:
    return f'"{version}"'


@router.post(
    "",
    status_code=201,
    openapi_extra=_body(with_base_version=False),
    responses=SUBMIT_RESPONSES,
    summary="Submit a new scenario (version 1)",
)
async def create_scenario(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: Planner,
    request_id: RequestIdDep,
    comment: Annotated[str, Query(max_length=2000)] = "",
) -> ScenarioPublic:
    """Submit a scenario as a JSON body or a multipart upload of a ``.json``/``.xlsx`` file.

    Every problem in the document is reported at once (422), located by path and, for a
    workbook, by sheet and row. The scenario belongs to the systems it covers; the key
    must be bound to all of them.
    """
    submission = await read_submission(
        request, settings=settings, principal=principal, comment=comment
    )

    def store() -> ScenarioPublic:
        row, version = repository.create_scenario(
            session,
            principal=principal,
            scenario=submission.scenario,
            source_format=submission.source_format,
            warnings=submission.warnings,
            comment=submission.comment,
        )
        repository.add_audit(
            session,
            principal=principal,
            request_id=request_id,
            action="scenario.created",
            systems=repository.scenario_system_ids(session, scenario_pk=row.id),
            scenario_pk=row.id,
            version=1,
            detail={"content_hash": version.content_hash, "format": submission.source_format},
        )
        return scenario_public(session, row, version)

    public = await run_in_threadpool(store)
    response.headers["Location"] = f"{request.url.path}/{public.id}"
    response.headers["ETag"] = _etag(public.latest_version)
    return public


@router.get("", summary="List the scenarios of the key's systems")
def list_scenarios(
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Page[ScenarioPublic]:
    """Newest first; only scenarios all of whose systems are the key's."""
    size = page_size_of(page_size, settings)
    rows, total = repository.list_scenarios(session, principal=principal, page=page, page_size=size)
    items = [
        scenario_public(
            session,
            row,
            repository.get_version(
                session, principal=principal, scenario_pk=row.id, version=row.latest_version
            ),
        )
        for row in rows
    ]
    return Page[ScenarioPublic](items=items, total=total, page=page, page_size=size)


@router.get("/{scenario_id}", summary="A scenario with its latest version")
def get_scenario(
    scenario_id: str, response: Response, session: SessionDep, principal: Reader
) -> ScenarioDetail:
    row = repository.get_scenario(session, principal=principal, scenario_pk=scenario_id)
    latest = repository.get_version(
        session, principal=principal, scenario_pk=row.id, version=row.latest_version
    )
    response.headers["ETag"] = _etag(row.latest_version)
    return scenario_detail(session, row, latest)


@router.post(
    "/{scenario_id}/versions",
    status_code=201,
    openapi_extra=_body(with_base_version=True),
    responses=SUBMIT_RESPONSES,
    summary="Submit a new version of a scenario",
)
async def create_version(
    scenario_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    principal: Planner,
    request_id: RequestIdDep,
    if_match: Annotated[
        str | None,
        Header(
            pattern=VERSION_TAG_PATTERN,
            description='The version you edited: `"3"`, `W/"3"` or `3` (the ETag you read)',
        ),
    ] = None,
    base_version: Annotated[int | None, Query(ge=1)] = None,
    comment: Annotated[str, Query(max_length=2000)] = "",
) -> ScenarioVersionPublic:
    """Say which version you edited (``If-Match: "3"``, ``?base_version=3`` or a
    ``base_version`` form field): if another version was saved since, this is refused with
    409 and nothing is stored. Without it, 428."""

    def check_visible() -> None:  # before reading the body, and without the write lock
        with database.transaction(write=False) as reading:
            repository.get_scenario(reading, principal=principal, scenario_pk=scenario_id)

    await run_in_threadpool(check_visible)
    submission = await read_submission(
        request, settings=settings, principal=principal, comment=comment
    )
    given = [
        v
        for v in (parse_version_tag(if_match), base_version, submission.base_version)
        if v is not None
    ]
    if not given:
        raise PreconditionRequired(
            "say which version you edited: If-Match header, base_version query parameter "
            "or base_version form field"
        )
    if len(set(given)) > 1:
        raise BadRequest(f"the edited version is given twice, differently: {sorted(set(given))}")

    def store() -> ScenarioVersionPublic:
        row = repository.get_scenario(session, principal=principal, scenario_pk=scenario_id)
        version = repository.add_version(
            session,
            principal=principal,
            row=row,
            base_version=given[0],
            scenario=submission.scenario,
            source_format=submission.source_format,
            warnings=submission.warnings,
            comment=submission.comment,
        )
        previous = repository.get_version(
            session, principal=principal, scenario_pk=row.id, version=given[0]
        )
        change = bounded_patch(json.loads(previous.document), json.loads(version.document))
        repository.add_audit(
            session,
            principal=principal,
            request_id=request_id,
            action="scenario.version_created",
            systems=repository.scenario_system_ids(session, scenario_pk=row.id),
            scenario_pk=row.id,
            version=version.version,
            detail={
                "base_version": given[0],
                "content_hash": version.content_hash,
                "before_hash": previous.content_hash,
                **change,
            },
        )
        return version_public(version)

    public = await run_in_threadpool(store)
    response.headers["Location"] = f"{request.url.path}/{public.version}"
    response.headers["ETag"] = _etag(public.version)
    return public


@router.get("/{scenario_id}/versions", summary="Every version of a scenario")
def list_versions(
    scenario_id: str, session: SessionDep, principal: Reader
) -> list[ScenarioVersionPublic]:
    rows = repository.list_versions(session, principal=principal, scenario_pk=scenario_id)
    return [version_public(row) for row in rows]


@router.get("/{scenario_id}/versions/{version}", summary="One version of a scenario")
def get_version(
    scenario_id: str,
    version: Annotated[int, Path(ge=1, le=1_000_000_000)],
    response: Response,
    session: SessionDep,
    principal: Reader,
) -> ScenarioVersionDetail:
    row = repository.get_version(
        session, principal=principal, scenario_pk=scenario_id, version=version
    )
    response.headers["ETag"] = _etag(row.version)
    return version_detail(row)


DOWNLOAD_TYPES = {
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _workbook_bytes(scenario: Scenario) -> bytes:
    from allocator.io.excel import build_workbook

    buffer = io.BytesIO()
    build_workbook(scenario).save(buffer)
    return buffer.getvalue()


@router.get(
    "/{scenario_id}/versions/{version}/download",
    summary="Download a version as JSON or an Excel workbook",
    response_class=Response,
    responses={
        200: {
            "description": "The scenario file",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Scenario"}},
                DOWNLOAD_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def download_version(
    scenario_id: str,
    version: Annotated[int, Path(ge=1, le=1_000_000_000)],
    session: SessionDep,
    principal: Reader,
    format: Annotated[Literal["json", "xlsx"], Query()] = "json",
) -> Response:
    row = repository.get_version(
        session, principal=principal, scenario_pk=scenario_id, version=version
    )
    scenario = Scenario.model_validate_json(row.document)
    body = _workbook_bytes(scenario) if format == "xlsx" else to_json_text(scenario).encode("utf-8")
    filename = f"{scenario.scenario_id}-v{row.version}.{format}"
    return Response(
        body,
        media_type=DOWNLOAD_TYPES[format],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "ETag": _etag(row.version),
        },
    )


@router.get("/{scenario_id}/results", summary="Results of a scenario's solves")
def list_results(scenario_id: str, session: SessionDep, principal: Reader) -> list[ResultSummary]:
    rows = repository.list_results(session, principal=principal, scenario_pk=scenario_id)
    return [result_summary(session, row) for row in rows]
