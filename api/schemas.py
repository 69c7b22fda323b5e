"""API envelopes: what requests carry and responses return (domain documents inside)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from api.errors import ProblemIssue
from api.security import Role
from models import Scenario
from models.comparison import Comparison
from models.results import AllocationResult

BackendName = Literal["highs", "ortools", "pulp"]
SystemId = str
T = TypeVar("T")


@enum.unique
class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(Envelope, Generic[T]):
    items: list[T]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    page_size: int = Field(ge=1)


class ScenarioVersionPublic(Envelope):
    scenario_id: str = Field(description="The API's id of the scenario.")
    version: int = Field(ge=1)
    content_hash: str = Field(description="SHA-256 of the canonical scenario JSON.")
    source_format: Literal["json", "xlsx"]
    cells: int = Field(description="providers × neighbourhoods × segments")
    neighbourhoods: int
    comment: str
    warnings: list[ProblemIssue] = Field(description="Non-blocking findings.")
    created_at: datetime
    created_by: str = Field(description="Key id that submitted this version.")


class ScenarioVersionDetail(ScenarioVersionPublic):
    document: Scenario


class ScenarioPublic(Envelope):
    id: str
    scenario_id: str = Field(description="The document's own scenario_id.")
    name: str
    systems: list[SystemId]
    latest_version: int
    plan_of_record: str | None = Field(description="Id of the approved result, if any.")
    created_at: datetime
    updated_at: datetime
    created_by: str
    latest: ScenarioVersionPublic


class ScenarioDetail(ScenarioPublic):
    document: Scenario = Field(description="The latest version's document.")


class SolveRequest(Envelope):
    backend: BackendName | None = Field(default=None, description="Solver backend; default highs.")
    time_limit_s: float | None = Field(
        default=None, gt=0, le=86_400, description="Seconds per solver stage."
    )
    mode: Literal["auto", "job"] = Field(
        default="auto",
        description="auto: answer synchronously when the scenario is small and the solve "
        "finishes within the server's budget, else 202 with a job; job: always a job.",
    )


class JobPublic(Envelope):
    id: str
    scenario_id: str
    version: int
    state: JobState
    progress: float = Field(ge=0, le=1)
    phase: str
    backend: str | None
    time_limit_s: float | None
    cancel_requested: bool
    error: str | None
    result_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    created_by: str


class ApprovalPublic(Envelope):
    scenario_id: str
    result_id: str
    sequence: int = Field(description="1 for the first approval of the scenario, then 2, …")
    approved_at: datetime
    approved_by: str
    note: str
    superseded_result_id: str | None = None


class ResultSummary(Envelope):
    id: str
    scenario_id: str
    version: int
    job_id: str | None
    status: str
    feasible: bool
    backend: str
    scenario_hash: str
    created_at: datetime
    created_by: str
    plan_of_record: bool = Field(description="This is the scenario's approved result.")


class ResultPublic(ResultSummary):
    result: AllocationResult


class SolveOutcome(Envelope):
    job: JobPublic
    result: ResultPublic | None = Field(
        description="The result when the solve finished within the request; else null."
    )


class ApproveRequest(Envelope):
    supersede: bool = Field(
        default=False, description="Replace the scenario's current plan of record."
    )
    note: str = Field(default="", max_length=2000)


class ComparisonPublic(Envelope):
    a: ResultSummary
    b: ResultSummary
    comparison: Comparison


class KeyCreate(Envelope):
    role: Role
    systems: list[SystemId] = Field(min_length=1, max_length=100)
    name: str = Field(default="", max_length=200)


class KeyPublic(Envelope):
    key_id: str
    name: str
    role: Role
    systems: list[SystemId]
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None


class KeyCreated(KeyPublic):
    token: str = Field(description="Shown once; only its hash is stored.")


class AuditEntryPublic(Envelope):
    id: int
    at: datetime
    request_id: str
    key_id: str | None
    key_name: str
    action: str
    systems: list[SystemId]
    scenario_id: str | None
    version: int | None
    result_id: str | None
    job_id: str | None
    detail: dict[str, object]


class Health(Envelope):
    status: Literal["ok"]


class Readiness(Envelope):
    status: Literal["ready"]
    database: str
    migration: str | None
