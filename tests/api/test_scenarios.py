"""Scenarios: submit (JSON, uploads), list, fetch, versions with optimistic concurrency, download."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from allocator.io.excel import build_workbook
from api.security import Role
from models import Scenario
from tests.api.helpers import API, DATA, Headers, assert_problem, submit, tiny_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(doc: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    build_workbook(Scenario.model_validate(doc)).save(buffer)
    return buffer.getvalue()


def test_create_from_json_body(client: TestClient, admin: Headers) -> None:
    response = client.post(f"{API}/scenarios", json=tiny_for("S1"), headers=admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["systems"] == ["S1"]
    assert body["latest_version"] == 1
    assert body["scenario_id"] == "tiny"
    assert body["latest"]["source_format"] == "json"
    assert body["latest"]["cells"] == 3 * 2 * 2
    assert body["latest"]["content_hash"] == Scenario.model_validate(tiny_for("S1")).content_hash()
    assert response.headers["location"].endswith(f"/scenarios/{body['id']}")
    assert response.headers["etag"] == '"1"'


def test_create_from_uploaded_json_and_workbook(client: TestClient, admin: Headers) -> None:
    doc = tiny_for("S1")
    as_json = client.post(
        f"{API}/scenarios",
        files={"file": ("tiny.json", json.dumps(doc).encode(), "application/json")},
        data={"comment": "first cut"},
        headers=admin,
    )
    assert as_json.status_code == 201, as_json.text
    assert as_json.json()["latest"]["comment"] == "first cut"
    as_xlsx = client.post(
        f"{API}/scenarios", files={"file": ("tiny.xlsx", _xlsx(doc), XLSX)}, headers=admin
    )
    assert as_xlsx.status_code == 201, as_xlsx.text
    assert as_xlsx.json()["latest"]["source_format"] == "xlsx"
    # The same scenario whatever the format.
    assert as_xlsx.json()["latest"]["content_hash"] == as_json.json()["latest"]["content_hash"]


def test_get_list_and_paging(client: TestClient, admin: Headers) -> None:
    ids = [submit(client, admin, tiny_for("S1", name=f"Scenario {i}")) for i in range(3)]
    first = client.get(f"{API}/scenarios", params={"page_size": 2}, headers=admin).json()
    second = client.get(
        f"{API}/scenarios", params={"page_size": 2, "page": 2}, headers=admin
    ).json()
    assert first["total"] == second["total"] == 3
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert {item["id"] for item in first["items"] + second["items"]} == set(ids)
    one = client.get(f"{API}/scenarios/{ids[0]}", headers=admin)
    assert one.status_code == 200
    assert one.json()["document"]["name"] == "Scenario 0"
    assert one.headers["etag"] == '"1"'


def test_versions_with_if_match_and_stale_edit(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    url = f"{API}/scenarios/{scenario_id}/versions"
    v2 = client.post(url, json=tiny_for("S1", name="v2"), headers={**admin, "If-Match": '"1"'})
    assert v2.status_code == 201, v2.text
    assert v2.json()["version"] == 2
    assert v2.headers["etag"] == '"2"'
    # Someone else edited version 1 too: refused, nothing stored.
    stale = client.post(
        url, json=tiny_for("S1", name="stale"), headers={**admin, "If-Match": '"1"'}
    )
    problem = assert_problem(stale, 409)
    assert "latest is 2" in problem["detail"]
    v3 = client.post(url, params={"base_version": 2}, json=tiny_for("S1", name="v3"), headers=admin)
    assert v3.status_code == 201 and v3.json()["version"] == 3
    listed = client.get(url, headers=admin).json()
    assert [v["version"] for v in listed] == [1, 2, 3]
    assert client.get(f"{url}/2", headers=admin).json()["document"]["name"] == "v2"
    latest = client.get(f"{API}/scenarios/{scenario_id}", headers=admin).json()
    assert latest["latest_version"] == 3 and latest["document"]["name"] == "v3"
    assert_problem(client.get(f"{url}/9", headers=admin), 404)


def test_if_match_forms_and_an_unreadable_one_a_located_422(
    client: TestClient, admin: Headers
) -> None:
    scenario_id = submit(client, admin)
    url = f"{API}/scenarios/{scenario_id}/versions"
    for tag in ("null", "x", '"v1"', "W/1x", "1, 2"):
        refused = client.post(url, json=tiny_for("S1"), headers={**admin, "If-Match": tag})
        problem = assert_problem(refused, 422)
        assert [issue["loc"] for issue in problem["errors"]] == [["header", "if-match"]]
    assert [v["version"] for v in client.get(url, headers=admin).json()] == [1]
    for version, tag in enumerate(('W/"1"', "2", ' "3" '), start=1):
        accepted = client.post(url, json=tiny_for("S1"), headers={**admin, "If-Match": tag})
        assert accepted.status_code == 201, (tag, accepted.text)
        assert accepted.json()["version"] == version + 1


def test_version_via_upload_with_base_version_field(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    response = client.post(
        f"{API}/scenarios/{scenario_id}/versions",
        files={"file": ("v2.xlsx", _xlsx(tiny_for("S1", name="from excel")), XLSX)},
        data={"base_version": "1", "comment": "edited in Excel"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    assert response.json()["source_format"] == "xlsx"
    assert response.json()["comment"] == "edited in Excel"


def test_new_version_needs_the_edited_version(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    url = f"{API}/scenarios/{scenario_id}/versions"
    assert_problem(client.post(url, json=tiny_for("S1"), headers=admin), 428)
    mixed = client.post(
        url, params={"base_version": 1}, json=tiny_for("S1"), headers={**admin, "If-Match": '"2"'}
    )
    assert_problem(mixed, 400)


def test_download_json_and_workbook_round_trip(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    url = f"{API}/scenarios/{scenario_id}/versions/1/download"
    as_json = client.get(url, headers=admin)
    assert as_json.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    assert "tiny-v1.json" in as_json.headers["content-disposition"]
    original = Scenario.model_validate(tiny_for("S1"))
    assert Scenario.model_validate_json(as_json.content) == original
    as_xlsx = client.get(url, params={"format": "xlsx"}, headers=admin)
    assert as_xlsx.status_code == 200
    assert as_xlsx.headers["content-type"] == XLSX
    workbook = load_workbook(io.BytesIO(as_xlsx.content), read_only=True)
    assert "Providers" in workbook.sheetnames or len(workbook.sheetnames) > 3
    # Submitting the downloaded workbook gives the same scenario back.
    again = client.post(
        f"{API}/scenarios", files={"file": ("back.xlsx", as_xlsx.content, XLSX)}, headers=admin
    )
    assert again.status_code == 201, again.text
    assert again.json()["latest"]["content_hash"] == original.content_hash()


def test_warnings_are_reported_not_blocking(client: TestClient, admin: Headers) -> None:
    doc = tiny_for("S1")
    doc["segments"].append({"segment_id": "unserved", "cost_weight": 1.0})
    for neighbourhood in ("N1", "N2"):
        doc["populations"].append(
            {"neighbourhood_id": neighbourhood, "segment_id": "unserved", "headcount": 10}
        )
    response = client.post(f"{API}/scenarios", json=doc, headers=admin)
    assert response.status_code == 201, response.text
    warnings = response.json()["latest"]["warnings"]
    assert [w["loc"] for w in warnings] == [["segments", 2]]
    assert warnings[0]["code"] == "warning" and "unserved" in warnings[0]["message"]


def test_planted_errors_are_all_reported(client: TestClient, admin: Headers) -> None:
    text = (DATA / "invalid" / "ten_errors.json").read_bytes()
    response = client.post(
        f"{API}/scenarios", content=text, headers={**admin, "content-type": "application/json"}
    )
    problem = assert_problem(response, 422)
    assert len(problem["errors"]) >= 18
    locs = {tuple(error["loc"]) for error in problem["errors"]}
    assert ("local_adjustments", 0, "factor") in locs
    assert ("reserve", "share") in locs


def test_planted_workbook_errors_are_located_by_sheet_and_row(
    client: TestClient, admin: Headers
) -> None:
    data = (DATA / "invalid" / "ten_errors.xlsx").read_bytes()
    response = client.post(
        f"{API}/scenarios", files={"file": ("ten_errors.xlsx", data, XLSX)}, headers=admin
    )
    problem = assert_problem(response, 422)
    assert len(problem["errors"]) >= 10
    assert all(error["sheet"] for error in problem["errors"] if error["loc"])
    assert any(error["row"] for error in problem["errors"])


def test_only_read_role_can_list_but_not_submit(
    client: TestClient, keys: Callable[..., Headers]
) -> None:
    reader = keys(Role.READ, "S1")
    assert client.get(f"{API}/scenarios", headers=reader).status_code == 200
    assert_problem(client.post(f"{API}/scenarios", json=tiny_for("S1"), headers=reader), 403)
