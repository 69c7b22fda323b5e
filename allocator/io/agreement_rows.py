"""A designed risk-share agreement as workbook rows finance staff paste into the scenario.

`allocator risk-design ... --out agreement.xlsx` writes the agreement on the scenario
template's own sheets (RiskShareAgreements, RiskShareBands), with the template's headers,
formats and validation, so its rows paste straight into the scenario workbook; a Design
sheet first says what the design achieves, in £, and what to paste where.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from allocator.io.board_cells import Col, write_table
from allocator.io.excel_layout import SHEET_BY_NAME
from allocator.io.excel_write import write_sheet
from allocator.riskshare.design import AgreementDesign
from models.risk import RiskShareAgreement

Row = tuple[tuple[str | int, ...], dict[str, Any]]


def agreement_sheet_rows(agreement: RiskShareAgreement) -> dict[str, list[Row]]:
    """The agreement's rows per template sheet, laid out as a scenario workbook holds them."""
    doc = agreement.model_dump(mode="json")
    head = ("risk_share_agreements", 0)
    bands: list[Row] = [
        (
            (*head, f"{side}_bands", j),
            {"agreement_id": agreement.agreement_id, "side": side, "order": j + 1, **band},
        )
        for side in ("overspend", "underspend")
        for j, band in enumerate(doc[f"{side}_bands"])
    ]
    partners: list[Row] = [
        ((*head, "partners", j), {"agreement_id": agreement.agreement_id, **partner})
        for j, partner in enumerate(doc["partners"])
    ]
    rows: dict[str, list[Row]] = {"RiskShareAgreements": [(head, doc)], "RiskShareBands": bands}
    if partners:
        rows["PooledPartners"] = partners
    return rows


def design_workbook(design: AgreementDesign) -> Workbook:
    """Design (what it achieves, in £), then the agreement's rows on the template's sheets."""
    if design.agreement is None:
        raise ValueError("no agreement to write: the design is infeasible")
    agreement = design.agreement
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Design"
    figures: list[tuple[str, int | None, str]] = [
        ("Provider", None, design.provider_id),
        ("Budget", design.budget_pence, ""),
        (f"Provider's CVaR limit ({design.level:.0%})", design.provider_limit_pence, ""),
        ("Provider's CVaR on the design draws", design.provider_cvar_pence, ""),
        (
            f"Provider's CVaR on {design.check_draws:,} fresh draws",
            design.provider_cvar_check_pence,
            "",
        ),
        (f"Pool's CVaR limit ({design.level:.0%})", design.pool_limit_pence, ""),
        ("Pool's CVaR on the design draws", design.pool_cvar_pence, ""),
        (f"Pool's CVaR on {design.check_draws:,} fresh draws", design.pool_cvar_check_pence, ""),
        ("Expected transfer, provider to pool", design.expected_transfer_pence, ""),
        (
            "What to do",
            None,
            "Paste the rows of the sheets that follow into the scenario workbook's sheets of "
            f"the same name; then set the Risk-share agreement id of provider "
            f"{design.provider_id} on the Providers sheet to {agreement.agreement_id}.",
        ),
    ]
    write_table(
        ws,
        (Col("What", "figure", width=44), Col("£", "pence", "gbp"), Col("", "text", width=90)),
        [(label, pence, text) for label, pence, text in figures],
        title=f"Risk-share agreement {agreement.agreement_id} for {design.provider_id}",
        basis=(
            f"{design.draws:,} draws (seed {design.seed}); CVaR at {design.level:.0%}; "
            "+ is an overspend, a cost to the bearer"
        ),
    )
    for name, rows in agreement_sheet_rows(agreement).items():
        write_sheet(wb.create_sheet(name), SHEET_BY_NAME[name], rows)
    return wb


def design_workbook_bytes(design: AgreementDesign) -> bytes:
    buffer = io.BytesIO()
    design_workbook(design).save(buffer)
    return buffer.getvalue()
