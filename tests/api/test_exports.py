"""Exports served by the API never carry a live spreadsheet formula (names are inert text)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import API, Headers, solved_result, submit, tiny_for
from tests.unit.test_export_cells import HOSTILE, assert_inert_csv, assert_inert_workbook


def test_result_and_risk_downloads_are_inert(client: TestClient, admin: Headers) -> None:
    doc = tiny_for("S1")
    for number, provider in enumerate(doc["providers"]):
        provider["name"] = HOSTILE[number % len(HOSTILE)]
    for number, place in enumerate(doc["places"]):
        place["name"] = HOSTILE[(number + 3) % len(HOSTILE)]
    result_id = solved_result(client, admin, submit(client, admin, doc))
    export = f"{API}/results/{result_id}/export"
    csv = client.get(export, params={"format": "csv"}, headers=admin)
    assert csv.status_code == 200, csv.text
    assert_inert_csv(csv.content.decode())
    for table in ("places", "cells"):
        body = client.get(export, params={"format": "csv", "table": table}, headers=admin)
        assert body.status_code == 200, body.text
        assert_inert_csv(body.content.decode(), names=False)
    xlsx = client.get(export, params={"format": "xlsx"}, headers=admin)
    assert xlsx.status_code == 200
    assert_inert_workbook(xlsx.content)
    risk = f"{API}/results/{result_id}/risk"
    for fmt in ("csv", "xlsx"):
        body = client.get(risk, params={"draws": 200, "format": fmt}, headers=admin)
        assert body.status_code == 200, body.text
        if fmt == "csv":
            assert_inert_csv(body.content.decode(), names=False)
        else:
            assert_inert_workbook(body.content, names=False)
