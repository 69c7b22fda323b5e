"""Results: the full allocation, exports, approval as the plan of record, comparisons.

Each endpoint is a thin call: load the visible result(s), call a domain function
(`allocator.io.result_export`, `allocator.explain.compare`, `allocator.riskshare` through
`api.risk`), return its value. The explanation is read from the stored result; the risk
report is computed on request (seeded, in a worker thread, a few at a time).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from allocator.explain.compare import compare_results
from allocator.io.cells import csv_bytes
from allocator.io.comparison_export import (
    ComparisonTable,
    comparison_csv,
    comparison_workbook_bytes,
)
from allocator.io.result_export import ResultTable, table_csv, workbook_bytes
from allocator.io.risk_export import report_tidy
from allocator.io.risk_export import workbook_bytes as risk_workbook_bytes
from allocator.report.board import board_report_bytes
from allocator.riskshare import result_risk_report
from api import risk
from api.deps import Approver, DatabaseDep, Reader, RequestIdDep, RunnerDep, SessionDep, SettingsDep
from api.errors import StateConflict, problem_responses
from api.schemas import (
    ApprovalPublic,
    ApproveRequest,
    ComparisonPublic,
    ResultExplanation,
    ResultPublic,
    ResultRisk,
)
from api.security import Principal
from api.storage import repository
from api.storage.tables import ResultRow
from api.views import (
    allocation,
    approval_public,
    explanation_public,
    result_public_json,
    result_summary,
)
from models import Scenario
from models.results import AllocationResult

router = APIRouter(prefix="/results", tags=["results"], responses=problem_responses(401, 403, 404))

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/{result_id}", response_model=ResultPublic, summary="A result: the full allocation")
def get_result(result_id: str, session: SessionDep, principal: Reader) -> Response:
    row = repository.get_result(session, principal=principal, result_id=result_id)
    return Response(result_public_json(session, row), media_type="application/json")


@router.get(
    "/{result_id}/export",
    summary="Export a result as CSV (one table) or an Excel workbook (every table)",
    response_class=Response,
    responses={
        200: {
            "description": "The exported file",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"$ref": "#/components/schemas/AllocationResult"}},
            },
        },
        **problem_responses(422),
    },
)
def export_result(
    result_id: str,
    session: SessionDep,
    principal: Reader,
    format: Annotated[Literal["csv", "xlsx", "json"], Query()] = "csv",
    table: Annotated[ResultTable, Query(description="CSV only: which table.")] = "allocations",
) -> Response:
    """CSV: one tidy table (default ``allocations``: provider budgets and place and
    neighbourhood allocations against target). Excel: the board pack (summary,
    reconciliation certificate, bridge, notes, then the detail tables)."""
    row = repository.get_result(session, principal=principal, result_id=result_id)
    result = allocation(row)
    stem = f"{result.scenario_id}-result-{row.id}"
    if format == "json":
        body, media_type, name = row.document.encode("utf-8"), "application/json", f"{stem}.json"
    elif format == "xlsx":
        scenario = _scenario_of(session, principal, row)
        body, media_type, name = workbook_bytes(result, scenario), XLSX, f"{stem}.xlsx"
    else:
        body, media_type, name = table_csv(result, table), "text/csv", f"{stem}-{table}.csv"
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _scenario_of(session: Session, principal: Principal, row: ResultRow) -> Scenario:
    version = repository.get_version(
        session, principal=principal, scenario_pk=row.scenario_pk, version=row.version
    )
    return Scenario.model_validate_json(version.document)


@router.get(
    "/{result_id}/report.pdf",
    summary="The board report of a result (PDF)",
    response_class=Response,
    responses={200: {"description": "The PDF", "content": {"application/pdf": {}}}},
)
async def get_report_pdf(
    result_id: str, database: DatabaseDep, runner: RunnerDep, principal: Reader
) -> Response:
    """Summary, charts (distance from target, budgets against baseline, flows, the pool's
    risk with the reserve marked), binding rules in words and the reconciliation
    certificate; the scenario hash and software version on every page."""

    def load() -> tuple[AllocationResult, Scenario]:
        with database.transaction(write=False) as session:
            row = repository.get_result(session, principal=principal, result_id=result_id)
            return allocation(row), _scenario_of(session, principal, row)

    result, scenario = await run_in_threadpool(load)
    async with runner.compute_slots:
        body = await run_in_threadpool(board_report_bytes, result, scenario)
    name = f"{result.scenario_id}-report-{result_id}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/{result_id}/explanation", summary="Why a result is what it is")
def get_explanation(result_id: str, session: SessionDep, principal: Reader) -> ResultExplanation:
    """The rules that bind, with their shadow prices (the value of relaxing each by £1),
    what £1 more from each funder is worth, and the stages of the objective. For an
    infeasible scenario: which rules conflict and the least change that makes it feasible."""
    row = repository.get_result(session, principal=principal, result_id=result_id)
    return explanation_public(row, allocation(row), _scenario_of(session, principal, row))


@router.get(
    "/{result_id}/risk",
    response_model=ResultRisk,
    responses={
        200: {
            "description": "The risk report (JSON), or the same as a file",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        },
        **problem_responses(409, 422),
    },
    summary="Risk report: the result's budgets under its scenario's risk-share agreements",
)
async def get_risk(
    result_id: str,
    database: DatabaseDep,
    settings: SettingsDep,
    runner: RunnerDep,
    principal: Reader,
    draws: Annotated[int, Query(ge=100, le=1_000_000, description="Monte Carlo draws.")] = 10_000,
    seed: Annotated[int, Query(ge=0, le=2**63 - 1)] = 1,
    level: Annotated[float, Query(ge=0.5, le=0.999, description="VaR/CVaR level.")] = 0.95,
    confidence: Annotated[
        float, Query(ge=0.5, le=0.999, description="Confidence of the reserve needed.")
    ] = 0.95,
    format: Annotated[
        Literal["json", "csv", "xlsx"],
        Query(description="csv: one tidy table; xlsx: a sheet per table, as `allocator risk`."),
    ] = "json",
) -> ResultRisk | Response:
    """Simulates outturn for every provider's budget (seeded: the same request gives the
    same report) and shares each variance under the scenario's agreements: per provider
    and for the pool, expected position, probability of a deficit, VaR and CVaR, and the
    pool's call on the contingency reserve. The defaults are ``allocator risk``'s.
    ``draws`` × providers is limited (``max_risk_samples``, else 422). Only feasible
    results have budgets (else 409)."""

    def load() -> tuple[str, int, AllocationResult, Scenario]:
        with database.transaction(write=False) as session:
            row = repository.get_result(session, principal=principal, result_id=result_id)
            version = repository.get_version(
                session, principal=principal, scenario_pk=row.scenario_pk, version=row.version
            )
            result, document = allocation(row), version.document
        return row.scenario_pk, row.version, result, Scenario.model_validate_json(document)

    scenario_pk, version, result, scenario = await run_in_threadpool(load)
    if not result.feasible:
        raise StateConflict(f"result {result_id} is {result.status}: it has no budgets to assess")
    risk.check_size(draws=draws, providers=len(result.providers), limit=settings.max_risk_samples)
    async with runner.compute_slots:
        report = await run_in_threadpool(
            result_risk_report,
            result,
            scenario,
            draws=draws,
            seed=seed,
            level=level,
            reserve_confidence=confidence,
        )
    if format != "json":
        stem = f"{scenario_pk}-risk-{result_id}"
        body, media_type = (
            (csv_bytes(report_tidy(report)), "text/csv")
            if format == "csv"
            else (await run_in_threadpool(risk_workbook_bytes, report), XLSX)
        )
        return Response(
            body,
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{stem}.{format}"'},
        )
    return ResultRisk(
        result_id=result_id,
        scenario_id=scenario_pk,
        version=version,
        confidence=confidence,
        report=report,
    )


@router.post(
    "/{result_id}/approve",
    responses=problem_responses(409, 422),
    summary="Approve a result as its scenario's plan of record",
)
def approve_result(
    result_id: str,
    session: SessionDep,
    principal: Approver,
    request_id: RequestIdDep,
    body: Annotated[ApproveRequest | None, Body()] = None,
) -> ApprovalPublic:
    """Only a feasible result can be approved. A scenario has one plan of record: approving
    another result is refused (409) unless ``supersede`` is true, and the change is
    audited. Approvals are append-only; approving the current plan again changes nothing."""
    options = body or ApproveRequest()
    row = repository.get_result(session, principal=principal, result_id=result_id)
    if not row.feasible:
        raise StateConflict(f"result {result_id} is {row.status}: only feasible results")
    current = repository.current_approval(session, scenario_pk=row.scenario_pk)
    if current is not None and current.result_id == row.id:
        return approval_public(current, None)
    if current is not None and not options.supersede:
        raise StateConflict(
            f"scenario {row.scenario_pk} already has an approved result ({current.result_id}); "
            "approve with supersede=true to replace it"
        )
    try:
        approval = repository.add_approval(
            session,
            principal=principal,
            result=row,
            sequence=(current.sequence + 1) if current else 1,
            note=options.note,
        )
    except IntegrityError:
        raise StateConflict("another approval of this scenario was made at the same time") from None
    superseded = current.result_id if current else None
    repository.add_audit(
        session,
        principal=principal,
        request_id=request_id,
        action="result.superseded_and_approved" if superseded else "result.approved",
        systems=repository.scenario_system_ids(session, scenario_pk=row.scenario_pk),
        scenario_pk=row.scenario_pk,
        version=row.version,
        result_id=row.id,
        detail={"supersedes": superseded, "note": options.note, "sequence": approval.sequence},
    )
    return approval_public(approval, superseded)


comparisons_router = APIRouter(
    prefix="/comparisons", tags=["comparisons"], responses=problem_responses(401, 403, 404, 422)
)


@comparisons_router.get(
    "",
    summary="Compare two results (JSON, a CSV table or an Excel workbook)",
    response_model=ComparisonPublic,
    responses={
        200: {
            "description": "The comparison",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def compare(
    session: SessionDep,
    principal: Reader,
    a: Annotated[str, Query(description="Result id (before).", max_length=64)],
    b: Annotated[str, Query(description="Result id (after).", max_length=64)],
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
    table: Annotated[ComparisonTable, Query(description="CSV only: which table.")] = "changes",
) -> Response | ComparisonPublic:
    """Per provider, system, place, neighbourhood, segment and funder: the change in £ and
    %; rules that started or stopped binding; which scenario inputs differ (money in £ in
    the CSV and workbook). Any other ``format`` is refused with 422."""
    public = comparison_public(session, principal, a, b)
    if format == "json":
        return public
    comparison = public.comparison
    stem = f"comparison-{public.a.id}-{public.b.id}"
    if format == "xlsx":
        body, media_type, name = comparison_workbook_bytes(comparison), XLSX, f"{stem}.xlsx"
    else:
        body, media_type, name = (
            comparison_csv(comparison, table),
            "text/csv",
            f"{stem}-{table}.csv",
        )
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def comparison_public(session: Session, principal: Principal, a: str, b: str) -> ComparisonPublic:
    """The comparison of two visible results, each with the scenario version it came from."""
    row_a = repository.get_result(session, principal=principal, result_id=a)
    row_b = repository.get_result(session, principal=principal, result_id=b)
    scenarios = [
        Scenario.model_validate_json(
            repository.get_version(
                session, principal=principal, scenario_pk=row.scenario_pk, version=row.version
            ).document
        )
        for row in (row_a, row_b)
    ]
    comparison = compare_results(
        allocation(row_a),
        allocation(row_b),
        scenario_a=scenarios[0],
        scenario_b=scenarios[1],
        a_label=row_a.id,
        b_label=row_b.id,
    )
    return ComparisonPublic(
        a=result_summary(session, row_a), b=result_summary(session, row_b), comparison=comparison
    )
