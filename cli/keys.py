"""`allocator keys create|list|revoke`: manage API keys straight in the database."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from api.storage.db import Database

group = typer.Typer(name="keys", help="Manage API keys.", no_args_is_help=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(help="SQLAlchemy URL (default: ALLOCATOR_DATABASE_URL or the SQLite file)."),
]


def operator() -> str:
    """Who runs the CLI: ``user@host`` (the audit log's operator identity for CLI actions)."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}"[:200]


def _database(database_url: str | None) -> Database:
    from api.settings import Settings
    from api.storage.db import Database
    from api.storage.migrate import upgrade

    settings = Settings(database_url=database_url) if database_url else Settings()
    database = Database.connect(settings.sqlalchemy_url)
    upgrade(database.engine)
    return database


@group.command("create")
def create(
    role: Annotated[str, typer.Option(help="read, plan, approve or admin.")],
    system: Annotated[
        list[str], typer.Option("--system", help="A system id the key may act on (repeat).")
    ],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")] = "",
    database_url: DatabaseOption = None,
) -> None:
    """Create a key and print its token (shown once: only its hash is stored)."""
    from api.security import Role, create_key
    from api.storage import repository

    try:
        chosen = Role(role.strip().lower())
    except ValueError:
        raise typer.BadParameter(
            f"{role!r}: choose one of {', '.join(r.value for r in Role)}", param_hint="--role"
        ) from None
    if not [s for s in system if s.strip()]:
        raise typer.BadParameter("give at least one system id", param_hint="--system")
    database = _database(database_url)
    try:
        with database.transaction() as session:
            new = create_key(session, role=chosen, systems=system, name=name)
            repository.add_audit(
                session,
                principal=None,
                request_id="cli",
                action="key.created",
                systems=new.systems,
                detail={
                    "key_id": new.key_id,
                    "by": "cli",
                    "operator": operator(),
                    "before": None,
                    "after": {
                        "role": new.role.value,
                        "systems": list(new.systems),
                        "name": name,
                        "state": "active",
                    },
                },
            )
    finally:
        database.dispose()
    typer.echo(
        f"Created key {new.key_id} ({new.role.value}; systems {', '.join(new.systems)}). "
        "The token is shown once; store it now:",
        err=True,
    )
    typer.echo(new.token)


@group.command("list")
def list_keys(database_url: DatabaseOption = None) -> None:
    """Every key: id, role, systems, name, created, revoked."""
    from sqlalchemy import select

    from api.storage.tables import ApiKey

    database = _database(database_url)
    try:
        with database.transaction(write=False) as session:
            for row in session.scalars(select(ApiKey).order_by(ApiKey.created_at)):
                revoked = f" revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else ""
                systems = ",".join(json.loads(row.systems))
                typer.echo(f"{row.key_id}\t{row.role}\t{systems}\t{row.name}{revoked}")
    finally:
        database.dispose()


@group.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (the part after 'alc_').")],
    database_url: DatabaseOption = None,
) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from api.storage import repository
    from api.storage.tables import ApiKey, utcnow

    database = _database(database_url)
    try:
        with database.transaction() as session:
            row = session.get(ApiKey, key_id)
            if row is None:
                typer.echo(f"no key {key_id!r}", err=True)
                raise typer.Exit(1)
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                repository.add_audit(
                    session,
                    principal=None,
                    request_id="cli",
                    action="key.revoked",
                    systems=json.loads(row.systems),
                    detail={
                        "key_id": key_id,
                        "by": "cli",
                        "operator": operator(),
                        "before": {"role": row.role, "state": "active"},
                        "after": {"role": row.role, "state": "revoked"},
                    },
                )
    finally:
        database.dispose()
    typer.echo(f"Revoked {key_id}", err=True)
