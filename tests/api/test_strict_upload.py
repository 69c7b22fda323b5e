"""Strict inputs through the API: text pence and an unreadable workbook cell are located 422s."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from models import Scenario
from tests.api.helpers import API, Headers, assert_problem, tiny_for
from tests.unit.test_strict_inputs import _with_cell

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_text_pence_posted_as_json_is_a_located_422(client: TestClient, admin: Headers) -> None:
    doc = tiny_for("S1")
    doc["funders"][0]["amount_pence"] = "1000000000"
    response = client.post(
        f"{API}/scenarios",
        content=json.dumps(doc),
        headers={**admin, "content-type": "application/json"},
    )
    problem = assert_problem(response, 422)
    messages = [e for e in problem["errors"] if "not text" in e["message"]]
    assert messages, problem
    assert messages[0]["loc"][:3] == ["funders", 0, "amount_pence"]


def test_unreadable_workbook_cell_is_a_located_422(
    client: TestClient, admin: Headers, tmp_path: Path
) -> None:
    data = _with_cell(
        Scenario.model_validate(tiny_for("S1")),
        tmp_path,
        "Funders",
        "D2",
        '<c r="D2"><v>NaN</v></c>',
    )
    response = client.post(
        f"{API}/scenarios", files={"file": ("s.xlsx", data, XLSX)}, headers=admin
    )
    problem = assert_problem(response, 422)
    cells = [(e["sheet"], e["row"], e["cell"]) for e in problem["errors"]]
    assert cells == [("Funders", 2, "Funders!D2")], problem
    assert "cannot be read" in problem["errors"][0]["message"]
