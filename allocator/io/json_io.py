"""Scenarios as JSON: a strict reader (finite numbers, no repeated keys) and a stable writer.

Reading never raises for bad content: every problem comes back as a located `Issue`
(JSON syntax with its line and column, NaN/Infinity, repeated keys, then every type
and semantic problem through `allocator.io.document.parse_document`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from allocator.errors import Issue
from allocator.io.document import parse_document
from models import Scenario

MAX_JSON_BYTES = 200 * 1024 * 1024


class _NonFinite:
    """Stands in for a NaN/Infinity literal until the document is walked and it is located."""

    def __init__(self, text: str) -> None:
        self.text = text


class _Object(dict[str, Any]):
    """A JSON object that remembers keys it saw more than once."""

    duplicates: list[str]


def _parse_float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    out = _Object()
    out.duplicates = []
    for key, value in pairs:
        if key in out:
            out.duplicates.append(key)
        out[key] = value
    return out


def _clean(node: Any, loc: tuple[str | int, ...], issues: list[Issue]) -> Any:
    """Plain dicts and lists, with each NaN/Infinity and repeated key reported where it is."""
    if isinstance(node, _NonFinite):
        issues.append(
            Issue(loc=loc, message=f"{node.text} is not allowed: JSON numbers must be finite")
        )
        return node.text
    if isinstance(node, dict):
        for key in getattr(node, "duplicates", []):
            issues.append(
                Issue(loc=(*loc, key), message=f"key {key!r} appears more than once in this object")
            )
        return {key: _clean(value, (*loc, key), issues) for key, value in node.items()}
    if isinstance(node, list):
        return [_clean(value, (*loc, i), issues) for i, value in enumerate(node)]
    return node


_FAILED = object()


def parse_json_text(text: str) -> tuple[object, list[Issue]]:
    """The JSON document and the issues found reading it (syntax, non-finite, repeated keys).

    When the text is not JSON at all the document is ``_FAILED`` and the one issue says why.
    """
    try:
        raw = json.loads(
            text, parse_constant=_NonFinite, parse_float=_parse_float, object_pairs_hook=_object
        )
    except json.JSONDecodeError as err:
        message = f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
        return _FAILED, [Issue(loc=(), message=message)]
    except RecursionError:
        return _FAILED, [Issue(loc=(), message="not valid JSON: nested too deeply")]
    except ValueError as err:  # e.g. an integer literal with thousands of digits
        return _FAILED, [Issue(loc=(), message=f"not valid JSON: {err}")]
    issues: list[Issue] = []
    return _clean(raw, (), issues), issues


def read_json_text(text: str) -> tuple[Scenario | None, list[Issue]]:
    """A scenario from JSON text, with every issue (the scenario is None if any blocks)."""
    document, issues = parse_json_text(text)
    if document is _FAILED:
        return None, issues
    scenario, more = parse_document(document, reported=issues)
    return scenario, issues + more


def read_json_bytes(data: bytes) -> tuple[Scenario | None, list[Issue]]:
    if len(data) > MAX_JSON_BYTES:
        return None, [Issue(loc=(), message=f"the file is larger than {MAX_JSON_BYTES:,} bytes")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return None, [Issue(loc=(), message=f"not UTF-8 text (byte {err.start}); save it as UTF-8")]
    return read_json_text(text)


def read_json(path: str | Path) -> tuple[Scenario | None, list[Issue]]:
    """A scenario from a JSON file. Raises OSError only if the file cannot be read."""
    return read_json_bytes(Path(path).read_bytes())


def to_json_text(scenario: Scenario) -> str:
    """The full document, indented, keys in schema order, ending with a newline."""
    return json.dumps(scenario.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def write_json(scenario: Scenario, path: str | Path) -> None:
    Path(path).write_text(to_json_text(scenario), encoding="utf-8")
