"""Reading a submitted scenario: a JSON body or a multipart upload of a .json/.xlsx file.

The body is parsed here, not by FastAPI, so that NaN/Infinity, repeated keys and every
type and semantic problem come back as located issues (422), and so a workbook is read
with its sheet and row locations. CPU-heavy parsing runs in a worker thread.
"""

from __future__ import annotations

import email.message
import re
from dataclasses import dataclass
from pathlib import PurePath

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from allocator.errors import Issue, LimitExceeded, PermissionDenied, ScenarioInvalid
from allocator.io.excel import read_workbook_bytes
from allocator.io.json_io import read_json_bytes
from allocator.io.read_limits import ReadLimits
from allocator.validate import blocking
from api.errors import BadRequest, UnsupportedMediaType
from api.security import Principal
from api.settings import Settings
from api.storage.repository import scenario_cells, systems_of
from models import Scenario

VERSION_TAG_PATTERN = r'^[ \t]*(?:W/)?"?([0-9]{1,9})"?[ \t]*$'
"""A version as ``If-Match`` or a form field may give it; the OpenAPI header says the same."""
_ETAG = re.compile(VERSION_TAG_PATTERN)


@dataclass(frozen=True, slots=True)
class Submission:
    scenario: Scenario
    warnings: list[Issue]
    source_format: str
    base_version: int | None
    comment: str


def _media_type(request: Request) -> str:
    message = email.message.Message()
    message["content-type"] = request.headers.get("content-type", "")
    return message.get_content_type()


def parse_version_tag(value: str | None) -> int | None:
    """A version from ``If-Match`` (``"3"``, ``W/"3"`` or ``3``) or a form field."""
    if value is None or not value.strip():
        return None
    match = _ETAG.match(value)
    if match is None:
        raise BadRequest(f"cannot read a version number from {value[:40]!r}")
    return int(match.group(1))


def read_limits(settings: Settings) -> ReadLimits:
    """The parse bounds of an upload (rows per sheet, cells, problems before stopping)."""
    return ReadLimits(
        max_rows_per_sheet=settings.max_sheet_rows,
        max_cells=settings.max_workbook_cells,
        max_issues=max(settings.max_issues_reported * 10, 1000),
    )


def _parse(
    data: bytes, source_format: str, limits: ReadLimits
) -> tuple[Scenario | None, list[Issue]]:
    if source_format == "xlsx":
        return read_workbook_bytes(data, limits)
    return read_json_bytes(data)


def _format_of(upload: UploadFile) -> str:
    suffix = PurePath(upload.filename or "").suffix.lower()
    if suffix in (".json", ".xlsx"):
        return suffix[1:]
    content_type = (upload.content_type or "").lower()
    if "spreadsheetml" in content_type:
        return "xlsx"
    if content_type.endswith("json"):
        return "json"
    raise UnsupportedMediaType(
        f"upload a .json or .xlsx file (got {upload.filename or 'a file with no name'!r})"
    )


async def _from_form(form: FormData, settings: Settings) -> tuple[bytes, str, str, str | None]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ScenarioInvalid(
            "the upload has no file", [Issue(loc=("file",), message="add the scenario as 'file'")]
        )
    source_format = _format_of(upload)
    if source_format == "xlsx" and (upload.size or 0) > settings.max_workbook_bytes:
        raise LimitExceeded(
            f"the workbook is {upload.size:,} bytes; the limit is "
            f"{settings.max_workbook_bytes:,} bytes"
        )
    data = await upload.read()
    comment = form.get("comment")
    base = form.get("base_version")
    return (
        data,
        source_format,
        comment if isinstance(comment, str) else "",
        base if isinstance(base, str) else None,
    )


async def read_submission(
    request: Request, *, settings: Settings, principal: Principal, comment: str = ""
) -> Submission:
    """The scenario in the request, checked for size, validity and the caller's systems."""
    media_type = _media_type(request)
    base_field: str | None = None
    if media_type == "application/json" or media_type.endswith("+json"):
        data, source_format = await request.body(), "json"
    elif media_type == "multipart/form-data":
        async with request.form(max_files=1, max_fields=10) as form:
            data, source_format, comment, base_field = await _from_form(form, settings)
    else:
        raise UnsupportedMediaType(
            "send the scenario as application/json, or upload a .json or .xlsx file as "
            "multipart/form-data (field 'file')"
        )
    scenario, issues = await run_in_threadpool(_parse, data, source_format, read_limits(settings))
    problems = blocking(issues)
    if scenario is None or problems:
        where = "workbook" if source_format == "xlsx" else "document"
        raise ScenarioInvalid(
            f"the {where} has {len(problems or issues)} problem(s)", problems or issues
        )
    cells = scenario_cells(scenario)
    if cells > settings.max_scenario_cells:
        raise LimitExceeded(
            f"the scenario has {cells:,} cells (providers × neighbourhoods × segments); "
            f"the limit is {settings.max_scenario_cells:,}"
        )
    outside = sorted(set(systems_of(scenario)) - principal.systems)
    if outside:
        raise PermissionDenied(
            f"the scenario covers system(s) {', '.join(outside)} that this key is not bound to"
        )
    return Submission(
        scenario=scenario,
        warnings=[issue for issue in issues if issue not in problems],
        source_format=source_format,
        base_version=parse_version_tag(base_field),
        comment=comment[:2000],
    )
