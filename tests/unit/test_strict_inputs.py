"""Strict inputs: money is never coerced, partners and factors are checked, and a workbook
cell that cannot be read is a located problem (sheet, row, column), never a failed workbook."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from allocator.errors import Issue
from allocator.io.excel import read_workbook_bytes, write_workbook
from allocator.io.json_io import read_json_text
from allocator.validate import WARNING, blocking
from cli.app import app
from models import Scenario
from tests.unit.conftest import find


def _read(doc: dict[str, Any]) -> tuple[Scenario | None, list[Issue]]:
    return read_json_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("1000000000", "not text; got '1000000000'"), (True, "got true"), (False, "got false")],
)
def test_text_or_boolean_pence_are_errors_not_coerced(
    tiny_doc: dict[str, Any], value: object, fragment: str
) -> None:
    tiny_doc["funders"][0]["amount_pence"] = value
    scenario, issues = _read(tiny_doc)
    assert scenario is None
    find(issues, ("funders", 0, "amount_pence"), fragment)


def test_text_pence_in_nested_and_optional_money_fields(tiny_doc: dict[str, Any]) -> None:
    tiny_doc["providers"][0]["capacity_pence"] = "5000"
    tiny_doc["reserve"] = {"amount_pence": True}
    scenario, issues = _read(tiny_doc)
    assert scenario is None
    find(issues, ("providers", 0, "capacity_pence"), "not text")
    find(issues, ("reserve", "amount_pence"), "got true")


def test_whole_number_pence_still_read(tiny_doc: dict[str, Any]) -> None:
    tiny_doc["funders"][0]["amount_pence"] = 1_000_000_000
    scenario, issues = _read(tiny_doc)
    assert scenario is not None and not blocking(issues)
    assert scenario.funders[0].amount_pence == 1_000_000_000


def _pooled(doc: dict[str, Any], partners: list[dict[str, Any]]) -> None:
    doc["risk_share_agreements"] = [
        {"agreement_id": "POOL", "profile": "pooled_pro_rata", "partners": partners}
    ]


def test_pooled_partner_naming_an_unknown_funder_is_located(tiny_doc: dict[str, Any]) -> None:
    _pooled(
        tiny_doc,
        [
            {"funder_id": "NHS", "contribution_pence": 1},
            {"funder_id": "NSH", "contribution_pence": 1},
        ],
    )
    scenario, issues = _read(tiny_doc)
    assert scenario is None
    issue = find(issues, ("risk_share_agreements", 0, "partners", 1, "funder_id"), "unknown funder")
    assert "'NHS'" in issue.message  # the did-you-mean hint


def test_pooled_partner_contributing_more_than_its_funder_pools(tiny_doc: dict[str, Any]) -> None:
    # LA brings £2,000,000.00 (200,000,000 pence) and passes nothing through.
    _pooled(tiny_doc, [{"funder_id": "LA", "contribution_pence": 200_000_001}])
    scenario, issues = _read(tiny_doc)
    assert scenario is None
    issue = find(issues, ("risk_share_agreements", 0, "partners", 0, "contribution_pence"))
    assert "£2,000,000.01" in issue.message and "£2,000,000.00" in issue.message
    _pooled(tiny_doc, [{"funder_id": "LA", "contribution_pence": 200_000_000}])
    scenario, issues = _read(tiny_doc)
    assert scenario is not None, [i.message for i in blocking(issues)]


def test_adjustment_factor_that_zeroes_a_target_is_a_warning(tiny_doc: dict[str, Any]) -> None:
    tiny_doc["local_adjustments"] = [{"neighbourhood_id": "N2", "factor": 1e-15}]
    scenario, issues = _read(tiny_doc)
    assert scenario is not None
    issue = find(issues, ("local_adjustments", 0, "factor"), "target zero")
    assert issue.code == WARNING
    tiny_doc["local_adjustments"] = [{"neighbourhood_id": "N2", "factor": 0.5}]
    _, issues = _read(tiny_doc)
    assert not [i for i in issues if "target zero" in i.message]


# -- workbook cells that cannot be read -------------------------------------------------


def _with_cell(tiny: Scenario, tmp_path: Path, sheet: str, ref: str, xml: str) -> bytes:
    """The tiny workbook with cell ``ref`` of ``sheet`` replaced by raw ``xml``."""
    path = tmp_path / "t.xlsx"
    write_workbook(tiny, path)
    source = zipfile.ZipFile(path)
    book = source.read("xl/workbook.xml").decode()
    rels = source.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet[^>]*name="{sheet}"[^>]*r:id="(rId\d+)"', book)
    assert rid is not None
    target = re.search(rf'Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels) or re.search(
        rf'Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels
    )
    assert target is not None
    part = "xl/" + target.group(1).removeprefix("/xl/").removeprefix("/")
    text = source.read(part).decode()
    old = re.search(rf'<c r="{ref}"[^>]*(?:/>|>.*?</c>)', text)
    assert old is not None
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        for name in source.namelist():
            data = source.read(name)
            zipped.writestr(name, text.replace(old.group(0), xml) if name == part else data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("xml", "fragment"),
    [
        ('<c r="D2"><v>NaN</v></c>', "cannot be read (the file holds 'NaN')"),
        ('<c r="D2"><v>abc</v></c>', "cannot be read (the file holds 'abc')"),
        ('<c r="D2" t="s"><v>99999</v></c>', "cannot be read"),
        ('<c r="D2" t="d"><v>notadate</v></c>', "cannot be read"),
        ('<c r="D2"><v>1e309</v></c>', "must be a finite amount"),
        ('<c r="D2" t="inlineStr"><is><t>1e309</t></is></c>', "too large to be an amount"),
        ('<c r="D2" t="inlineStr"><is><t>NaN</t></is></c>', "must be a finite amount"),
    ],
)
def test_unreadable_money_cell_is_located(
    tiny: Scenario, tmp_path: Path, xml: str, fragment: str
) -> None:
    scenario, issues = read_workbook_bytes(_with_cell(tiny, tmp_path, "Funders", "D2", xml))
    assert scenario is None
    located = [(i.sheet, i.row, i.column) for i in blocking(issues)]
    assert located == [("Funders", 2, "D")], [i.message for i in issues]
    assert fragment in blocking(issues)[0].message


def test_unreadable_number_cell_is_located_and_other_rows_still_read(
    tiny: Scenario, tmp_path: Path
) -> None:
    data = _with_cell(tiny, tmp_path, "Populations", "C2", '<c r="C2"><v>1e309x</v></c>')
    scenario, issues = read_workbook_bytes(data)
    assert scenario is None
    assert [(i.sheet, i.row, i.column) for i in blocking(issues)] == [("Populations", 2, "C")]
    assert "cannot be read" in blocking(issues)[0].message


def test_cli_validate_reports_text_pence_located(tmp_path: Path, tiny_doc: dict[str, Any]) -> None:
    tiny_doc["funders"][1]["amount_pence"] = "200000000"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(tiny_doc))
    done = CliRunner().invoke(app, ["validate", str(path)])
    assert done.exit_code != 0
    assert "funders[1].amount_pence" in done.output or "funders.1.amount_pence" in done.output
    assert "not text" in done.output
    assert "Traceback" not in done.output
