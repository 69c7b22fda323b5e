"""API envelopes: what requests carry and responses return (domain documents inside)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    TypeAdapter,
    WithJsonSchema,
)

from allocator.batch import Axis, BatchOptions, Change, ListRun, MonteCarlo
from allocator.batch.changes import ParamValue
from allocator.batch.store import PlaceRow, ProviderRow
from allocator.riskshare import RiskReport
from api.errors import ProblemIssue
from api.security import Role
from models import Scenario
from models.comparison import Comparison
from models.fields import Name
from models.results import (
    AllocationResult,
    Explanation,
    InfeasibilityReport,
    RuleLine,
    StageReport,
)

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


class RequestBody(Envelope):
    """A request body. Its scalar fields are strict (``StrictBool`` and the like), so
    ``"supersede": 0`` is a 422, not ``false``, and ``"30"`` is not a number."""


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


class SolveRequest(RequestBody):
    backend: BackendName | None = Field(default=None, description="Solver backend; default highs.")
    time_limit_s: StrictFloat | None = Field(
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


class ApproveRequest(RequestBody):
    supersede: StrictBool = Field(
        default=False, description="Replace the scenario's current plan of record."
    )
    note: StrictStr = Field(default="", max_length=2000)


class ComparisonPublic(Envelope):
    a: ResultSummary
    b: ResultSummary
    comparison: Comparison


class KeyCreate(RequestBody):
    role: Role
    systems: list[SystemId] = Field(min_length=1, max_length=100)
    name: StrictStr = Field(
        default="", max_length=200, description="Unique among the live keys of each system."
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="From then on the key is refused (401). Blank: never."
    )


class KeyPublic(Envelope):
    key_id: str
    name: str
    role: Role
    systems: list[SystemId]
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None = None
    revoked_at: datetime | None


class KeyCreated(KeyPublic):
    token: str = Field(description="Shown once; only its hash is stored.")


class AuditEntryPublic(Envelope):
    id: int
    at: datetime
    request_id: str = Field(description="The server's id of the request (X-Request-ID).")
    client_request_id: str | None = Field(
        default=None, description="The client's own X-Request-ID, when it sent one."
    )
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


class ResultExplanation(Envelope):
    """Why a result is what it is: the rules that bind and what relaxing them is worth, or,
    for an infeasible scenario, which rules conflict and the least change that fixes it."""

    result_id: str
    scenario_id: str
    version: int
    status: str
    status_detail: str
    feasible: bool
    objective_kind: str
    value_unit: str
    stages: list[StageReport] = Field(description="Each stage of the objective, in order.")
    binding_rules: list[RuleLine] = Field(
        description="Rules that bind (or soft rules that are breached), with shadow prices."
    )
    explanation: Explanation | None = Field(
        description="The value of £1 more per funder, unfunded schemes' reduced costs."
    )
    infeasibility: InfeasibilityReport | None = Field(
        description="When infeasible: the conflicting rules and the least change."
    )
    notes: list[str]
    reference_rate: str = Field(
        default="", description="£ per QALY used to price value in £, and its source."
    )
    in_words: list[str] = Field(
        default_factory=list,
        description="Each binding rule, then each funder: what £1m more is worth, in QALYs "
        "and in £ at the reference rate (e.g. '£1m more here buys 35.4 QALYs, worth …').",
    )


class ResultRisk(Envelope):
    """A seeded Monte Carlo risk report of a result's provider budgets."""

    result_id: str
    scenario_id: str
    version: int
    confidence: float = Field(description="Confidence of the reserve needed.")
    report: RiskReport


class ScenarioRef(RequestBody):
    """A stored scenario version, as a batch's base."""

    scenario_id: StrictStr = Field(max_length=64, description="The API's id of the scenario.")
    version: StrictInt | None = Field(
        default=None, ge=1, le=1_000_000_000, description="Blank: the latest version."
    )


def inline_schema(annotation: Any) -> WithJsonSchema:
    """``annotation``'s JSON schema with every reference resolved in place.

    For a field typed as plain JSON objects (validated later, as a `BatchSpec`) but
    documented as ``annotation``: its models then add no OpenAPI components. (The batch
    changes' ``DemandGrowth`` would otherwise share a name with the scenario's, and the
    renamed component would break generated clients.)
    """
    schema = TypeAdapter(annotation).json_schema(mode="validation")
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[str(node["$ref"]).rsplit("/", 1)[1]])
            return {k: resolve(v) for k, v in node.items() if k != "discriminator"}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return WithJsonSchema(resolve(schema))


Changes = tuple[Change, ...]
ListRuns = tuple[ListRun, ...] | None
JsonObjects = tuple[dict[str, Any], ...]


def _base_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "scenario" if "systems" in value else "stored"
    return "scenario" if isinstance(value, Scenario) else "stored"


BatchBase = Annotated[
    Annotated[ScenarioRef, Tag("stored")] | Annotated[Scenario, Tag("scenario")],
    Discriminator(_base_kind),
]


class BatchCreate(RequestBody):
    """A batch spec (as for ``allocator batch``) whose base is a stored version or inline.

    Everything but the base is checked as a `allocator.batch.BatchSpec` once the base is
    resolved (422 with every issue located).
    """

    name: Name = ""
    description: str = Field(default="", max_length=5_000)
    base: BatchBase = Field(
        description="{scenario_id, version} of a stored scenario, or a scenario document."
    )
    changes: Annotated[JsonObjects, inline_schema(Changes)] = Field(
        default=(), description="Applied to every run first."
    )
    grid: tuple[Axis, ...] | None = None
    runs: Annotated[JsonObjects | None, inline_schema(ListRuns)] = None
    monte_carlo: MonteCarlo | None = None
    options: BatchOptions = Field(default_factory=BatchOptions)


class BatchPublic(Envelope):
    id: str
    name: str
    state: JobState
    scenario_id: str | None = Field(description="The stored base scenario; null if inline.")
    version: int | None
    base_hash: str = Field(description="Content hash of the base scenario.")
    systems: list[SystemId]
    runs_total: int = Field(ge=0)
    runs_done: int = Field(ge=0, description="Finished runs (whatever their status).")
    runs_failed: int = Field(ge=0, description="Finished runs with no allocation.")
    progress: float = Field(ge=0, le=1)
    statuses: dict[str, int] = Field(description="Finished runs by status.")
    cancel_requested: bool
    error: str | None
    created_at: datetime
    started_at: datetime | None = Field(description="When the current (or last) start began.")
    finished_at: datetime | None
    elapsed_s: float | None = Field(description="Since started_at, until finished_at.")
    created_by: str
    spec: dict[str, Any] = Field(description="The spec without its base, options as run.")


class BatchRunPublic(Envelope):
    """One run of a batch: its parameters and, once finished, its status and allocation."""

    run_index: int = Field(description="Position in the spec.")
    run_id: str
    params: dict[str, ParamValue]
    status: str = Field(description="'pending', the solver's termination, 'invalid' or 'error'.")
    feasible: bool | None
    reason: str
    value_total: float | None = None
    worst_place_distance: float | None = None
    providers: list[ProviderRow] = Field(default_factory=list)
    places: list[PlaceRow] = Field(default_factory=list)
    finished_at: datetime | None
