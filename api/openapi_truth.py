"""The OpenAPI document lists every status a route can answer, as the server answers it.

FastAPI documents only what a route declares. Some answers come from the machinery
around every route, so they are added here from the route's shape rather than by hand:

- a key is needed (the operation has ``security``): 401 and 403;
- a path parameter: 404 (unknown, or not visible to the key);
- any parameter or a body: 422, a problem document (not FastAPI's default schema);
- a body: 400 (unparseable), 413 (over ``max_body_bytes``), 415 (a content type the
  route does not read);
- the database is used (everything under ``/api/`` and ``/ready``): 503 with
  ``Retry-After`` while it cannot answer.

Queued work (429 with ``Retry-After``) is declared by the routes themselves. A
discriminated union's tag (``kind``) has a default in the models but must be sent to pick a
variant, so the document marks it required.
"""

from __future__ import annotations

import json
from typing import Any

from api.errors import problem_responses

DATABASE_PATHS = ("/api/", "/ready")


def _problem(status: int) -> dict[str, Any]:
    entry = dict(problem_responses(status)[status])
    entry.pop("model", None)
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    entry["content"] = content
    if status in (429, 503):
        entry["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return entry


def required_statuses(path: str, operation: dict[str, Any]) -> set[int]:
    """The problem statuses ``operation`` at ``path`` can answer, from its shape."""
    statuses: set[int] = set()
    parameters = operation.get("parameters", [])
    if operation.get("security"):
        statuses |= {401, 403}
    if any(parameter.get("in") == "path" for parameter in parameters):
        statuses.add(404)
    if parameters or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {400, 413, 415}
    if path.startswith(DATABASE_PATHS):
        statuses.add(503)
    return statuses


def _require_tags(schemas: dict[str, Any]) -> None:
    """Every variant of a discriminated union requires its tag property."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            discriminator = node.get("discriminator")
            if isinstance(discriminator, dict) and "mapping" in discriminator:
                tag = discriminator["propertyName"]
                for ref in discriminator["mapping"].values():
                    variant = schemas.get(str(ref).rsplit("/", 1)[-1])
                    if variant is not None and tag not in variant.get("required", []):
                        variant["required"] = [*variant.get("required", []), tag]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schemas)


def document_statuses(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with every route's problem statuses documented (see the module doc)."""
    for path, item in spec.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, entry in responses.items():  # every error answer is a problem
                if status[0] in "45" and isinstance(entry, dict) and "content" in entry:
                    entry["content"] = _problem(int(status))["content"]
            for status in sorted(required_statuses(path, operation)):
                current = responses.get(str(status))
                problem = _problem(status)
                if current is None:
                    responses[str(status)] = problem
                else:
                    current["content"] = problem["content"]
                    if "headers" in problem:
                        current.setdefault("headers", problem["headers"])
    schemas = spec.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422, now replaced
        if f'/{unused}"' not in json.dumps(spec.get("paths", {})):
            schemas.pop(unused, None)
    _require_tags(schemas)
    return spec


__all__ = ["document_statuses", "required_statuses"]
