"""Results: full JSON, exports, approval as plan of record, comparisons."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from allocator.io.board_verify import verify_board_pack
from api.security import Role
from tests.api.helpers import API, Headers, assert_problem, solved_result, submit, tiny_for


def test_full_result(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    result_id = solved_result(client, admin, scenario_id)
    body = client.get(f"{API}/results/{result_id}", headers=admin).json()
    assert body["id"] == result_id and body["scenario_id"] == scenario_id and body["version"] == 1
    assert body["plan_of_record"] is False
    assert {p["provider_id"] for p in body["result"]["providers"]} == {"G1", "G2", "C"}
    listed = client.get(f"{API}/scenarios/{scenario_id}/results", headers=admin).json()
    assert [r["id"] for r in listed] == [result_id]
    assert_problem(client.get(f"{API}/results/nope", headers=admin), 404)


def test_csv_export_is_one_tidy_table(client: TestClient, admin: Headers) -> None:
    result_id = solved_result(client, admin, submit(client, admin))
    response = client.get(f"{API}/results/{result_id}/export", headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    levels = {row["level"] for row in rows}
    assert levels == {"provider", "place", "neighbourhood"}
    providers = [row for row in rows if row["level"] == "provider"]
    result = client.get(f"{API}/results/{result_id}", headers=admin).json()["result"]
    assert sum(int(row["amount_pence"]) for row in providers) == sum(
        p["budget_pence"] for p in result["providers"]
    )
    cells = client.get(
        f"{API}/results/{result_id}/export", params={"table": "cells"}, headers=admin
    )
    assert cells.status_code == 200 and cells.text.startswith("provider_id,neighbourhood_id")
    assert_problem(
        client.get(f"{API}/results/{result_id}/export", params={"table": "nope"}, headers=admin),
        422,
    )


def test_xlsx_and_json_export(client: TestClient, admin: Headers) -> None:
    result_id = solved_result(client, admin, submit(client, admin))
    xlsx = client.get(f"{API}/results/{result_id}/export", params={"format": "xlsx"}, headers=admin)
    assert xlsx.status_code == 200
    workbook = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert workbook.sheetnames[:4] == ["Summary", "Reconciliation", "Bridge", "Notes"]
    assert verify_board_pack(xlsx.content) == []
    as_json = client.get(
        f"{API}/results/{result_id}/export", params={"format": "json"}, headers=admin
    )
    assert as_json.json()["scenario_hash"]


def test_report_pdf(client: TestClient, admin: Headers) -> None:
    result_id = solved_result(client, admin, submit(client, admin))
    pdf = client.get(f"{API}/results/{result_id}/report.pdf", headers=admin)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"Board report" in pdf.content
    assert_problem(client.get(f"{API}/results/nope/report.pdf", headers=admin), 404)


def test_explanation_in_finance_words(client: TestClient, admin: Headers) -> None:
    result_id = solved_result(client, admin, submit(client, admin))
    body = client.get(f"{API}/results/{result_id}/explanation", headers=admin).json()
    assert body["reference_rate"].startswith("Reference rate: £12,936 per QALY")
    assert body["in_words"] and any("£1m more" in line for line in body["in_words"])
    assert all("e-0" not in line for line in body["in_words"])


def test_approval_is_the_plan_of_record(
    client: TestClient, admin: Headers, keys: Callable[..., Headers]
) -> None:
    approver = keys(Role.APPROVE, "S1")
    planner = keys(Role.PLAN, "S1")
    scenario_id = submit(client, admin)
    first = solved_result(client, admin, scenario_id)
    second = solved_result(client, admin, scenario_id)
    assert_problem(client.post(f"{API}/results/{first}/approve", headers=planner), 403)

    approved = client.post(
        f"{API}/results/{first}/approve", json={"note": "board"}, headers=approver
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["sequence"] == 1 and approved.json()["note"] == "board"
    assert client.get(f"{API}/results/{first}", headers=admin).json()["plan_of_record"] is True
    scenario = client.get(f"{API}/scenarios/{scenario_id}", headers=admin).json()
    assert scenario["plan_of_record"] == first
    # Approving the same result again changes nothing.
    again = client.post(f"{API}/results/{first}/approve", headers=approver)
    assert again.status_code == 200 and again.json()["sequence"] == 1

    # A second approval needs supersede=true.
    refused = assert_problem(client.post(f"{API}/results/{second}/approve", headers=approver), 409)
    assert first in refused["detail"]
    replaced = client.post(
        f"{API}/results/{second}/approve", json={"supersede": True}, headers=approver
    )
    assert replaced.status_code == 200
    assert replaced.json()["superseded_result_id"] == first and replaced.json()["sequence"] == 2
    assert client.get(f"{API}/results/{first}", headers=admin).json()["plan_of_record"] is False
    assert client.get(f"{API}/results/{second}", headers=admin).json()["plan_of_record"] is True
    actions = [e["action"] for e in client.get(f"{API}/audit", headers=admin).json()]
    assert "result.superseded_and_approved" in actions and "result.approved" in actions


def test_infeasible_result_cannot_be_approved(client: TestClient, admin: Headers) -> None:
    doc = tiny_for("S1")
    doc["pace_of_change"][0].update(floor_growth_share=0.5, cap_growth_share=0.6)
    result_id = solved_result(client, admin, submit(client, admin, doc))
    assert_problem(client.post(f"{API}/results/{result_id}/approve", headers=admin), 409)


def test_comparison_of_two_results(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    before = solved_result(client, admin, scenario_id)
    bigger = tiny_for("S1")
    bigger["funders"][0]["amount_pence"] += 10_000_000
    client.post(
        f"{API}/scenarios/{scenario_id}/versions", json=bigger, headers={**admin, "If-Match": '"1"'}
    )
    after = solved_result(client, admin, scenario_id, version=2)
    response = client.get(f"{API}/comparisons", params={"a": before, "b": after}, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    comparison = body["comparison"]
    assert body["a"]["id"] == before and body["b"]["id"] == after
    assert comparison["pot_change_pence"] == 10_000_000
    providers = [line for line in comparison["lines"] if line["level"] == "provider"]
    assert {line["unit_id"] for line in providers} == {"G1", "G2", "C"}
    assert all(line["change_pence"] == line["b_pence"] - line["a_pence"] for line in providers)
    assert any(change["path"].startswith("funders") for change in comparison["inputs"])
    assert_problem(client.get(f"{API}/comparisons", params={"a": before}, headers=admin), 422)
    assert_problem(
        client.get(f"{API}/comparisons", params={"a": before, "b": "missing"}, headers=admin), 404
    )


def test_comparison_exports_honour_format_and_refuse_others(
    client: TestClient, admin: Headers
) -> None:
    scenario_id = submit(client, admin)
    before = solved_result(client, admin, scenario_id)
    bigger = tiny_for("S1")
    bigger["funders"][0]["amount_pence"] += 10_000_000
    client.post(
        f"{API}/scenarios/{scenario_id}/versions", json=bigger, headers={**admin, "If-Match": '"1"'}
    )
    after = solved_result(client, admin, scenario_id, version=2)
    params = {"a": before, "b": after}
    got = client.get(f"{API}/comparisons", params={**params, "format": "xlsx"}, headers=admin)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(got.content))
    assert book.sheetnames == ["Summary", "Changes", "Rules", "Inputs"]
    inputs = [[c.value for c in row] for row in book["Inputs"].iter_rows(min_row=4) if row[0].value]
    funder = [row for row in inputs if str(row[0]).endswith("amount_pence")]
    assert funder and str(funder[0][1]).startswith("£") and str(funder[0][2]).startswith("£")
    assert float(funder[0][3]) == 100_000.0  # +£100,000.00, not 10000000 pence
    changes = book["Changes"]
    money = [c for c in next(changes.iter_rows(min_row=4, max_row=4)) if c.column in (4, 5, 6)]
    assert all("£" in c.number_format for c in money)
    got = client.get(f"{API}/comparisons", params={**params, "format": "csv"}, headers=admin)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text)))
    providers = [r for r in rows if r["level"] == "provider"]
    assert {r["unit_id"] for r in providers} == {"G1", "G2", "C"}
    assert all(float(r["change_gbp"]) * 100 == int(r["change_pence"]) for r in providers)
    got = client.get(
        f"{API}/comparisons", params={**params, "format": "csv", "table": "inputs"}, headers=admin
    )
    assert "£" in got.text
    for bad in ({"format": "pdf"}, {"format": "csv", "table": "nope"}):
        assert_problem(
            client.get(f"{API}/comparisons", params={**params, **bad}, headers=admin), 422
        )
