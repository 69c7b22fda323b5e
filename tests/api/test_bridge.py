"""POST /results/{a}/bridge/{b}: the waterfall between two stored results, by input group."""

from __future__ import annotations

import copy
import io
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from api.security import Role
from tests.api.helpers import (
    API,
    TINY,
    Headers,
    assert_problem,
    make_settings,
    new_key,
    solved_result,
    submit,
    tiny_for,
)


def _pair(client: TestClient, headers: Headers) -> tuple[str, str]:
    a = solved_result(client, headers, submit(client, headers))
    funders = copy.deepcopy(TINY["funders"])
    funders[0]["amount_pence"] = int(funders[0]["amount_pence"] * 0.98)
    pace = copy.deepcopy(TINY["pace_of_change"])
    pace[0]["cap_growth_share"] = 0.08
    b_doc = tiny_for("S1", funders=funders, pace_of_change=pace)
    b = solved_result(client, headers, submit(client, headers, b_doc))
    return a, b


def test_api_bridge_adds_up_for_every_figure(client: TestClient, admin: Headers) -> None:
    a, b = _pair(client, admin)
    response = client.post(f"{API}/results/{a}/bridge/{b}", headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["order"] == ["pot and funders", "pace rules"]
    totals = body["total_change_pence"]
    assert {k.split(" ")[0] for k in totals} == {"provider", "place", "segment"}
    for figure, total in totals.items():
        assert sum(s["effect_pence"][figure] for s in body["steps"]) == total, figure
        assert body["largest_step"][figure] in body["order"]
    # The total change is the published difference between the two stored results.
    ra = client.get(f"{API}/results/{a}", headers=admin).json()["result"]
    rb = client.get(f"{API}/results/{b}", headers=admin).json()["result"]
    for pa, pb in zip(ra["providers"], rb["providers"], strict=True):
        change = pb["budget_pence"] - pa["budget_pence"]
        assert totals[f"provider {pa['provider_id']}"] == change

    reordered = client.post(
        f"{API}/results/{a}/bridge/{b}", params={"order": "pace rules"}, headers=admin
    ).json()
    assert reordered["order"] == ["pace rules", "pot and funders"]
    assert reordered["total_change_pence"] == totals

    sheet = client.post(f"{API}/results/{a}/bridge/{b}?format=xlsx", headers=admin)
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.content))
    assert book.sheetnames == ["Bridge", "Steps", "Order"]
    rows = list(book["Bridge"].iter_rows(values_only=True))
    header = rows[0]
    steps = [i for i, h in enumerate(header) if str(h).endswith("(pence)")]
    total = header.index("total_change_pence")
    for row in rows[1:]:
        assert sum(row[i] for i in steps) == row[total]


def test_api_bridge_problems(client: TestClient, admin: Headers, app: FastAPI) -> None:
    a, b = _pair(client, admin)
    unknown = client.post(f"{API}/results/{a}/bridge/{b}?order=weather", headers=admin)
    assert "the groups are" in assert_problem(unknown, 422)["detail"]
    assert client.post(f"{API}/results/{a}/bridge/nope", headers=admin).status_code == 404
    stranger = new_key(app, Role.ADMIN, "S2")
    assert client.post(f"{API}/results/{a}/bridge/{b}", headers=stranger).status_code == 404


def test_api_bridge_refuses_scenarios_too_large_for_a_request(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, sync_max_cells=1))
    with TestClient(app, raise_server_exceptions=False) as client:
        admin = new_key(app, Role.ADMIN, "S1")
        result = solved_result(client, admin, submit(client, admin))
        refused = client.post(f"{API}/results/{result}/bridge/{result}", headers=admin)
        assert "allocator bridge" in assert_problem(refused, 413)["detail"]
