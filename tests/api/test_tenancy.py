"""Tenancy: a scenario's systems are fixed, audit rows reach every system's admins, metrics are for operators."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from api.security import Role
from tests.api.helpers import API, Headers, assert_problem, make_settings, new_key, submit, tiny_for


def two_systems() -> dict[str, Any]:
    """The tiny example over S1 and S2 (its second place is in S2)."""
    doc = tiny_for("S1")
    doc["systems"] = [
        {"system_id": "S1", "name": "System S1"},
        {"system_id": "S2", "name": "System S2"},
    ]
    doc["places"][1]["system_id"] = "S2"
    return doc


def test_a_version_may_not_change_the_scenarios_systems(
    client: TestClient, keys: Callable[..., Headers]
) -> None:
    both, s1_reader = keys(Role.PLAN, "S1", "S2"), keys(Role.READ, "S1")
    scenario_id = submit(client, both, tiny_for("S1"))
    url = f"{API}/scenarios/{scenario_id}/versions"
    widened = client.post(url, json=two_systems(), headers={**both, "If-Match": '"1"'})
    body = assert_problem(widened, 409)
    assert body["type"].endswith(":systems-changed")
    assert "adds S2" in body["detail"] and "fixed when it is created" in body["detail"]
    # Nothing changed: the S1 key still sees the scenario, still at version 1.
    seen = client.get(f"{API}/scenarios/{scenario_id}", headers=s1_reader)
    assert seen.status_code == 200 and seen.json()["latest_version"] == 1

    wide_id = submit(client, both, two_systems())
    narrowed = client.post(
        f"{API}/scenarios/{wide_id}/versions",
        json=tiny_for("S1"),
        headers={**both, "If-Match": '"1"'},
    )
    assert "drops S2" in assert_problem(narrowed, 409)["detail"]
    same = client.post(
        url, json=tiny_for("S1", name="renamed"), headers={**both, "If-Match": '"1"'}
    )
    assert same.status_code == 201, same.text


def test_audit_rows_reach_the_admins_of_every_system_they_touch(
    client: TestClient, keys: Callable[..., Headers]
) -> None:
    both = keys(Role.PLAN, "S1", "S2")
    admin_s1, admin_s2, admin_s3 = (
        keys(Role.ADMIN, "S1"),
        keys(Role.ADMIN, "S2"),
        keys(Role.ADMIN, "S3"),
    )
    scenario_id = submit(client, both, two_systems())

    def created(headers: Headers) -> list[dict[str, Any]]:
        rows = client.get(f"{API}/audit", headers=headers).json()
        return [
            r for r in rows if r["action"] == "scenario.created" and r["scenario_id"] == scenario_id
        ]

    assert len(created(admin_s1)) == 1
    assert len(created(admin_s2)) == 1
    assert created(admin_s3) == []


def test_metrics_are_for_operators_not_tenants(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, metrics_token="ops-secret-token"))
    with TestClient(app, raise_server_exceptions=False) as client:
        for role in (Role.READ, Role.PLAN, Role.APPROVE):
            assert_problem(client.get("/metrics", headers=new_key(app, role, "S1")), 403)
        assert_problem(client.get("/metrics"), 401)
        assert_problem(client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401)
        token = client.get("/metrics", headers={"Authorization": "Bearer ops-secret-token"})
        assert token.status_code == 200 and "allocator_http_requests_total" in token.text
        admin = client.get("/metrics", headers=new_key(app, Role.ADMIN, "S1"))
        assert admin.status_code == 200
