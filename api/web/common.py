"""What every workspace page shares: templates, the signed-in caller, CSRF, error pages.

Workspace routes call the API's own route functions with the session's `Principal`, so
what a key may see and do is decided by the same code for a browser as for a client;
roles are checked with the API's `require`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine, Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from allocator.errors import AllocatorError, Issue, PermissionDenied, cell_address
from api.deps import DatabaseDep, require
from api.errors import status_of
from api.security import Principal, Role
from api.storage.tables import ApiKey
from api.web.figures import gbp, gbp_m, percent
from api.web.session import CSRF_FIELD, WebSession, current_session, signer_of

log = logging.getLogger("api.web")

TEMPLATES = Path(__file__).resolve().parent / "templates"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True)
)
environment.filters.update(gbp=gbp, gbp_m=gbp_m, percent=percent)


NAV: tuple[tuple[str, str], ...] = (
    ("Scenarios", "/app"),
    ("Batches", "/app/batches"),
    # The screens for answers (issue "answers") get their link here when they are built.
)


class SignInRequired(Exception):
    """No valid session: the browser is sent to the sign-in page."""


class CsrfRefused(Exception):
    """A form without this session's CSRF token."""


def render(
    request: Request,
    template: str,
    *,
    me: WebSession | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    csrf = signer_of(request).csrf_token(me.session_id) if me else context.pop("csrf", "")
    html = environment.get_template(template).render(
        me=me,
        csrf=csrf,
        csrf_field=CSRF_FIELD,
        can=_abilities(me),
        nav=NAV,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def _abilities(me: WebSession | None) -> dict[str, bool]:
    """What buttons to show; the server checks the role again on every post."""
    role = me.principal.role if me else Role.READ
    signed_in = me is not None
    return {
        "plan": signed_in and role.includes(Role.PLAN),
        "approve": signed_in and role.includes(Role.APPROVE),
    }


def get_web_session(request: Request, database: DatabaseDep) -> WebSession:
    found = current_session(request, database)
    if found is None:
        raise SignInRequired
    return found


Me = Annotated[WebSession, Depends(get_web_session)]


def need(me: WebSession, role: Role) -> Principal:
    """The session's principal if its key has ``role``, else 403 (as the API answers)."""
    return require(role)(me.principal)


async def checked_form(request: Request, me: WebSession) -> FormData:
    """The posted form, refused unless it carries this session's CSRF token."""
    form = await request.form()
    request.state.web_form = form  # closed (its uploads deleted) when the response is made
    token = form.get(CSRF_FIELD)
    if not signer_of(request).csrf_ok(me.session_id, token if isinstance(token, str) else None):
        raise CsrfRefused
    return form


def key_names(session: Session, ids: Iterable[str | None]) -> dict[str | None, str]:
    """'Name (key id)' for each key id that made something, for "who" columns."""
    wanted = sorted(i for i in ids if i)
    rows = session.scalars(select(ApiKey).where(ApiKey.key_id.in_(wanted))).all() if wanted else []
    names: dict[str | None, str] = {i: i for i in wanted}
    names.update(
        {row.key_id: f"{row.name} ({row.key_id})" if row.name else row.key_id for row in rows}
    )
    names[None] = "–"
    return names


_COLUMN = re.compile(r"column '([^']+)'")


def issue_rows(issues: Sequence[Issue], headers: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """Problems as table rows located ``Sheet!Cell`` when the message names its column.

    ``headers`` maps each sheet to {header text: column letter}, read from the upload.
    """
    rows = []
    for issue in issues:
        where = issue.where()
        if issue.sheet is not None:
            letter = issue.column
            if letter is None:
                match = _COLUMN.search(issue.message)
                letter = headers.get(issue.sheet, {}).get(match.group(1)) if match else None
            where = cell_address(issue.sheet, letter, issue.row)
        rows.append({"where": where, "message": issue.message, "path": _path(issue)})
    return rows


def _path(issue: Issue) -> str:
    return issue.path()


def error_page(
    request: Request,
    me: WebSession | None,
    status: int,
    title: str,
    detail: str,
    issues: Sequence[Issue] = (),
) -> HTMLResponse:
    return render(
        request,
        "error.html",
        me=me,
        status=status,
        title=title,
        detail=detail,
        issues=issue_rows(issues, {}),
    )


class WebRoute(APIRoute):
    """A route whose errors are pages: sign-in redirects, 403 for CSRF, problems as HTML."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            finally:
                form = getattr(request.state, "web_form", None)
                if isinstance(form, FormData):
                    await form.close()

        async def pages(request: Request) -> Response:
            try:
                return await guarded(request)
            except SignInRequired:
                return RedirectResponse("/app/signin", status_code=303)
            except CsrfRefused:
                return error_page(
                    request,
                    None,
                    403,
                    "The form was refused",
                    "It did not carry this session's security token: reload the page and try "
                    "again.",
                )
            except PermissionDenied as exc:
                return error_page(request, _session_or_none(request), 403, exc.title, exc.detail)
            except AllocatorError as exc:
                return error_page(
                    request,
                    _session_or_none(request),
                    status_of(exc),
                    exc.title,
                    exc.detail,
                    exc.issues,
                )
            except RequestValidationError as exc:
                detail = "; ".join(str(e.get("msg", "")) for e in exc.errors())
                return error_page(request, None, 422, "The request is not valid", detail)
            except Exception:
                request_id = str(getattr(request.state, "request_id", ""))
                log.exception("unexpected error in workspace request %s", request_id)
                return error_page(
                    request,
                    None,
                    500,
                    "Something went wrong on our side",
                    f"Quote request id {request_id} when reporting it.",
                )

        return pages


def _session_or_none(request: Request) -> WebSession | None:
    return current_session(request, request.app.state.database)
