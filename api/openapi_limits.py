"""The OpenAPI document states the limits this server enforces, from its settings.

Routes declare generous static bounds; the settings (``max_solve_time_s``,
``max_page_size``, ``max_risk_samples``) are what a request is actually held to, so the
published schema is rewritten to say so.
"""

from __future__ import annotations

from typing import Any, cast

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.openapi_links import add_links
from api.openapi_truth import document_statuses
from api.settings import Settings


def _parameters(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in spec.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                found.append((parameter.get("name", ""), parameter))
    return found


def _schema(parameter: dict[str, Any]) -> dict[str, Any]:
    """The number schema of a parameter (inside ``anyOf`` for optional ones)."""
    schema: dict[str, Any] = parameter.get("schema", {})
    for option in schema.get("anyOf", []):
        if option.get("type") in ("integer", "number"):
            return cast(dict[str, Any], option)
    return schema


def apply_limits(spec: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """``spec`` with the settings' limits as the schema's maxima and descriptions."""
    solve = spec.get("components", {}).get("schemas", {}).get("SolveRequest", {})
    limit = solve.get("properties", {}).get("time_limit_s")
    if limit is not None:
        for option in limit.get("anyOf", [limit]):
            if option.get("type") == "number":
                option["maximum"] = settings.max_solve_time_s
        limit["description"] = (
            f"Seconds per solver stage; at most {settings.max_solve_time_s:g} on this server."
        )
    for name, parameter in _parameters(spec):
        if name == "page_size":
            _schema(parameter)["maximum"] = settings.max_page_size
        elif name == "draws":
            parameter["description"] = (
                f"Monte Carlo draws; draws × providers at most {settings.max_risk_samples:,} "
                "(else 413)."
            )
    return spec


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the OpenAPI document with `apply_limits` applied (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
                separate_input_output_schemas=app.separate_input_output_schemas,
            )
            app.openapi_schema = add_links(document_statuses(apply_limits(spec, settings)))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["apply_limits", "install"]
