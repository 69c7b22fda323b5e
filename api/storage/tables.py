"""The database schema as SQLAlchemy 2 typed ORM classes (``Mapped[...]``).

Documents (scenarios, results) are stored as JSON text with their content hash. Results
and scenario versions are never updated; approvals and the audit log are append-only
(the migrations add triggers that reject UPDATE and DELETE of results, scenario
versions, approvals and audit rows). A batch has
one row per run of its spec, filled in once when the run's record arrives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone: stored naive, read as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ApiKey(Base):
    """An API key: the token itself is never stored, only its SHA-256."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    systems: Mapped[str] = mapped_column(Text, doc="JSON list of system ids")
    token_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ScenarioRow(Base):
    """A scenario: a named series of immutable versions, owned by the systems it covers."""

    __tablename__ = "scenarios"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(64), doc="the document's own scenario_id")
    name: Mapped[str] = mapped_column(String(200), default="")
    latest_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(32))


class ScenarioSystem(Base):
    """The systems a scenario covers (the union over its versions): tenancy is checked here."""

    __tablename__ = "scenario_systems"

    scenario_pk: Mapped[str] = mapped_column(
        ForeignKey("scenarios.id", ondelete="RESTRICT"), primary_key=True
    )
    system_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class ScenarioVersionRow(Base):
    __tablename__ = "scenario_versions"
    __table_args__ = (UniqueConstraint("scenario_pk", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scenario_pk: Mapped[str] = mapped_column(ForeignKey("scenarios.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_format: Mapped[str] = mapped_column(String(8))
    cells: Mapped[int] = mapped_column(Integer)
    neighbourhoods: Mapped[int] = mapped_column(Integer)
    warnings: Mapped[str] = mapped_column(Text, default="[]", doc="JSON list of issues")
    comment: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(32))


class JobRow(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_runner", "state", "runner_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scenario_pk: Mapped[str] = mapped_column(ForeignKey("scenarios.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    phase: Mapped[str] = mapped_column(String(64), default="queued")
    backend: Mapped[str | None] = mapped_column(String(32), nullable=True)
    time_limit_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    runner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(32))


class ResultRow(Base):
    """A solve's full `AllocationResult` as JSON; never updated."""

    __tablename__ = "results"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scenario_pk: Mapped[str] = mapped_column(
        ForeignKey("scenarios.id", ondelete="RESTRICT"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(64))
    feasible: Mapped[bool] = mapped_column()
    backend: Mapped[str] = mapped_column(String(32))
    scenario_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(32))


class ApprovalRow(Base):
    """Append-only: the newest approval of a scenario names its plan of record."""

    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("scenario_pk", "sequence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scenario_pk: Mapped[str] = mapped_column(ForeignKey("scenarios.id", ondelete="RESTRICT"))
    sequence: Mapped[int] = mapped_column(Integer)
    result_id: Mapped[str] = mapped_column(ForeignKey("results.id", ondelete="RESTRICT"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(2000), default="")


class AuditEntry(Base):
    """Who did what to which scenario, version, result or job, when, in which request."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    request_id: Mapped[str] = mapped_column(String(64), doc="Generated by the server")
    client_request_id: Mapped[str | None] = mapped_column(
        String(200), nullable=True, doc="The client's X-Request-ID, kept alongside"
    )
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    key_name: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(64))
    systems: Mapped[str] = mapped_column(Text, default="[]", doc="JSON list of system ids")
    scenario_pk: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="{}", doc="JSON object")


class RunnerRow(Base):
    """A live server's job runner and its last heartbeat (for recovering orphaned jobs)."""

    __tablename__ = "runners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BatchRow(Base):
    """A batch of runs over one base scenario (a stored version, or a document given inline).

    ``spec`` is the batch specification without its base; the base is the stored version's
    document, or ``base_document`` when it was given inline. The run counters are updated
    as runs finish, in the same transaction as the runs themselves.
    """

    __tablename__ = "batches"
    __table_args__ = (Index("ix_batches_state_runner", "state", "runner_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    scenario_pk: Mapped[str | None] = mapped_column(
        ForeignKey("scenarios.id", ondelete="RESTRICT"), nullable=True
    )
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    base_hash: Mapped[str] = mapped_column(String(64))
    base_document: Mapped[str | None] = mapped_column(Text, nullable=True)
    spec: Mapped[str] = mapped_column(Text, doc="JSON batch spec, without its base")
    state: Mapped[str] = mapped_column(String(16))
    runs_total: Mapped[int] = mapped_column(Integer)
    runs_done: Mapped[int] = mapped_column(Integer, default=0)
    runs_failed: Mapped[int] = mapped_column(Integer, default=0)
    runner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(32))


class BatchSystem(Base):
    """The systems a batch's base scenario covers: tenancy is checked here."""

    __tablename__ = "batch_systems"

    batch_id: Mapped[str] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True
    )
    system_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class BatchRunRow(Base):
    """One run of a batch (its position in the spec): pending until its record arrives."""

    __tablename__ = "batch_runs"
    __table_args__ = (Index("ix_batch_runs_batch_id_run_id", "batch_id", "run_id"),)

    batch_id: Mapped[str] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True
    )
    run_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(32))
    params: Mapped[str] = mapped_column(Text, default="{}", doc="JSON object")
    status: Mapped[str] = mapped_column(String(64), default="pending")
    feasible: Mapped[bool | None] = mapped_column(nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    record: Mapped[str | None] = mapped_column(Text, nullable=True, doc="JSON RunRecord")
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebSessionRow(Base):
    """A signed-in workspace session: recorded at sign-in, revoked at sign-out, so a copied
    cookie stops working when its session ends. Only the SHA-256 of the session id (which
    the signed cookie carries) is stored."""

    __tablename__ = "web_sessions"

    session_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(
        ForeignKey("api_keys.key_id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
