"""Rows to response schemas (the only place that knows both shapes)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.orm import Session

from allocator.batch import RunRecord
from allocator.explain import finance
from api.errors import ProblemIssue
from api.schemas import (
    ApprovalPublic,
    AuditEntryPublic,
    BatchPublic,
    BatchRunPublic,
    JobPublic,
    JobState,
    KeyPublic,
    ResultExplanation,
    ResultPublic,
    ResultSummary,
    ScenarioDetail,
    ScenarioPublic,
    ScenarioVersionDetail,
    ScenarioVersionPublic,
)
from api.security import Role
from api.storage import batch_rows, repository
from api.storage.tables import (
    ApiKey,
    ApprovalRow,
    AuditEntry,
    BatchRow,
    BatchRunRow,
    JobRow,
    ResultRow,
    ScenarioRow,
    ScenarioVersionRow,
    utcnow,
)
from models import Scenario
from models.results import AllocationResult


def version_public(row: ScenarioVersionRow) -> ScenarioVersionPublic:
    return ScenarioVersionPublic(
        scenario_id=row.scenario_pk,
        version=row.version,
        content_hash=row.content_hash,
        source_format="xlsx" if row.source_format == "xlsx" else "json",
        cells=row.cells,
        neighbourhoods=row.neighbourhoods,
        comment=row.comment,
        warnings=[ProblemIssue.model_validate(item) for item in json.loads(row.warnings)],
        created_at=row.created_at,
        created_by=row.created_by,
    )


def version_detail(row: ScenarioVersionRow) -> ScenarioVersionDetail:
    return ScenarioVersionDetail(
        **version_public(row).model_dump(), document=Scenario.model_validate_json(row.document)
    )


def scenario_public(
    session: Session, row: ScenarioRow, latest: ScenarioVersionRow
) -> ScenarioPublic:
    approval = repository.current_approval(session, scenario_pk=row.id)
    return ScenarioPublic(
        id=row.id,
        scenario_id=row.scenario_id,
        name=row.name,
        systems=repository.scenario_system_ids(session, scenario_pk=row.id),
        latest_version=row.latest_version,
        plan_of_record=approval.result_id if approval else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
        latest=version_public(latest),
    )


def scenario_detail(
    session: Session, row: ScenarioRow, latest: ScenarioVersionRow
) -> ScenarioDetail:
    return ScenarioDetail(
        **scenario_public(session, row, latest).model_dump(),
        document=Scenario.model_validate_json(latest.document),
    )


def job_public(row: JobRow) -> JobPublic:
    return JobPublic(
        id=row.id,
        scenario_id=row.scenario_pk,
        version=row.version,
        state=JobState(row.state),
        progress=row.progress,
        phase=row.phase,
        backend=row.backend,
        time_limit_s=row.time_limit_s,
        cancel_requested=row.cancel_requested,
        error=row.error,
        result_id=row.result_id,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        created_by=row.created_by,
    )


def result_summary(session: Session, row: ResultRow) -> ResultSummary:
    approval = repository.current_approval(session, scenario_pk=row.scenario_pk)
    return ResultSummary(
        id=row.id,
        scenario_id=row.scenario_pk,
        version=row.version,
        job_id=row.job_id,
        status=row.status,
        feasible=row.feasible,
        backend=row.backend,
        scenario_hash=row.scenario_hash,
        created_at=row.created_at,
        created_by=row.created_by,
        plan_of_record=approval is not None and approval.result_id == row.id,
    )


def allocation(row: ResultRow) -> AllocationResult:
    return AllocationResult.model_validate_json(row.document)


def result_public(session: Session, row: ResultRow) -> ResultPublic:
    return ResultPublic(**result_summary(session, row).model_dump(), result=allocation(row))


def result_public_json(session: Session, row: ResultRow) -> str:
    """`ResultPublic` as JSON without re-parsing the stored result (it can be megabytes).

    The stored document was written by ``AllocationResult.model_dump_json``, so splicing
    it in gives exactly what `result_public` would serialise.
    """
    summary = result_summary(session, row).model_dump_json()
    return f'{summary[:-1]},"result":{row.document}}}'


def explanation_public(
    row: ResultRow, result: AllocationResult, scenario: Scenario | None = None
) -> ResultExplanation:
    rate = finance.rate_of(scenario, result)
    words = [
        f"{finance.rule_title(r.rule)}: {finance.rule_words(r, rate)}"
        for r in finance.ranked_rules(result)
    ]
    if result.explanation is not None:
        names = finance.funder_names(result)
        words += [
            finance.funder_words(m, names.get(m.funder_id, m.funder_id), rate)
            for m in result.explanation.pool
        ]
        words += [finance.scheme_words(s, rate) for s in result.explanation.schemes]
    return ResultExplanation(
        result_id=row.id,
        scenario_id=row.scenario_pk,
        version=row.version,
        status=result.status,
        status_detail=result.status_detail,
        feasible=result.feasible,
        objective_kind=result.objective_kind,
        value_unit=result.value_unit,
        stages=result.stages,
        binding_rules=[r for r in result.rules if r.binding or r.breach_pence],
        explanation=result.explanation,
        infeasibility=result.infeasibility,
        notes=result.notes,
        reference_rate=rate.sentence(),
        in_words=words,
    )


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None:
        return None
    return max(0.0, ((end or utcnow()) - start).total_seconds())


def batch_public(session: Session, row: BatchRow) -> BatchPublic:
    return BatchPublic(
        id=row.id,
        name=row.name,
        state=JobState(row.state),
        scenario_id=row.scenario_pk,
        version=row.version,
        base_hash=row.base_hash,
        systems=batch_rows.batch_system_ids(session, batch_id=row.id),
        runs_total=row.runs_total,
        runs_done=row.runs_done,
        runs_failed=row.runs_failed,
        progress=row.runs_done / row.runs_total if row.runs_total else 1.0,
        statuses=batch_rows.status_counts(session, batch_id=row.id),
        cancel_requested=row.cancel_requested,
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        elapsed_s=_seconds(row.started_at, row.finished_at),
        created_by=row.created_by,
        spec=json.loads(row.spec),
    )


def batch_run_public(row: BatchRunRow) -> BatchRunPublic:
    record = RunRecord.model_validate_json(row.record) if row.record is not None else None
    return BatchRunPublic(
        run_index=row.run_index,
        run_id=row.run_id,
        params=json.loads(row.params),
        status=row.status,
        feasible=row.feasible,
        reason=row.reason,
        value_total=record.value_total if record else None,
        worst_place_distance=record.worst_place_distance if record else None,
        providers=list(record.providers) if record else [],
        places=list(record.places) if record else [],
        finished_at=row.finished_at,
    )


def approval_public(row: ApprovalRow, superseded: str | None) -> ApprovalPublic:
    return ApprovalPublic(
        scenario_id=row.scenario_pk,
        result_id=row.result_id,
        sequence=row.sequence,
        approved_at=row.approved_at,
        approved_by=row.approved_by,
        note=row.note,
        superseded_result_id=superseded,
    )


def key_public(row: ApiKey) -> KeyPublic:
    return KeyPublic(
        key_id=row.key_id,
        name=row.name,
        role=Role(row.role),
        systems=json.loads(row.systems),
        created_at=row.created_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
        expires_at=row.expires_at,
    )


def audit_public(row: AuditEntry) -> AuditEntryPublic:
    return AuditEntryPublic(
        id=row.id,
        at=row.at,
        request_id=row.request_id,
        client_request_id=row.client_request_id,
        key_id=row.key_id,
        key_name=row.key_name,
        action=row.action,
        systems=json.loads(row.systems),
        scenario_id=row.scenario_pk,
        version=row.version,
        result_id=row.result_id,
        job_id=row.job_id,
        detail=json.loads(row.detail),
    )
