"""Write a risk report as JSON, one tidy CSV table, or an Excel workbook of tables.

`report_tidy` is the CSV: one row per figure (``subject``, ``subject_id``, ``part``,
``measure``, ``value``), so every provider, the pool, each pooled budget and each partner
sit in one long table. `report_to_frames` gives the workbook's sheets, one table each, with
a ``_gbp`` column beside each ``_pence`` one. One sign convention throughout (as the
terminal tables and the histograms): + is an overspend, a cost to whoever bears it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd

from allocator.errors import UnknownFormat
from allocator.io.cells import inert_sheet, write_csv
from allocator.riskshare.report import (
    SIGN_CONVENTION,
    Histogram,
    LossStats,
    RiskReport,
    reserve_warning,
)

SHEETS = ("summary", "providers", "pool", "pooled_budgets", "partners", "histograms", "notes")
TIDY_COLUMNS = ("subject", "subject_id", "part", "measure", "value")


def _stats(prefix: str, stats: LossStats) -> dict[str, Any]:
    return {f"{prefix}_{name}": value for name, value in stats.model_dump().items()}


def _tidy_stats(
    subject: str, subject_id: str, part: str, stats: LossStats
) -> list[tuple[Any, ...]]:
    return [(subject, subject_id, part, name, value) for name, value in stats.model_dump().items()]


def report_tidy(report: RiskReport) -> pd.DataFrame:
    """Every figure of the report as one long table."""
    rows: list[tuple[Any, ...]] = []
    for p in report.providers:
        rows.append(("provider", p.provider_id, "budget", "budget_pence", p.budget_pence))
        for part, stats in (
            ("variance", p.variance),
            ("share", p.share),
            ("pool_share", p.pool_share),
        ):
            rows += _tidy_stats("provider", p.provider_id, part, stats)
    rows += _tidy_stats("pool", "pool", "call", report.pool.call)
    for name, value in report.pool.reserve.model_dump().items():
        rows.append(("pool", "pool", "reserve", name, value))
    for b in report.pooled_budgets:
        rows += _tidy_stats("pooled_budget", b.agreement_id, "variance", b.variance)
        rows.append(
            (
                "pooled_budget",
                b.agreement_id,
                "unallocated",
                "expected_pence",
                b.unallocated_expected_pence,
            )
        )
        rows.append(("pooled_budget", b.agreement_id, "unallocated", "prob", b.prob_unallocated))
        for partner in b.partners:
            subject_id = f"{b.agreement_id}:{partner.funder_id}"
            rows.append(
                (
                    "partner",
                    subject_id,
                    "contribution",
                    "contribution_pence",
                    partner.contribution_pence,
                )
            )
            rows += _tidy_stats("partner", subject_id, "share", partner.share)
    return pd.DataFrame(rows, columns=list(TIDY_COLUMNS))


def _histogram_rows(subject: str, subject_id: str, hist: Histogram) -> list[dict[str, Any]]:
    edges = hist.bin_edges_pence
    return [
        {
            "subject": subject,
            "subject_id": subject_id,
            "from_pence": edges[j],
            "to_pence": edges[j + 1],
            "draws": count,
        }
        for j, count in enumerate(hist.counts)
    ]


def report_to_frames(report: RiskReport) -> dict[str, pd.DataFrame]:
    """One table per sheet (keys in `SHEETS` order)."""
    summary = pd.DataFrame(
        [
            ("scenario_id", report.scenario_id),
            ("scenario_hash", report.scenario_hash),
            ("draws", report.draws),
            ("seed", report.seed),
            ("level", report.level),
            ("breakeven", report.pool.breakeven.value),
            ("sign", SIGN_CONVENTION),
            ("reserve_warning", reserve_warning(report.pool.reserve) or "none"),
        ],
        columns=["field", "value"],
    )
    providers = pd.DataFrame(
        [
            {
                "provider_id": p.provider_id,
                "budget_pence": p.budget_pence,
                "agreement_id": p.agreement_id,
                "payment_kind": p.payment_kind.value,
                "volume_risk": p.volume_risk.value,
                **_stats("variance", p.variance),
                **_stats("share", p.share),
                **_stats("pool_share", p.pool_share),
            }
            for p in report.providers
        ]
    )
    pool = pd.DataFrame(
        [
            {
                "breakeven": report.pool.breakeven.value,
                **_stats("call", report.pool.call),
                **report.pool.reserve.model_dump(),
            }
        ]
    )
    pooled = pd.DataFrame(
        [
            {
                "agreement_id": b.agreement_id,
                "provider_ids": ", ".join(b.provider_ids),
                **_stats("variance", b.variance),
                "unallocated_expected_pence": b.unallocated_expected_pence,
                "prob_unallocated": b.prob_unallocated,
            }
            for b in report.pooled_budgets
        ]
    )
    partners = pd.DataFrame(
        [
            {
                "agreement_id": b.agreement_id,
                "funder_id": partner.funder_id,
                "contribution_pence": partner.contribution_pence,
                **_stats("share", partner.share),
            }
            for b in report.pooled_budgets
            for partner in b.partners
        ]
    )
    histograms = pd.DataFrame(
        _histogram_rows("pool", "pool", report.pool.histogram)
        + [
            row
            for p in report.providers
            for row in _histogram_rows("provider", p.provider_id, p.histogram)
        ]
    )
    frames = {
        "summary": summary,
        "providers": providers,
        "pool": pool,
        "pooled_budgets": pooled,
        "partners": partners,
        "histograms": histograms,
        "notes": pd.DataFrame(
            {
                "note": [
                    SIGN_CONVENTION,
                    *filter(None, [reserve_warning(report.pool.reserve)]),
                    *report.notes,
                ]
            }
        ),
    }
    for frame in frames.values():
        for column in [c for c in frame.columns if str(c).endswith("_pence")]:
            frame[column.removesuffix("_pence") + "_gbp"] = frame[column] / 100
    return frames


def workbook_bytes(report: RiskReport) -> bytes:
    """Every table as a sheet of one ``.xlsx`` workbook, in memory."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in report_to_frames(report).items():
            frame.to_excel(writer, sheet_name=name, index=False)
            inert_sheet(writer.sheets[name])
    return buffer.getvalue()


def check_report_path(path: Path) -> None:
    """Raise `UnknownFormat` unless ``path`` ends in .json, .csv or .xlsx."""
    if path.suffix.lower() not in (".json", ".csv", ".xlsx"):
        raise UnknownFormat(f"cannot write {path.name}: use .json, .csv or .xlsx")


def write_report(report: RiskReport, path: Path) -> None:
    """``.json``: the full report; ``.csv``: the tidy table; ``.xlsx``: a sheet per table."""
    check_report_path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(report.model_dump_json(indent=2) + "\n")
    elif suffix == ".csv":
        write_csv(report_tidy(report), path)
    else:
        path.write_bytes(workbook_bytes(report))
