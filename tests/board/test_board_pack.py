"""The result workbook as a board pack, opened and summed as a finance director would."""

from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from allocator.io.board_cells import MONEY_FORMATS, put_text
from allocator.io.board_pack import board_pack_bytes
from allocator.io.board_verify import verify_board_pack
from allocator.io.cells import inert_text
from models import Scenario
from models.results import AllocationResult

DETAIL = ("Providers", "By place", "By funder", "Flows", "Cells", "Segments")


def _open(data: bytes) -> Any:
    return load_workbook(io.BytesIO(data))


def _pence(value: object) -> int:
    return int(Decimal(str(value)) * 100)


def _table(ws: Worksheet) -> list[dict[str, object]]:
    """Independently of the pack's reader: the header is the row after 'Basis: …'."""
    head = next(r for r in range(1, 10) if str(ws.cell(r, 1).value or "").startswith("Basis:")) + 1
    headers = [c.value for c in ws[head]]
    out = []
    for row in ws.iter_rows(min_row=head + 1, values_only=True):
        if all(v is None for v in row):
            break
        out.append(dict(zip(headers, row, strict=False)))
    return out


@pytest.fixture(scope="module")
def pack(realistic_result: AllocationResult, realistic: Scenario) -> bytes:
    return board_pack_bytes(realistic_result, realistic)


def test_first_sheet_is_the_summary_then_certificate_bridge_notes(pack: bytes) -> None:
    wb = _open(pack)
    assert wb.sheetnames[:4] == ["Summary", "Reconciliation", "Bridge", "Notes"]
    assert set(DETAIL) <= set(wb.sheetnames)
    summary = [str(c.value) for row in wb["Summary"].iter_rows() for c in row if c.value]
    assert "The pot" in summary and "Budgets by provider" in summary
    assert "Places against fair-share target" in summary and "Value and what binds" in summary


def test_every_money_cell_has_a_currency_format_and_no_brackets(pack: bytes) -> None:
    wb = _open(pack)
    money_cells = 0
    for ws in wb.worksheets:
        header: dict[int, str] = {}
        for row in ws.iter_rows():
            texts = {c.column: str(c.value) for c in row if isinstance(c.value, str)}
            if any(c.comment is not None for c in row):  # a header row: field names in comments
                header = texts
                continue
            for cell in row:
                if isinstance(cell.value, str) or cell.value is None:
                    continue
                assert "(" not in cell.number_format, (ws.title, cell.coordinate)
                if "£" in header.get(cell.column, ""):
                    assert cell.number_format in MONEY_FORMATS, (ws.title, cell.coordinate)
                    assert "£" in cell.number_format
                    money_cells += 1
    assert money_cells > 5_000


def test_detail_sheets_sum_to_the_provider_budgets_and_the_pool(
    pack: bytes, realistic_result: AllocationResult
) -> None:
    wb = _open(pack)
    budgets = {p.provider_id: p.budget_pence for p in realistic_result.providers}
    for sheet in DETAIL:
        sums: dict[str, int] = defaultdict(int)
        for row in _table(wb[sheet]):
            sums[str(row["Provider id"])] += _pence(row["Total (£)"])
        assert dict(sums) == budgets, sheet
    paid = {f.funder_id: f.contribution_pence - f.reserve_pence for f in realistic_result.pool}
    for sheet in ("By funder", "Flows"):
        by_funder: dict[str, int] = defaultdict(int)
        for row in _table(wb[sheet]):
            by_funder[str(row["Funder id"])] += _pence(row["Total (£)"])
        assert dict(by_funder) == paid, sheet
    pot = realistic_result.pot
    assert sum(paid.values()) == pot.total_pence - pot.reserve_pence
    cells = _table(wb["Cells"])
    assert sum(_pence(r["Pass-through (£)"] or 0) for r in cells) == pot.pass_through_pence
    assert sum(_pence(r["Schemes (£)"] or 0) for r in cells) == sum(
        s.cost_pence for s in realistic_result.schemes if s.units_funded
    )


def test_summary_shows_pounds_m_with_pounds_to_the_penny_beside(
    pack: bytes, realistic_result: AllocationResult
) -> None:
    ws = _open(pack)["Summary"]
    first = realistic_result.providers[0]
    row = next(r for r in ws.iter_rows() if r[0].value == first.name)
    assert row[3].number_format.startswith('£#,##0.0,,"m"')  # budget £m
    assert _pence(row[6].value) == first.budget_pence and row[6].number_format.startswith(
        "£#,##0.00"
    )
    assert row[7].number_format.startswith("+£")  # change: explicit +


def test_decreases_carry_a_minus_sign(tiny_result: AllocationResult, tiny: Scenario) -> None:
    ws = _open(board_pack_bytes(tiny_result, tiny))["Places"]
    cut = next(r for r in _table(ws) if r["Unit id"] == "P1")
    assert cut["Change (£)"] is not None and float(str(cut["Change (£)"])) < 0
    change = next(c for row in ws.iter_rows() for c in row if c.value == cut["Change (£)"])
    assert change.number_format.split(";")[1].startswith("-£")


def test_certificate_reverifies_and_a_tampered_cell_fails(pack: bytes) -> None:
    assert verify_board_pack(pack) == []
    for sheet, column in (
        ("Cells", "Total (£)"),
        ("Reconciliation", "Out (£)"),
        ("By funder", "Pooled (£)"),
        ("Places", "Allocation (£)"),
        ("Providers", "Total (£)"),
        ("Flows", "Flow (£)"),
    ):
        wb = _open(pack)
        ws = wb[sheet]
        head = (
            next(r for r in range(1, 10) if str(ws.cell(r, 1).value or "").startswith("Basis:")) + 1
        )
        col = next(c.column for c in ws[head] if c.value == column)
        ws.cell(head + 3, col).value = Decimal(str(ws.cell(head + 3, col).value)) + Decimal("0.01")
        buffer = io.BytesIO()
        wb.save(buffer)
        problems = verify_board_pack(buffer.getvalue())
        assert problems, sheet


def test_headers_are_words_with_the_field_in_a_comment_frozen_and_filtered(pack: bytes) -> None:
    ws = _open(pack)["Providers"]
    budget = next(c for c in ws[3] if c.value == "Total (£)")
    assert budget.comment is not None and "budget_pence" in budget.comment.text
    assert ws.freeze_panes == "A4" and ws.auto_filter.ref.startswith("A3:")


def test_notes_price_binding_rules_in_qalys_and_pounds(pack: bytes) -> None:
    ws = _open(pack)["Notes"]
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "Reference rate: £12,936 per QALY" in text
    assert "£1m more here buys" in text and "at the reference rate" in text
    assert "Pace-of-change cap (Providers" in text  # the scenario's own rule name
    assert "e-05" not in text and "value units per £" not in text


def test_text_cells_are_inert(tiny_result: AllocationResult) -> None:
    hostile = tiny_result.model_copy(
        update={
            "providers": [
                tiny_result.providers[0].model_copy(update={"name": '=HYPERLINK("http://x","y")'}),
                *tiny_result.providers[1:],
            ]
        }
    )
    ws = _open(board_pack_bytes(hostile))["Providers"]
    cell = next(c for row in ws.iter_rows() for c in row if "HYPERLINK" in str(c.value))
    assert cell.value == '\'=HYPERLINK("http://x","y")' and cell.data_type == "s"


@pytest.mark.parametrize(
    ("text", "inert"),
    [
        ("=1+1", "'=1+1"),
        ("+44", "'+44"),
        ("-2", "'-2"),
        ("@SUM", "'@SUM"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Northtown", "Northtown"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_inert_text(text: str, inert: str) -> None:
    assert inert_text(text) == inert


def test_put_text_writes_a_string_cell_even_for_numbers_like_text() -> None:
    from openpyxl import Workbook

    ws = Workbook().active
    assert ws is not None
    put_text(ws["A1"], "=2+2")
    put_text(ws["A2"], "007")
    assert (ws["A1"].value, ws["A1"].data_type) == ("'=2+2", "s")
    assert (ws["A2"].value, ws["A2"].data_type) == ("007", "s")


def test_an_infeasible_result_says_there_is_nothing_to_reconcile(tiny: Scenario) -> None:
    from allocator.pipeline import solve_scenario
    from tests.explain.planted import floors_above_pot

    scenario = floors_above_pot(tiny)
    result = solve_scenario(scenario)
    assert not result.feasible
    pack = board_pack_bytes(result, scenario)
    assert verify_board_pack(pack) == []
    text = [
        str(c.value) for row in _open(pack)["Reconciliation"].iter_rows() for c in row if c.value
    ]
    assert any(t.startswith("No allocation (infeasible)") for t in text)
