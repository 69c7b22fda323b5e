"""Keyword-only data access. Visibility (tenancy) is enforced here: a row the principal may
not see raises `NotFound`, exactly as a missing row does, so other systems' data never leaks.

Nothing here commits: the caller owns the transaction (one per request). There is no
function that updates or deletes audit entries, approvals, results or scenario versions.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, and_, exists, func, not_, select, update
from sqlalchemy.orm import Session

from allocator.errors import Issue, NotFound, VersionConflict
from api.errors import SystemsChanged
from api.middleware import client_request_id
from api.security import Principal
from api.storage.tables import (
    ApiKey,
    ApprovalRow,
    AuditEntry,
    JobRow,
    ResultRow,
    ScenarioRow,
    ScenarioSystem,
    ScenarioVersionRow,
    utcnow,
)
from models import Scenario


def new_id() -> str:
    return secrets.token_hex(12)


def scenario_cells(scenario: Scenario) -> int:
    """Size of the allocation: providers × neighbourhoods × segments."""
    return len(scenario.providers) * len(scenario.neighbourhoods) * len(scenario.segments)


def systems_of(scenario: Scenario) -> list[str]:
    return sorted({system.system_id for system in scenario.systems})


def _visible(principal: Principal) -> ColumnElement[bool]:
    """Scenarios none of whose systems lie outside the principal's."""
    foreign = exists().where(
        and_(
            ScenarioSystem.scenario_pk == ScenarioRow.id,
            ScenarioSystem.system_id.not_in(sorted(principal.systems)),
        )
    )
    return not_(foreign)


# ---------------------------------------------------------------- scenarios and versions


def scenario_system_ids(session: Session, *, scenario_pk: str) -> list[str]:
    rows = session.scalars(
        select(ScenarioSystem.system_id).where(ScenarioSystem.scenario_pk == scenario_pk)
    )
    return sorted(rows)


def get_scenario(session: Session, *, principal: Principal, scenario_pk: str) -> ScenarioRow:
    row = session.scalars(
        select(ScenarioRow).where(_visible(principal), ScenarioRow.id == scenario_pk)
    ).first()
    if row is None:
        raise NotFound(f"no scenario {scenario_pk!r}")
    return row


def list_scenarios(
    session: Session, *, principal: Principal, page: int, page_size: int
) -> tuple[list[ScenarioRow], int]:
    query = select(ScenarioRow).where(_visible(principal))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(ScenarioRow.created_at.desc(), ScenarioRow.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows), total


def _version_row(
    *,
    scenario_pk: str,
    version: int,
    scenario: Scenario,
    source_format: str,
    warnings: Sequence[Issue],
    comment: str,
    principal: Principal,
) -> ScenarioVersionRow:
    return ScenarioVersionRow(
        scenario_pk=scenario_pk,
        version=version,
        document=scenario.canonical_json(),
        content_hash=scenario.content_hash(),
        source_format=source_format,
        cells=scenario_cells(scenario),
        neighbourhoods=len(scenario.neighbourhoods),
        warnings=json.dumps([issue.to_dict() for issue in warnings]),
        comment=comment,
        created_by=principal.key_id,
    )


def create_scenario(
    session: Session,
    *,
    principal: Principal,
    scenario: Scenario,
    source_format: str,
    warnings: Sequence[Issue] = (),
    comment: str = "",
) -> tuple[ScenarioRow, ScenarioVersionRow]:
    row = ScenarioRow(
        id=new_id(),
        scenario_id=scenario.scenario_id,
        name=scenario.name,
        latest_version=1,
        created_by=principal.key_id,
    )
    session.add(row)
    session.flush()
    session.add_all(
        ScenarioSystem(scenario_pk=row.id, system_id=system) for system in systems_of(scenario)
    )
    version = _version_row(
        scenario_pk=row.id,
        version=1,
        scenario=scenario,
        source_format=source_format,
        warnings=warnings,
        comment=comment,
        principal=principal,
    )
    session.add(version)
    session.flush()
    return row, version


def add_version(
    session: Session,
    *,
    principal: Principal,
    row: ScenarioRow,
    base_version: int,
    scenario: Scenario,
    source_format: str,
    warnings: Sequence[Issue] = (),
    comment: str = "",
) -> ScenarioVersionRow:
    """Version ``base_version + 1``, only if ``base_version`` is still the latest (else 409).

    The check and the bump are one conditional UPDATE, so two concurrent edits of the same
    version cannot both succeed (the unique (scenario, version) constraint backs it up).
    """
    known = set(scenario_system_ids(session, scenario_pk=row.id))
    given = set(systems_of(scenario))
    if given != known:
        added, dropped = sorted(given - known), sorted(known - given)
        change = "; ".join(
            part
            for part in (
                f"adds {', '.join(added)}" if added else "",
                f"drops {', '.join(dropped)}" if dropped else "",
            )
            if part
        )
        raise SystemsChanged(
            f"scenario {row.id!r} covers {', '.join(sorted(known))} and this version {change}: "
            "a scenario's systems are fixed when it is created (so no system's keys lose "
            "sight of it); submit a new scenario for a different set of systems"
        )
    new_version = base_version + 1
    bumped = session.execute(
        update(ScenarioRow)
        .where(ScenarioRow.id == row.id, ScenarioRow.latest_version == base_version)
        .values(latest_version=new_version, updated_at=utcnow(), name=scenario.name)
        .execution_options(synchronize_session=False)
    )
    if getattr(bumped, "rowcount", 0) != 1:
        session.refresh(row)
        raise VersionConflict(
            f"you edited version {base_version} but the latest is {row.latest_version}: "
            "fetch it, reapply your change and submit again"
        )
    version = _version_row(
        scenario_pk=row.id,
        version=new_version,
        scenario=scenario,
        source_format=source_format,
        warnings=warnings,
        comment=comment,
        principal=principal,
    )
    session.add(version)
    session.flush()
    session.refresh(row)
    return version


def get_version(
    session: Session, *, principal: Principal, scenario_pk: str, version: int
) -> ScenarioVersionRow:
    get_scenario(session, principal=principal, scenario_pk=scenario_pk)
    row = session.scalars(
        select(ScenarioVersionRow).where(
            ScenarioVersionRow.scenario_pk == scenario_pk, ScenarioVersionRow.version == version
        )
    ).first()
    if row is None:
        raise NotFound(f"scenario {scenario_pk!r} has no version {version}")
    return row


def list_versions(
    session: Session, *, principal: Principal, scenario_pk: str
) -> list[ScenarioVersionRow]:
    get_scenario(session, principal=principal, scenario_pk=scenario_pk)
    return list(
        session.scalars(
            select(ScenarioVersionRow)
            .where(ScenarioVersionRow.scenario_pk == scenario_pk)
            .order_by(ScenarioVersionRow.version)
        )
    )


# ---------------------------------------------------------------- results and approvals


def add_result(
    session: Session,
    *,
    job: JobRow,
    status: str,
    feasible: bool,
    backend: str,
    scenario_hash: str,
    document: str,
) -> ResultRow:
    row = ResultRow(
        id=new_id(),
        scenario_pk=job.scenario_pk,
        version=job.version,
        job_id=job.id,
        status=status,
        feasible=feasible,
        backend=backend,
        scenario_hash=scenario_hash,
        document=document,
        created_by=job.created_by,
    )
    session.add(row)
    session.flush()
    return row


def get_result(session: Session, *, principal: Principal, result_id: str) -> ResultRow:
    row = session.get(ResultRow, result_id)
    if row is None:
        raise NotFound(f"no result {result_id!r}")
    try:
        get_scenario(session, principal=principal, scenario_pk=row.scenario_pk)
    except NotFound:
        raise NotFound(f"no result {result_id!r}") from None
    return row


def list_results(session: Session, *, principal: Principal, scenario_pk: str) -> list[ResultRow]:
    get_scenario(session, principal=principal, scenario_pk=scenario_pk)
    return list(
        session.scalars(
            select(ResultRow)
            .where(ResultRow.scenario_pk == scenario_pk)
            .order_by(ResultRow.created_at, ResultRow.id)
        )
    )


def current_approval(session: Session, *, scenario_pk: str) -> ApprovalRow | None:
    return session.scalars(
        select(ApprovalRow)
        .where(ApprovalRow.scenario_pk == scenario_pk)
        .order_by(ApprovalRow.sequence.desc())
        .limit(1)
    ).first()


def add_approval(
    session: Session, *, principal: Principal, result: ResultRow, sequence: int, note: str
) -> ApprovalRow:
    row = ApprovalRow(
        scenario_pk=result.scenario_pk,
        sequence=sequence,
        result_id=result.id,
        approved_by=principal.key_id,
        note=note,
    )
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------- audit


def add_audit(
    session: Session,
    *,
    principal: Principal | None,
    request_id: str,
    action: str,
    key_id: str | None = None,
    systems: Iterable[str] = (),
    scenario_pk: str | None = None,
    version: int | None = None,
    result_id: str | None = None,
    job_id: str | None = None,
    detail: dict[str, object] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        request_id=request_id,
        client_request_id=client_request_id.get(),
        key_id=principal.key_id if principal else key_id,
        key_name=principal.name if principal else "",
        action=action,
        systems=json.dumps(sorted(set(systems))),
        scenario_pk=scenario_pk,
        version=version,
        result_id=result_id,
        job_id=job_id,
        detail=json.dumps(detail or {}, default=str),
    )
    session.add(entry)
    session.flush()
    return entry


def list_audit(
    session: Session,
    *,
    principal: Principal,
    scenario_pk: str | None,
    limit: int,
    before_id: int | None = None,
) -> list[AuditEntry]:
    """Newest first: entries touching any of the principal's systems (or no system at all).

    An entry about two systems is shown to the admins of both, so neither loses sight of
    what was done to its scenarios.
    """
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if scenario_pk is not None:
        get_scenario(session, principal=principal, scenario_pk=scenario_pk)
        query = query.where(AuditEntry.scenario_pk == scenario_pk)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    found: list[AuditEntry] = []
    for entry in session.scalars(query.execution_options(yield_per=200)):
        systems = set(json.loads(entry.systems))
        if not systems or systems & principal.systems:
            found.append(entry)
            if len(found) >= limit:
                break
    return found


# ---------------------------------------------------------------- keys


def list_keys(session: Session, *, principal: Principal) -> list[ApiKey]:
    rows = session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id))
    return [row for row in rows if principal.covers(json.loads(row.systems))]


def get_key(session: Session, *, principal: Principal, key_id: str) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None or not principal.covers(json.loads(row.systems)):
        raise NotFound(f"no key {key_id!r}")
    return row


def revoke_key(session: Session, *, row: ApiKey) -> ApiKey:
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row
