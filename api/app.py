"""The FastAPI application factory: ``uvicorn --factory api.app:create_app``.

`create_app` builds everything from `Settings` (no import-time singletons). The lifespan
connects the database, applies the Alembic migrations, and starts the job runner (which
recovers jobs orphaned by a crash); on shutdown it stops the runner, failing the jobs it
was still running, and disposes of the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api import openapi_limits
from api.denials import record_denied
from api.errors import install_error_handlers
from api.jobs import JobRunner
from api.metrics import Metrics, MetricsMiddleware
from api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from api.routers import (
    admin,
    answers,
    batches,
    bridges,
    health,
    jobs,
    negotiation,
    results,
    scenarios,
    solves,
)
from api.settings import Settings, get_settings
from api.storage.db import Database
from api.storage.migrate import upgrade
from api.web import install_web
from api.web.headers import SecurityHeadersMiddleware

API_PREFIX = "/api/v1"

log = logging.getLogger("api")


def _version() -> str:
    try:
        return version("care-allocator")
    except PackageNotFoundError:
        return "0+unknown"


def operation_id(route: APIRoute) -> str:
    """Stable operation ids, ``<tag>-<function name>`` (clean generated clients)."""
    tag = str(route.tags[0]) if route.tags else "default"
    return f"{tag}-{route.name}"


def create_app(settings: Settings | None = None) -> FastAPI:
    """A fresh application for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database.connect(settings.sqlalchemy_url)
        if settings.migrate_on_start:
            await asyncio.to_thread(upgrade, database.engine)
        runner = JobRunner(database=database, settings=settings, metrics=metrics)
        await runner.start()
        app.state.database = database
        app.state.record_denied = record_denied
        app.state.runner = runner
        log.info(
            "allocator API ready (%s, runner %s)",
            database.engine.url.get_backend_name(),
            runner.runner_id,
        )
        try:
            yield
        finally:
            await runner.stop()
            database.dispose()

    app = FastAPI(
        title="Care allocator API",
        version=_version(),
        summary="Submit, version and solve budget scenarios; fetch, export, explain, compare "
        "and approve allocations; risk reports; batches.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,  # served by api.web from local assets
        redoc_url=None,
        separate_input_output_schemas=False,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    install_error_handlers(app)
    openapi_limits.install(app, settings)

    app.include_router(health.router)
    for router in (
        scenarios.router,
        solves.router,
        jobs.router,
        results.router,
        results.comparisons_router,
        answers.router,
        negotiation.router,
        bridges.router,
        batches.router,
        admin.router,
    ):
        app.include_router(router, prefix=API_PREFIX)

    install_web(app, settings)

    # Added innermost first: RequestId (outermost) -> Metrics -> BodyLimit -> routes.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics, prefixes=(API_PREFIX,))
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
