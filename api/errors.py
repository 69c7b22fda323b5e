"""The only mapping from errors to HTTP: RFC 9457 ``application/problem+json`` everywhere.

Domain code raises `AllocatorError` subclasses; this module renders them (and FastAPI's
validation errors, HTTP errors and anything unexpected) the same way: ``type``, ``title``,
``status``, ``detail``, ``instance`` (the request path), ``request_id`` and, for input
problems, ``errors`` listing every located issue (``loc``, ``message``, ``sheet``, ``row``).
Unexpected exceptions become a 500 with the request id; the traceback goes only to the log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from allocator.errors import (
    AllocatorError,
    Issue,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    ScenarioInvalid,
    SolverFailed,
    SolverUnavailable,
    VersionConflict,
    cell_address,
)
from allocator.io.read_limits import IssueSummary, summarise_issues

log = logging.getLogger("api.errors")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:allocator:problem:"


class AuthenticationRequired(AllocatorError):
    code = "unauthenticated"
    title = "An API key is required"


class PreconditionRequired(AllocatorError):
    code = "precondition-required"
    title = "Say which version you edited"


class StateConflict(AllocatorError):
    code = "conflict"
    title = "Not possible in the current state"


class SystemsChanged(StateConflict):
    code = "systems-changed"
    title = "A scenario's systems are fixed at creation"


class QueueFull(AllocatorError):
    """Too many queued and running jobs or batches for the key or a system (429)."""

    code = "queue-full"
    title = "Too much work in progress"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class UnsupportedMediaType(AllocatorError):
    code = "unsupported-media-type"
    title = "Unsupported content type"


class BadRequest(AllocatorError):
    code = "bad-request"
    title = "Bad request"


class NotReady(AllocatorError):
    code = "not-ready"
    title = "Not ready"


class InvalidRequest(AllocatorError):
    code = "request-invalid"
    title = "The request is not valid"


STATUS: dict[type[AllocatorError], int] = {
    ScenarioInvalid: 422,
    NotFound: 404,
    VersionConflict: 409,
    StateConflict: 409,
    PermissionDenied: 403,
    AuthenticationRequired: 401,
    LimitExceeded: 413,
    PreconditionRequired: 428,
    UnsupportedMediaType: 415,
    BadRequest: 400,
    InvalidRequest: 422,
    NotReady: 503,
    QueueFull: 429,
}


class ProblemIssue(BaseModel):
    loc: list[str | int] = Field(description="Path inside the document or request.")
    message: str
    sheet: str | None = None
    row: int | None = None
    cell: str | None = Field(
        default=None, description="The workbook cell as finance staff cite it: Funders!D3."
    )
    field: str | None = Field(default=None, description="The field that cell holds.")
    code: str = "invalid"


class Problem(BaseModel):
    """RFC 9457 problem details, with the request id and located issues as extensions."""

    type: str = Field(description="A URN naming the kind of problem.")
    title: str
    status: int
    detail: str = ""
    instance: str = Field(default="", description="The request path.")
    request_id: str = ""
    errors: list[ProblemIssue] = Field(default_factory=list)
    errors_total: int | None = Field(
        default=None,
        description="Present when ``errors`` lists only the first issues: how many there are.",
    )
    error_counts: dict[str, int] | None = Field(
        default=None, description="With ``errors_total``: every issue counted by its code."
    )


def status_of(error: AllocatorError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 422


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str = "",
    issues: Sequence[ProblemIssue] = (),
    headers: dict[str, str] | None = None,
    summary: IssueSummary | None = None,
) -> JSONResponse:
    body = Problem(
        type=TYPE_PREFIX + code,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=request_id_of(request),
        errors=list(issues),
    )
    if summary is not None and summary.truncated:
        body.errors_total, body.error_counts = summary.total, summary.counts
    content = body.model_dump(mode="json")
    for extra in ("errors_total", "error_counts"):
        if content[extra] is None:
            del content[extra]
    return JSONResponse(content, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def issue_limit(request: Request) -> int:
    """How many issues one answer lists (the app's settings; 300 without them)."""
    settings = getattr(request.app.state, "settings", None)
    return int(getattr(settings, "max_issues_reported", 300))


def issues_to_problem(issues: Sequence[Issue]) -> list[ProblemIssue]:
    return [
        ProblemIssue(
            loc=list(issue.loc),
            message=issue.message,
            sheet=issue.sheet,
            row=issue.row,
            cell=None
            if issue.sheet is None or not issue.row
            else cell_address(issue.sheet, issue.column, issue.row),
            field=issue.field,
            code=issue.code,
        )
        for issue in issues
    ]


async def _allocator_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AllocatorError)
    status = status_of(exc)
    record_denied = getattr(request.app.state, "record_denied", None)
    if status in (401, 403) and record_denied is not None:
        try:
            await run_in_threadpool(record_denied, request, status, exc.detail)
        except Exception:  # the refusal stands even when it cannot be recorded
            log.warning("could not record a refused request", exc_info=True)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, QueueFull):
        headers = {"Retry-After": str(exc.retry_after_s)}
    summary = summarise_issues(exc.issues, issue_limit(request))
    return problem_response(
        request,
        status=status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        issues=issues_to_problem(summary.shown),
        headers=headers,
        summary=summary,
    )


def _loc(parts: Sequence[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in parts]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = [
        ProblemIssue(
            loc=_loc(error.get("loc", ())),
            message=str(error.get("msg", "")),
            code=str(error.get("type", "invalid")),
        )
        for error in exc.errors()
    ]
    return problem_response(
        request,
        status=422,
        code="request-invalid",
        title="The request is not valid",
        detail=f"{len(issues)} problem(s) in the request",
        issues=issues,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 400: "Bad request"}
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem_response(
        request,
        status=exc.status_code,
        code=f"http-{exc.status_code}",
        title=titles.get(exc.status_code, "HTTP error"),
        detail=str(exc.detail) if exc.detail else "",
        headers=headers or None,
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI document gives this path (Starlette's 405 names only the
    first route's, and a path such as ``/jobs/{id}`` has a route per method)."""
    methods: set[str] = set()
    for template, item in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in item}
    return sorted(methods)


async def _solver_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(
        request, status=503, code="solver-unavailable", title="Solver unavailable", detail=str(exc)
    )


async def _solver_failed(request: Request, exc: Exception) -> JSONResponse:
    log.error("solver failed (request %s): %s", request_id_of(request), exc)
    return problem_response(
        request,
        status=500,
        code="solver-failed",
        title="The solver failed",
        detail=f"{exc}. Try another backend (backend=ortools or pulp) or a longer time limit.",
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.error("database unavailable (request %s): %s", request_id_of(request), exc)
    return problem_response(
        request,
        status=503,
        code="database-unavailable",
        title="The database is unavailable",
        detail="The database did not answer or is busy; retry shortly.",
        headers={"Retry-After": "5"},
    )


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    log.warning("integrity conflict (request %s): %s", request_id_of(request), exc)
    return problem_response(
        request,
        status=409,
        code="conflict",
        title="Not possible in the current state",
        detail="Another request changed the same data at the same time; fetch it and retry.",
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = request_id_of(request)
    log.error("unexpected error in request %s", request_id, exc_info=exc)
    return problem_response(
        request,
        status=500,
        code="internal",
        title="Internal server error",
        detail=f"Something went wrong on our side; quote request id {request_id} when reporting it.",
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AllocatorError, _allocator_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SolverUnavailable, _solver_unavailable)
    app.add_exception_handler(SolverFailed, _solver_failed)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(Exception, _unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem statuses (for ``APIRouter(responses=...)``)."""
    descriptions = {
        400: "Bad request",
        401: "Missing or unknown API key",
        403: "The key's role does not allow this",
        404: "Not found (or not visible to this key)",
        409: "Conflict with the current state",
        413: "Too large",
        415: "Unsupported content type",
        422: "Invalid input, every issue located",
        428: "A precondition (the edited version) is required",
        429: "Too many queued and running jobs or batches: retry after Retry-After seconds",
        500: "Internal error",
        503: "Unavailable (solver or database): retry later",
    }
    retry_after = {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    }
    return {
        status: {
            "description": descriptions.get(status, "Problem"),
            "model": Problem,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            **({"headers": retry_after} if status == 429 else {}),
        }
        for status in statuses
    }
