"""Lenient parsing of a scenario document: one bad row never hides the next.

A document (the dict a JSON file or a workbook becomes) is first validated whole; when
that fails, each row of each table and each top-level setting is validated on its own,
so every type error is reported, and the semantic checks still run over the rows that
parsed (with a `ParseContext` so their findings point at the original rows and do not
cascade from rows that failed).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from allocator.errors import Issue
from allocator.validate import (
    ParseContext,
    blocking,
    issues_from_validation_error,
    validate_scenario,
)
from allocator.validate.common import ID_FIELDS
from models import SCHEMA_VERSION, Scenario

Loc = tuple[str | int, ...]


def _row_model(annotation: Any) -> type[BaseModel] | None:
    """The row model of a ``tuple[Row, ...]`` table field, else None."""
    if get_origin(annotation) is tuple:
        args = get_args(annotation)
        if (
            len(args) == 2
            and args[1] is Ellipsis
            and isinstance(args[0], type)
            and issubclass(args[0], BaseModel)
        ):
            return args[0]
    return None


TABLES: dict[str, type[BaseModel]] = {
    name: model
    for name, info in Scenario.model_fields.items()
    if (model := _row_model(info.annotation)) is not None
}
SETTINGS: tuple[str, ...] = tuple(name for name in Scenario.model_fields if name not in TABLES)


@cache
def _setting_adapter(name: str) -> TypeAdapter[Any]:
    info = Scenario.model_fields[name]
    field_type: Any = Annotated[info.annotation, info]
    return TypeAdapter(field_type)


def _min_rows(name: str) -> int:
    for item in Scenario.model_fields[name].metadata:
        minimum = getattr(item, "min_length", None)
        if isinstance(minimum, int):
            return minimum
    return 0


def _covered(loc: Loc, known: Sequence[Loc]) -> bool:
    """Is ``loc`` already reported by the reader (same cell, or inside a reported cell)?"""
    return any(loc == k or (len(k) >= 3 and loc[: len(k)] == k) for k in known)


def parse_document(
    document: object, *, reported: Sequence[Issue] = ()
) -> tuple[Scenario | None, list[Issue]]:
    """Parse and validate a scenario document; every issue, parse and semantic, at once.

    ``reported`` are issues the reader already found (a text cell in a number column):
    pydantic's view of the same location is not repeated. Returns the scenario only when
    neither ``reported`` nor the new issues block; the returned issues exclude ``reported``.
    """
    if not isinstance(document, dict):
        kind = type(document).__name__
        return None, [
            Issue(loc=(), message=f"a scenario must be an object of named fields; got {kind}")
        ]
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError:
        pass
    else:
        issues = validate_scenario(scenario)
        ok = not blocking([*reported, *issues])
        return (scenario if ok else None), issues
    partial, issues, context = _parse_leniently(document)
    known = [issue.loc for issue in reported]
    issues = [issue for issue in issues if not _covered(issue.loc, known)]
    issues += validate_scenario(partial, context=context)
    return None, issues


def _parse_leniently(document: dict[str, Any]) -> tuple[Scenario, list[Issue], ParseContext]:
    issues: list[Issue] = []
    values: dict[str, Any] = {}
    positions: dict[str, list[int]] = {}
    failed_ids: dict[str, dict[str, int]] = {}
    incomplete: set[str] = set()
    for key in document:
        if key not in Scenario.model_fields:
            issues.append(
                Issue(
                    loc=(key,), message=f"unexpected field {key!r}; remove it or check its spelling"
                )
            )
    for name, model in TABLES.items():
        raw = document.get(name, [])
        if not isinstance(raw, list | tuple):
            issues.append(
                Issue(loc=(name,), message=f"must be a list of rows; got {type(raw).__name__}")
            )
            incomplete.add(name)
            raw = []
        rows: list[BaseModel] = []
        kept: list[int] = []
        for index, item in enumerate(raw):
            try:
                rows.append(model.model_validate(item))
                kept.append(index)
            except ValidationError as err:
                issues += issues_from_validation_error(err, (name, index))
                incomplete.add(name)
                id_field = ID_FIELDS.get(name)
                if id_field and isinstance(item, dict) and isinstance(item.get(id_field), str):
                    failed_ids.setdefault(name, {}).setdefault(item[id_field].strip(), index)
        if not raw and _min_rows(name):
            issues.append(Issue(loc=(name,), message=f"needs at least {_min_rows(name)} row(s)"))
        values[name] = tuple(rows)
        positions[name] = kept
    for name in SETTINGS:
        if name not in document:
            if Scenario.model_fields[name].is_required():
                issues.append(Issue(loc=(name,), message=f"{name!r} is required"))
                values[name] = "unknown"
            continue
        try:
            values[name] = _setting_adapter(name).validate_python(document[name])
        except ValidationError as err:
            issues += issues_from_validation_error(err, (name,))
            if Scenario.model_fields[name].is_required():
                values[name] = "unknown"
    version = document.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        issues.append(
            Issue(
                loc=("schema_version",),
                message=f"schema version {version!r} is not supported; this version reads "
                f"{SCHEMA_VERSION!r}",
            )
        )
    partial = Scenario.model_construct(**values)
    context = ParseContext(
        positions=positions, failed_ids=failed_ids, incomplete=frozenset(incomplete)
    )
    return partial, issues, context
