"""Request bodies are strict: a number is not a boolean, a string is not a number."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import Role
from tests.api.helpers import API, Headers, assert_problem, make_settings, solved_result, submit


@pytest.mark.parametrize("value", [0, 1, "true", "no", None])
def test_supersede_must_be_a_boolean(
    client: TestClient, keys: Callable[..., Headers], value: object
) -> None:
    approver = keys(Role.APPROVE, "S1")
    result_id = solved_result(client, approver, submit(client, approver))
    response = client.post(
        f"{API}/results/{result_id}/approve", json={"supersede": value}, headers=approver
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"][-1] == "supersede"


def test_solve_and_key_bodies_are_strict(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    url = f"{API}/scenarios/{scenario_id}/versions/1/solve"
    assert_problem(client.post(url, json={"time_limit_s": "30"}, headers=admin), 422)
    ok = client.post(url, json={"time_limit_s": 30, "mode": "job"}, headers=admin)
    assert ok.status_code in (200, 202), ok.text
    bad = {"role": "read", "systems": ["S1"], "name": 7}
    assert_problem(client.post(f"{API}/keys", json=bad, headers=admin), 422)
    good = {"role": "read", "systems": ["S1"], "name": "viewer"}
    assert client.post(f"{API}/keys", json=good, headers=admin).status_code == 201


def test_the_schema_states_the_servers_limits(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, max_solve_time_s=42.0, max_page_size=77))
    spec = TestClient(app).get("/openapi.json").json()
    limit = spec["components"]["schemas"]["SolveRequest"]["properties"]["time_limit_s"]
    assert any(option.get("maximum") == 42.0 for option in limit.get("anyOf", [limit]))
    listing = spec["paths"]["/api/v1/scenarios"]["get"]["parameters"]
    page_size = next(p for p in listing if p["name"] == "page_size")["schema"]
    assert any(o.get("maximum") == 77 for o in page_size.get("anyOf", [page_size]))
