"""Engines and sessions. SQLite gets WAL, foreign keys, a busy timeout and explicit BEGINs.

SQLite's default deferred transactions fail with "database is locked" when a reader later
tries to write while another connection has written. Write sessions therefore start with
``BEGIN IMMEDIATE`` (take the write lock first, waiting up to the busy timeout); read-only
sessions use a plain ``BEGIN``. Other databases ignore the distinction.

A database that fails for a while must not poison the pool. Every connection is pinged
before use (``pool_pre_ping``), and an error that means the connection itself is bad is
treated as a disconnect, so SQLAlchemy discards it and every pooled connection older than
it. For PostgreSQL SQLAlchemy knows those errors; for SQLite they are `SQLITE_FAULTS`
(a connection opened while the file was read-only stays read-only for ever, so it must
be replaced once the file is writable again).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_S = 30.0
WRITE_OPTION = "allocator_write"
SQLITE_FAULTS = (
    "readonly database",
    "disk i/o error",
    "database or disk is full",
    "unable to open database file",
    "database disk image is malformed",
)


def is_connection_fault(error: BaseException) -> bool:
    """Whether a SQLite error means the connection must be thrown away (see module doc)."""
    return isinstance(error, sqlite3.Error) and any(
        fault in str(error).lower() for fault in SQLITE_FAULTS
    )


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created if missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_recycle=1800, future=True)
    database = parsed.database or ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        pool_pre_ping=True,
        future=True,
    )

    @event.listens_for(engine, "handle_error")
    def _recycle_bad_connections(context: ExceptionContext) -> None:
        if is_connection_fault(context.original_exception):
            context.is_disconnect = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@dataclass(frozen=True, slots=True)
class Database:
    """An engine with two session factories: read-only and write (``BEGIN IMMEDIATE``).

    Sessions start their transaction lazily, on first use, so a request can parse its input
    before it takes SQLite's write lock.
    """

    engine: Engine
    reader: sessionmaker[Session]
    writer: sessionmaker[Session]

    @classmethod
    def connect(cls, url: str) -> Database:
        engine = make_engine(url)
        writer_engine = engine.execution_options(**{WRITE_OPTION: True})
        return cls(
            engine=engine,
            reader=sessionmaker(bind=engine, expire_on_commit=False),
            writer=sessionmaker(bind=writer_engine, expire_on_commit=False),
        )

    def session(self, *, write: bool) -> Session:
        return (self.writer if write else self.reader)()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        session = self.session(write=write)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
