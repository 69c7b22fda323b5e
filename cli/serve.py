"""`allocator serve`: run the HTTP API (uvicorn with the `api.app:create_app` factory)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    database_url: Annotated[
        str | None,
        typer.Option(help="SQLAlchemy URL (default: SQLite in the data folder)."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder for the default SQLite database.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the API (OpenAPI docs at /docs). Settings come from ALLOCATOR_* variables."""
    import uvicorn

    from api.settings import Settings
    from api.storage.db import Database
    from api.storage.migrate import upgrade

    # Worker processes read their settings from the environment: pass the options on.
    if database_url:
        os.environ["ALLOCATOR_DATABASE_URL"] = database_url
    if data_dir is not None:
        os.environ["ALLOCATOR_DATA_DIR"] = str(data_dir)
    settings = Settings()
    database = Database.connect(settings.sqlalchemy_url)
    try:
        upgrade(database.engine)  # once, before the workers start
    finally:
        database.dispose()
    typer.echo(
        f"Serving on http://{host}:{port} ({database.engine.url.get_backend_name()}, "
        f"{workers} worker(s)); docs at /docs",
        err=True,
    )
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )
