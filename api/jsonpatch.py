"""The RFC 6902 JSON-patch difference of two JSON documents (what a new version changed).

Objects are compared key by key; lists element by element (a shorter or longer list ends
with ``remove`` or ``add`` operations at its tail). Applying the patch to ``before`` gives
``after``. `bounded_patch` keeps an audit row small for sweeping edits.
"""

from __future__ import annotations

import json
from typing import Any

MAX_PATCH_CHARS = 200_000


def _pointer(parts: tuple[str | int, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def json_patch(before: Any, after: Any, at: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """Operations turning ``before`` into ``after``."""
    if isinstance(before, dict) and isinstance(after, dict):
        ops: list[dict[str, Any]] = []
        for key in before:
            if key not in after:
                ops.append({"op": "remove", "path": _pointer((*at, key))})
        for key, value in after.items():
            if key not in before:
                ops.append({"op": "add", "path": _pointer((*at, key)), "value": value})
            else:
                ops += json_patch(before[key], value, (*at, key))
        return ops
    if isinstance(before, list) and isinstance(after, list):
        ops = []
        for index in range(min(len(before), len(after))):
            ops += json_patch(before[index], after[index], (*at, index))
        for index in range(len(before) - 1, len(after) - 1, -1):
            ops.append({"op": "remove", "path": _pointer((*at, index))})
        for index in range(len(before), len(after)):
            ops.append({"op": "add", "path": _pointer((*at, index)), "value": after[index]})
        return ops
    if before == after and type(before) is type(after):
        return []
    return [{"op": "replace", "path": _pointer(at), "value": after}]


def bounded_patch(before: Any, after: Any) -> dict[str, Any]:
    """``{"patch": [...], "operations": n}``; the patch cut short (``truncated``) if huge."""
    ops = json_patch(before, after)
    kept: list[dict[str, Any]] = []
    size = 0
    for op in ops:
        size += len(json.dumps(op, default=str))
        if size > MAX_PATCH_CHARS:
            return {"patch": kept, "operations": len(ops), "truncated": True}
        kept.append(op)
    return {"patch": kept, "operations": len(ops)}


__all__ = ["bounded_patch", "json_patch"]
