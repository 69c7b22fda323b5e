"""Excel workbooks: a documented template, exact round trips, every cell problem located."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from allocator.errors import Issue, ScenarioInvalid
from allocator.io.excel import read_workbook, read_workbook_bytes, write_template, write_workbook
from allocator.io.excel_layout import LIST_ROWS, SHEETS, Kind
from allocator.io.excel_zip import check_workbook_bytes
from allocator.validate import WARNING, blocking
from allocator.validate.common import UNREADABLE
from models import PooledPartner, Scenario
from tests.conftest import DATA
from tests.unit.conftest import TINY_DOCUMENT

ALL_SHEETS = ["README", "Scenario", *(sheet.name for sheet in SHEETS)]


def _at(issues: list[Issue], sheet: str, row: int | None, fragment: str) -> Issue:
    for issue in issues:
        if issue.sheet == sheet and issue.row == row and fragment.lower() in issue.message.lower():
            return issue
    listing = "\n".join(f"  {i.sheet} {i.row} {i.loc} [{i.code}] {i.message}" for i in issues)
    raise AssertionError(f"no issue on {sheet} row {row} containing {fragment!r}:\n{listing}")


@pytest.fixture
def tiny_xlsx(tiny: Scenario, tmp_path: Path) -> Path:
    path = tmp_path / "tiny.xlsx"
    write_workbook(tiny, path)
    return path


def _edit(path: Path, change: Callable[[Workbook], None]) -> tuple[Scenario | None, list[Issue]]:
    wb = load_workbook(path)
    change(wb)
    wb.save(path)
    return read_workbook(path)


def _setting_row(wb: Workbook, key: str) -> int:
    ws = wb["Scenario"]
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == key)


# -- the template --------------------------------------------------------------------------


def test_template_has_every_sheet_documented_and_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path)
    wb = load_workbook(path)
    assert wb.sheetnames == ALL_SHEETS
    for spec in SHEETS:
        ws = wb[spec.name]
        assert ws.max_row == 1, spec.name  # headers only
        assert ws.freeze_panes == "A2"
        for number, column in enumerate(spec.columns, start=1):
            cell = ws.cell(row=1, column=number)
            assert cell.value == column.header
            assert cell.font.bold
            assert cell.comment is not None and column.key in cell.comment.text
            assert ws.column_dimensions[cell.column_letter].width == column.width
    settings = wb["Scenario"]
    assert settings.cell(row=_setting_row(wb, "objective.kind"), column=3).value == "lexicographic"
    assert settings.cell(row=_setting_row(wb, "scenario_id"), column=3).value is None
    readme = "\n".join(str(c.value) for c in wb["README"]["A"] if c.value)
    assert "POUNDS" in readme and "whole pence" in readme and "123,456" in readme
    for spec in SHEETS:
        assert f"Sheet: {spec.name}" in readme
    assert readme.count("Example row: ") == len(SHEETS)


def test_template_headers_carry_units(tmp_path: Path) -> None:
    headers = {c.header for s in SHEETS for c in s.columns}
    assert {
        "Headcount (people)",
        "Cost weight (×)",
        "Baseline (£)",
        "Provider share (0–1)",
    } <= headers
    for spec in SHEETS:
        for column in spec.columns:
            if column.kind is Kind.MONEY:
                assert "(£" in column.header, column.header


def test_template_has_drop_down_lists_for_choices_and_ids(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path)
    wb = load_workbook(path)

    def lists(sheet: str) -> dict[str, str]:
        out = {}
        for dv in wb[sheet].data_validations.dataValidation:
            for cell_range in dv.sqref.ranges:
                out[cell_range.coord] = f"{dv.type}:{dv.formula1}"
        return out

    neighbourhoods = lists("Neighbourhoods")
    assert neighbourhoods[f"B2:B{LIST_ROWS}"] == f"list:=Places!$A$2:$A${LIST_ROWS}"
    providers = lists("Providers")
    assert providers[f"C2:C{LIST_ROWS}"].startswith('list:"acute,community,')
    assert providers[f"K2:K{LIST_ROWS}"] == 'list:"capitated,block,activity,blended"'
    assert providers[f"F2:F{LIST_ROWS}"] == "decimal:0"
    funders = lists("Funders")
    assert "nhs_allocation" in funders[f"C2:C{LIST_ROWS}"]
    pace = lists("PaceOfChange")
    assert pace[f"C2:C{LIST_ROWS}"] == 'list:"provider,place"'
    assert pace[f"K2:K{LIST_ROWS}"] == 'list:"TRUE,FALSE"'
    assert lists("FairShares")[f"D2:D{LIST_ROWS}"] == 'list:"band,converge"'
    assert lists("RiskShareBands")[f"E2:E{LIST_ROWS}"] == "decimal:0"


# -- round trips ---------------------------------------------------------------------------


def test_round_trip_is_exact(tiny: Scenario, tiny_xlsx: Path) -> None:
    scenario, issues = read_workbook(tiny_xlsx)
    assert issues == []
    assert scenario == tiny
    assert scenario is not None and scenario.content_hash() == tiny.content_hash()


def test_money_is_written_in_pounds(tiny_xlsx: Path) -> None:
    wb = load_workbook(tiny_xlsx)
    cell = wb["Providers"]["F2"]
    assert cell.value == 4_000_000
    assert cell.number_format == "#,##0.00"
    assert wb["Funders"]["D2"].value == 10_000_000


def test_floats_needing_17_digits_survive(tiny: Scenario, tmp_path: Path) -> None:
    doc = tiny.model_dump(mode="json")
    doc["segments"][0]["cost_weight"] = 0.1 + 0.2
    doc["populations"][0]["headcount"] = 6000.000000000001
    doc["local_adjustments"][0]["factor"] = 1.2345678901234567
    doc["funders"][0]["amount_pence"] = 1_000_000_000_000_01  # £10bn and a penny
    doc["outturn"] = {"segment_correlation": -0.0}  # "-0" would read back as 0
    scenario = Scenario.model_validate(doc)
    write_workbook(scenario, tmp_path / "f.xlsx")
    back, issues = read_workbook(tmp_path / "f.xlsx")
    assert blocking(issues) == []
    assert back == scenario
    assert back is not None and back.content_hash() == scenario.content_hash()


def _pounds(pence: int) -> float:
    return float(Decimal(pence) / 100)


def _fill_template(path: Path) -> None:
    """Fill a blank template from the tiny JSON the way an analyst would: by header, in £."""
    doc = TINY_DOCUMENT
    wb = load_workbook(path)
    ws = wb["Scenario"]
    for row in range(2, ws.max_row + 1):
        key = ws.cell(row=row, column=1).value
        if key == "reserve.share":
            ws.cell(row=row, column=3).value = doc["reserve"]["share"]
        elif key in ("scenario_id", "name", "financial_year", "description"):
            ws.cell(row=row, column=3).value = doc[key]
    tables = {
        "Systems": doc["systems"],
        "Places": doc["places"],
        "Neighbourhoods": doc["neighbourhoods"],
        "Segments": doc["segments"],
        "Populations": doc["populations"],
        "LocalAdjustments": doc["local_adjustments"],
        "Funders": doc["funders"],
        "RingFences": doc["ring_fences"],
        "Providers": doc["providers"],
        "PaceOfChange": doc["pace_of_change"],
        "FairShares": doc["fair_shares"],
        "ValueCurves": [
            {"segment_id": c["segment_id"], "provider_kind": c["provider_kind"], **p}
            for c in doc["value_curves"]
            for p in c["points"]
        ],
    }
    for spec in SHEETS:
        ws = wb[spec.name]
        for row_number, row in enumerate(tables.get(spec.name, []), start=2):
            for col_number, column in enumerate(spec.columns, start=1):
                value = row.get(column.key)
                if value is None:
                    continue
                if column.kind is Kind.MONEY:
                    value = _pounds(value)
                elif isinstance(value, list):
                    value = ", ".join(value)
                ws.cell(row=row_number, column=col_number).value = value
    wb.save(path)


def test_template_filled_by_hand_reads_back_to_the_json_scenario(
    tiny: Scenario, tmp_path: Path
) -> None:
    path = tmp_path / "filled.xlsx"
    write_template(path)
    _fill_template(path)
    scenario, issues = read_workbook(path)
    assert issues == []
    assert scenario == tiny
    assert scenario is not None
    write_workbook(scenario, tmp_path / "again.xlsx")
    again, issues = read_workbook(tmp_path / "again.xlsx")
    assert issues == [] and again == tiny
    assert again is not None and again.content_hash() == tiny.content_hash()


def test_nested_sheets_round_trip(tiny: Scenario, tmp_path: Path) -> None:
    doc = tiny.model_dump(mode="json")
    doc["funders"][0]["pass_through"] = [
        {"provider_id": "C", "segment_id": "frail", "amount_pence": 12_345},
        {"provider_id": "G1", "amount_pence": 1},
    ]
    doc["risk_share_agreements"] = [
        {
            "agreement_id": "RS1",
            "loss_cap_pence": 100,
            "overspend_bands": [
                {"width_pence": 50_000_000, "provider_share": 1.0},
                {"provider_share": 0.5},
            ],
            "underspend_bands": [{"width_pence": 10, "provider_share": 0.25}],
        },
        {
            "agreement_id": "S75",
            "profile": "pooled_pro_rata",
            "partners": [
                {"funder_id": "NHS", "contribution_pence": 300_000_001},
                {"funder_id": "LA", "contribution_pence": 100_000_000},
            ],
        },
    ]
    doc["providers"][2]["risk_share_agreement_id"] = "RS1"
    doc["providers"][1]["risk_share_agreement_id"] = "S75"
    doc["providers"][0]["payment"] = {
        "kind": "blended",
        "fixed_pence": 300_000_000,
        "unit_price_pence": 15_000,
        "planned_volume": 1000.5,
        "variable_rate_share": 0.75,
        "two_sided": False,
    }
    doc["providers"][1]["payment"] = {
        "kind": "activity",
        "unit_price_pence": 20_000,
        "planned_volume": 2500,
        "max_volume": 3000,
    }
    doc["providers"][2]["payment"] = {"kind": "block"}
    doc["outturn"] = {
        "segment_overrides": [{"segment_id": "frail", "sd_share": 0.07}],
        "breakeven": "organisation",
    }
    doc["minimum_spends"] = [
        {
            "rule_id": "bcf",
            "provider_kinds": ["social_care"],
            "baseline_pence": 190_000_000,
            "min_growth_share": 0.05,
            "hard": False,
        }
    ]
    doc["objective"] = {"kind": "weighted", "stages": ["value", "fairness"], "time_limit_s": 30}
    scenario = Scenario.model_validate(doc)
    write_workbook(scenario, tmp_path / "n.xlsx")
    back, issues = read_workbook(tmp_path / "n.xlsx")
    assert blocking(issues) == []
    assert back == scenario
    wb = load_workbook(tmp_path / "n.xlsx")
    assert [c.value for c in wb["RiskShareBands"][3]] == ["RS1", "overspend", 2, None, 0.5]
    assert [[c.value for c in row] for row in wb["PooledPartners"].iter_rows(min_row=2)] == [
        ["S75", "NHS", 3_000_000.01],
        ["S75", "LA", 1_000_000],
    ]
    assert back is not None and back.risk_share_agreements[1].partners == (
        PooledPartner(funder_id="NHS", contribution_pence=300_000_001),
        PooledPartner(funder_id="LA", contribution_pence=100_000_000),
    )


# -- problems in cells ---------------------------------------------------------------------


def test_every_planted_error_in_the_workbook_is_located() -> None:
    scenario, issues = read_workbook(DATA / "invalid" / "ten_errors.xlsx")
    assert scenario is None
    expected = [
        ("Populations", 2, ("populations", 0, "headcount"), "is text ('lots')"),
        ("Funders", 2, ("funders", 0, "amount_pence"), "formulas are not accepted; paste values"),
        ("Funders", 3, ("funders", 1, "amount_pence"), "more than 2 decimal places"),
        ("Providers", 3, ("providers", 1, "baseline_pence"), "must be 0 or more"),
        ("Providers", 4, ("providers", 2, "kind"), "not a known provider kind"),
        ("Neighbourhoods", 3, ("neighbourhoods", 1, "place_id"), "unknown place 'P9'"),
        ("Places", 3, ("places", 1, "system_id"), "unknown system 'S2'"),
        ("Segments", 4, ("segments", 2, "segment_id"), "duplicate segment id 'well'"),
        ("LocalAdjustments", 2, ("local_adjustments", 0, "factor"), "more than 0"),
        ("PaceOfChange", 2, ("pace_of_change", 0, "hard"), "TRUE or FALSE"),
        ("ValueCurves", 3, ("value_curves", 0, "points", 1, "value_per_head"), "is text ('high')"),
        ("Scenario", 7, ("reserve", "share"), "at most 1"),
    ]
    for sheet, row, loc, fragment in expected:
        issue = _at(issues, sheet, row, fragment)
        assert issue.loc == loc
        assert issue.code != WARNING
    assert _at(issues, "Notes", None, "not part of the template").code == WARNING
    # one issue per planted error, plus the consequence that place P2 lost its neighbourhood
    assert len(blocking(issues)) == len(expected) + 1


def test_money_column_messages_name_the_column(tiny_xlsx: Path) -> None:
    _, issues = _edit(tiny_xlsx, lambda wb: wb["Providers"].__setitem__("F2", -1))
    issue = _at(issues, "Providers", 2, "column 'Baseline (£)'")
    assert "-100 pence (-£1.00)" in issue.message


@pytest.mark.parametrize(
    ("cell", "value", "expected"),
    [
        ("F2", "£4,000,000.50", 400_000_050),
        ("F2", "4000000", 400_000_000),
        ("F2", 4000000.5, 400_000_050),
    ],
)
def test_money_text_and_numbers_convert_exactly(
    tiny_xlsx: Path, cell: str, value: Any, expected: int
) -> None:
    scenario, issues = _edit(tiny_xlsx, lambda wb: wb["Providers"].__setitem__(cell, value))
    assert blocking(issues) == [], issues
    assert scenario is not None and scenario.providers[0].baseline_pence == expected


def test_friendly_spellings_are_accepted(tiny_xlsx: Path) -> None:
    def change(wb: Workbook) -> None:
        wb["Providers"]["C4"] = "Social care"  # a choice with spaces and capitals
        wb["Providers"]["D4"] = "P1,P2,"  # a trailing comma
        wb["PaceOfChange"]["F2"] = "10%"  # a percentage
        wb["PaceOfChange"]["K2"] = "yes"
        wb["Systems"]["A2"] = 7  # an id typed as a number
        wb["Places"]["B2"] = 7
        wb["Places"]["B3"] = 7

    scenario, issues = _edit(tiny_xlsx, change)
    assert blocking(issues) == [], issues
    assert scenario is not None
    assert scenario.providers[2].place_ids == ("P1", "P2")
    assert scenario.pace_of_change[0].cap_growth_share == 0.1
    assert scenario.systems[0].system_id == "7"


def test_empty_rows_are_skipped(tiny_xlsx: Path, tiny: Scenario) -> None:
    def change(wb: Workbook) -> None:
        ws = wb["Providers"]
        ws.insert_rows(3, amount=2)

    scenario, issues = _edit(tiny_xlsx, change)
    assert issues == [] and scenario == tiny


def test_issue_rows_follow_the_sheet_rows_across_gaps(tiny_xlsx: Path) -> None:
    def change(wb: Workbook) -> None:
        ws = wb["Providers"]
        ws.insert_rows(3, amount=2)
        ws["F6"] = -1  # the third provider, now on row 6

    _, issues = _edit(tiny_xlsx, change)
    assert _at(issues, "Providers", 6, "0 or more").loc == ("providers", 2, "baseline_pence")


def test_payment_cells_of_another_kind_are_pointed_out(tiny_xlsx: Path) -> None:
    def change(wb: Workbook) -> None:
        wb["Providers"]["K2"] = "block"
        wb["Providers"]["M2"] = 12.5  # a unit price, which a block payment does not have

    _, issues = _edit(tiny_xlsx, change)
    issue = _at(issues, "Providers", 2, "not used with this payment kind")
    assert issue.loc == ("providers", 0, "payment", "unit_price_pence")
    assert "Unit price (£)" in issue.message


def test_structure_problems_are_reported(tiny_xlsx: Path) -> None:
    def change(wb: Workbook) -> None:
        wb["Providers"]["S1"] = "Colour"  # an unknown column
        wb["Segments"].delete_cols(3)  # a required column gone
        del wb["Schemes"]  # an optional sheet gone
        del wb["Systems"]  # a required sheet gone
        wb["Scenario"]["A40"] = "reserve.colour"
        wb["Scenario"]["C40"] = 3

    _, issues = _edit(tiny_xlsx, change)
    assert _at(issues, "Providers", 1, "column 'Colour' is not part").code == WARNING
    assert (
        _at(issues, "Segments", 1, "required column 'Cost weight (×)' is missing").code != WARNING
    )
    assert _at(issues, "Schemes", None, "missing").code == WARNING
    assert _at(issues, "Systems", None, "required sheet 'Systems' is missing").code != WARNING
    assert _at(issues, "Scenario", 40, "unknown setting 'reserve.colour'")


def test_orphan_rows_of_nested_sheets_are_located(tiny_xlsx: Path) -> None:
    def change(wb: Workbook) -> None:
        wb["PassThrough"].append(["NOPE", "C", None, 10])
        wb["RiskShareBands"].append(["RS9", "overspend", 1, 5, 0.5])
        wb["PooledPartners"].append(["S75", "LA", 10])

    _, issues = _edit(tiny_xlsx, change)
    assert _at(issues, "PassThrough", 2, "'NOPE' is not on the Funders sheet").loc == ("funders",)
    assert _at(issues, "RiskShareBands", 2, "'RS9' is not on the RiskShareAgreements sheet")
    assert _at(issues, "PooledPartners", 2, "'S75' is not on the RiskShareAgreements sheet")


def test_pooled_partner_cells_are_located(tiny: Scenario, tmp_path: Path) -> None:
    doc = tiny.model_dump(mode="json")
    doc["risk_share_agreements"] = [
        {
            "agreement_id": "S75",
            "profile": "pooled_pro_rata",
            "partners": [{"funder_id": "LA", "contribution_pence": 100}],
        }
    ]
    path = tmp_path / "p.xlsx"
    write_workbook(Scenario.model_validate(doc), path)
    _, issues = _edit(path, lambda wb: wb["PooledPartners"].__setitem__("C2", -5))
    issue = _at(issues, "PooledPartners", 2, "column 'Contribution (£)'")
    assert issue.loc == ("risk_share_agreements", 0, "partners", 0, "contribution_pence")


def test_dates_and_error_values_are_rejected(tiny_xlsx: Path) -> None:
    import datetime as dt

    def change(wb: Workbook) -> None:
        wb["Populations"]["C3"] = dt.date(2025, 4, 1)
        wb["Populations"]["C4"] = "#N/A"
        wb["Populations"]["C4"].data_type = "e"

    _, issues = _edit(tiny_xlsx, change)
    assert _at(issues, "Populations", 3, "date")
    assert _at(issues, "Populations", 4, "Excel error")


def test_text_starting_with_equals_is_written_as_text(tiny: Scenario, tmp_path: Path) -> None:
    doc = tiny.model_dump(mode="json")
    doc["providers"][0]["name"] = "=HYPERLINK(evil)"
    write_workbook(Scenario.model_validate(doc), tmp_path / "x.xlsx")
    cell = load_workbook(tmp_path / "x.xlsx")["Providers"]["B2"]
    assert cell.data_type == "s"


def test_control_characters_cannot_be_written(tiny: Scenario, tmp_path: Path) -> None:
    doc = tiny.model_dump(mode="json")
    doc["providers"][0]["name"] = "bad\x01name"
    with pytest.raises(ScenarioInvalid) as caught:
        write_workbook(Scenario.model_validate(doc), tmp_path / "x.xlsx")
    assert caught.value.issues[0].loc == ("providers", 0, "name")


# -- hostile files -------------------------------------------------------------------------


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


WORKBOOK_PARTS = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"name,amount\nNHS,1\n", "not an Excel workbook"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100,
            "old-format .xls or a password-protected",
        ),
        (_zip({"hello.txt": b"hi"}), "not an Excel workbook (no xl/workbook.xml)"),
        (
            _zip({**WORKBOOK_PARTS, "xl/big.xml": b"\0" * (51 * 1024 * 1024)}),
            "more than the 50 MB limit",
        ),
        (_zip({**WORKBOOK_PARTS, "xl/bomb.xml": b"\0" * (20 * 1024 * 1024)}), "possible zip bomb"),
        (
            _zip(
                {
                    **WORKBOOK_PARTS,
                    "xl/worksheets/sheet1.xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
                }
            ),
            "document type",
        ),
        (_zip(WORKBOOK_PARTS)[:-30], "not an Excel workbook"),
    ],
)
def test_hostile_or_wrong_files_are_refused_before_parsing(data: bytes, fragment: str) -> None:
    issues = check_workbook_bytes(data)
    assert len(issues) == 1 and fragment in issues[0].message
    assert issues[0].code == UNREADABLE
    scenario, read_issues = read_workbook_bytes(data)
    assert scenario is None and read_issues == issues


def test_a_zip_that_openpyxl_cannot_open_is_an_issue() -> None:
    scenario, issues = read_workbook_bytes(_zip(WORKBOOK_PARTS))
    assert scenario is None
    assert issues[0].code == UNREADABLE and "cannot be opened" in issues[0].message


def test_a_real_workbook_passes_the_guard(tiny_xlsx: Path) -> None:
    assert check_workbook_bytes(tiny_xlsx.read_bytes()) == []
