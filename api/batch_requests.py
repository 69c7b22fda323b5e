"""From a batch request to a batch spec: the base scenario (a stored version or one sent inline), checked for the key's systems and the server's limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from pydantic import ValidationError
from sqlalchemy.orm import Session

from allocator.backends.registry import available_backends
from allocator.batch import BatchSpec
from allocator.batch.spec import spec_items
from allocator.errors import (
    Issue,
    LimitExceeded,
    PermissionDenied,
    ScenarioInvalid,
    SolverUnavailable,
)
from allocator.validate import blocking, validate_scenario
from api.errors import InvalidRequest
from api.routers.solves import document_time_limit, effective_time_limit
from api.schemas import (
    BackendName,
    BatchCreate,
    ScenarioRef,
)
from api.security import Principal
from api.settings import Settings
from api.storage import repository
from models import Scenario


@dataclass(frozen=True, slots=True)
class BatchBase:
    """The batch's base scenario, resolved and checked against the key."""

    scenario_pk: str | None
    version: int | None
    document: str | None  # inline bases only: stored versions are read from their row
    content_hash: str
    systems: list[str]
    own_time_limit_s: float | None


def stored_base(session: Session, principal: Principal, ref: ScenarioRef) -> BatchBase:
    scenario = repository.get_scenario(session, principal=principal, scenario_pk=ref.scenario_id)
    row = repository.get_version(
        session,
        principal=principal,
        scenario_pk=scenario.id,
        version=ref.version or scenario.latest_version,
    )
    return BatchBase(
        scenario_pk=row.scenario_pk,
        version=row.version,
        document=None,
        content_hash=row.content_hash,
        systems=repository.scenario_system_ids(session, scenario_pk=row.scenario_pk),
        own_time_limit_s=document_time_limit(row.document),
    )


def inline_base(scenario: Scenario, principal: Principal, settings: Settings) -> BatchBase:
    """Checked as a submitted scenario is: valid, not too large, the key's systems only."""
    problems = blocking(validate_scenario(scenario))
    if problems:
        located = [Issue(("body", "base", *i.loc), i.message, code=i.code) for i in problems]
        raise ScenarioInvalid(f"the base scenario has {len(problems)} problem(s)", located)
    cells = repository.scenario_cells(scenario)
    if cells > settings.max_scenario_cells:
        raise LimitExceeded(
            f"the base scenario has {cells:,} cells; the limit is {settings.max_scenario_cells:,}"
        )
    outside = sorted(set(repository.systems_of(scenario)) - principal.systems)
    if outside:
        raise PermissionDenied(
            f"the base scenario covers system(s) {', '.join(outside)} that this key is not bound to"
        )
    return BatchBase(
        scenario_pk=None,
        version=None,
        document=scenario.canonical_json(),
        content_hash=scenario.content_hash(),
        systems=repository.systems_of(scenario),
        own_time_limit_s=scenario.objective.time_limit_s,
    )


def batch_spec(body: BatchCreate, base: BatchBase, settings: Settings) -> BatchSpec:
    """The batch spec to run (its base left out): options checked, the time limit set."""
    options = body.options
    if options.backend is not None:
        if options.backend not in get_args(BackendName):
            raise InvalidRequest(
                f"unknown solver backend {options.backend!r}",
                [Issue(("options", "backend"), f"one of {', '.join(get_args(BackendName))}")],
            )
        if options.backend not in available_backends():
            raise SolverUnavailable(
                f"solver backend {options.backend!r} is not installed here; available: "
                f"{', '.join(available_backends()) or 'none'}"
            )
    limit = effective_time_limit(
        options.time_limit_s, base.own_time_limit_s, settings.max_solve_time_s
    )
    fields = body.model_dump(exclude={"base", "options"}, exclude_unset=True)
    try:
        spec = BatchSpec.model_validate(
            {
                **fields,
                "base": "",
                "options": options.model_copy(update={"time_limit_s": limit}),
            }
        )
    except ValidationError as error:
        issues = [Issue(("body", *e["loc"]), e["msg"], code=e["type"]) for e in error.errors()]
        raise InvalidRequest(f"the batch spec has {len(issues)} problem(s)", issues) from None
    count = spec_items(spec)
    if count == 0:
        raise InvalidRequest("the batch has no runs", [Issue(("body", "runs"), "list a run")])
    if count > settings.max_batch_runs:
        raise InvalidRequest(
            f"the batch has {count:,} runs; this server runs at most {settings.max_batch_runs:,}"
            " in one batch: split it"
        )
    return spec
