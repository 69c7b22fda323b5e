"""Service settings: the only place that reads the environment (prefix ``ALLOCATOR_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024


class Settings(BaseSettings):
    """Everything the service can be told; every field has an ``ALLOCATOR_<NAME>`` variable."""

    model_config = SettingsConfigDict(env_prefix="ALLOCATOR_", extra="ignore", frozen=True)

    environment: str = Field(default="development", description="development, test or production.")
    data_dir: Path = Field(
        default=Path("var"), description="Folder for the default SQLite database."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db. "
        "Unset: SQLite at <data_dir>/allocator.db.",
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply Alembic migrations when the app starts."
    )

    max_body_bytes: int = Field(default=20 * MB, gt=0, description="Largest request body.")
    max_workbook_bytes: int = Field(default=10 * MB, gt=0, description="Largest .xlsx upload.")
    max_scenario_cells: int = Field(
        default=2_000_000,
        gt=0,
        description="Largest scenario: providers × neighbourhoods × segments.",
    )
    max_solve_time_s: float = Field(
        default=300.0, gt=0, description="Largest solver time limit a request may ask for."
    )
    job_wall_clock_s: float = Field(
        default=1800.0,
        gt=0,
        description="A solve job still running after this long is killed and marked failed.",
    )

    sync_max_cells: int = Field(
        default=5_000,
        ge=0,
        description="Solves of scenarios up to this many cells are answered synchronously.",
    )
    sync_solve_budget_s: float = Field(
        default=10.0,
        ge=0,
        description="A synchronous solve not done within this becomes a job (202).",
    )
    solve_workers: int = Field(
        default=2, ge=1, le=64, description="Solver processes running at once (per server)."
    )
    prestart_solvers: bool = Field(
        default=True, description="Start the solver processes with the server, not on first use."
    )
    solve_target: str = Field(
        default="api.worker:solve_document",
        description="'module:function' run in the worker process for each solve.",
    )
    batch_workers: int = Field(
        default=1, ge=1, le=64, description="Batch processes running at once (per server)."
    )
    batch_target: str = Field(
        default="api.worker:run_batch_document",
        description="'module:function' run in the worker process for each batch.",
    )
    max_batch_runs: int = Field(
        default=10_000, ge=1, le=1_000_000, description="Most runs one batch may have."
    )
    batch_wall_clock_s: float = Field(
        default=21_600.0,
        gt=0,
        description="A batch still running after this long is killed and marked failed "
        "(its finished runs are kept; it can be resumed).",
    )
    max_risk_samples: int = Field(
        default=2_000_000,
        ge=1,
        description="Largest risk report: Monte Carlo draws × providers.",
    )
    heartbeat_s: float = Field(
        default=5.0,
        gt=0,
        description="How often a server records it is alive; jobs of servers silent for "
        "three heartbeats are marked failed.",
    )

    metrics_token: SecretStr | None = Field(
        default=None,
        description="Operators' bearer token for /metrics (an admin key also works; other "
        "keys never see metrics).",
    )
    max_issues_reported: int = Field(
        default=300,
        ge=1,
        le=100_000,
        description="Most validation issues listed in one answer (the rest are counted by kind).",
    )
    max_sheet_rows: int = Field(
        default=100_000, ge=1, description="Most rows read from one sheet of an uploaded workbook."
    )
    max_workbook_cells: int = Field(
        default=2_000_000, ge=1, description="Most cells read from one uploaded workbook."
    )
    max_active_jobs_per_key: int = Field(
        default=20, ge=1, description="Queued plus running solve jobs one API key may have."
    )
    max_active_jobs_per_system: int = Field(
        default=50, ge=1, description="Queued plus running solve jobs of one system's scenarios."
    )
    max_active_batches_per_key: int = Field(
        default=3, ge=1, description="Queued plus running batches one API key may have."
    )
    max_active_batches_per_system: int = Field(
        default=6, ge=1, description="Queued plus running batches of one system's scenarios."
    )
    max_running_jobs_per_key: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Most of one API key's solve jobs running at once on one server (the "
        "rest wait, queued; free workers take other keys' jobs). Unset: no cap. Jobs are "
        "always taken round-robin between keys.",
    )
    queue_refusal_memory_s: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="After a solve request is refused for a full queue, the same key's "
        "requests to solve the same scenario are refused from memory (no database count) "
        "for this long. 0: count every time.",
    )
    queue_refusal_delay_s: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="A refusal answered from that memory is held back until the remembered "
        "period ends, at most this long (no CPU is spent meanwhile), so a client that asks "
        "again as soon as it is answered slows to about one request per period. 0: answer "
        "at once.",
    )
    queue_retry_after_s: int = Field(
        default=30, ge=1, description="Retry-After (seconds) sent with a 429 for a full queue."
    )

    default_page_size: int = Field(default=50, ge=1, le=1000)
    max_page_size: int = Field(default=500, ge=1, le=10_000)
    log_level: str = Field(default="INFO")
    web_session_secret: str | None = Field(
        default=None,
        description="Key that signs workspace session cookies. Unset: a random one per "
        "start (sessions end when the server restarts; set it when several servers serve).",
    )
    web_session_max_age_s: int = Field(
        default=8 * 3600, ge=60, le=7 * 24 * 3600, description="A workspace session's lifetime."
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str | None) -> str | None:
        """Plain ``postgres://`` URLs use the psycopg 3 driver."""
        if not value:
            return None
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.environment not in {"development", "test", "production"}:
            raise ValueError("environment must be development, test or production")
        if self.default_page_size > self.max_page_size:
            raise ValueError("default_page_size must not exceed max_page_size")
        if self.max_workbook_bytes > self.max_body_bytes:
            raise ValueError("max_workbook_bytes must not exceed max_body_bytes")
        if self.environment == "production" and self.database_url is None:
            raise ValueError(
                "production needs ALLOCATOR_DATABASE_URL (the SQLite default is for development)"
            )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to a SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'allocator.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment, read once per process."""
    return Settings()
