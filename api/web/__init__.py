"""The web workspace for finance directors and planners, and the local API docs pages.

Served by the API's own app, over the same database, keys, roles and tenancy: every page
calls the API's route functions with the signed-in key.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.settings import Settings
from api.web import (
    answer_pages,
    batch_pages,
    docs,
    negotiation_pages,
    pages,
    plan_pages,
    result_pages,
)
from api.web.session import SessionSigner

STATIC = Path(__file__).resolve().parent / "static"


def install_web(app: FastAPI, settings: Settings) -> None:
    """Mount the workspace at ``/app``, its assets at ``/static``, and ``/docs``, ``/redoc``."""
    secret = settings.web_session_secret or secrets.token_urlsafe(32)
    app.state.web_signer = SessionSigner(secret, settings.web_session_max_age_s)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(docs.router)
    app.include_router(pages.router)
    app.include_router(result_pages.router)
    app.include_router(answer_pages.router)
    app.include_router(negotiation_pages.router)
    app.include_router(batch_pages.router)
    app.include_router(plan_pages.router)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/app", status_code=303)
