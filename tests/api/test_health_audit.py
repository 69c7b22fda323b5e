"""Liveness, readiness, metrics, OpenAPI, and the append-only audit log."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.api.helpers import API, Headers, assert_problem, solved_result, submit, tiny_for


def test_health_and_ready(client: TestClient, admin: Headers) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready", headers=admin).json()
    assert ready == {"status": "ready", "database": "sqlite", "migration": "0004"}


def test_ready_reports_a_broken_database(
    client: TestClient, admin: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.routers.health.current_revision", lambda engine: None)
    assert_problem(client.get("/ready", headers=admin), 503)


def test_metrics_exposition(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    solved_result(client, admin, scenario_id)
    client.get(f"{API}/scenarios/missing", headers=admin)
    body = client.get("/metrics", headers=admin)
    assert body.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = body.text.splitlines()
    assert (
        'allocator_http_requests_total{method="POST",route="/api/v1/scenarios",status="201"} 1'
        in lines
    )
    assert (
        'allocator_http_requests_total{method="GET",route="/api/v1/scenarios/{scenario_id}",'
        'status="404"} 1' in lines
    )
    assert any(
        line.startswith('allocator_http_request_duration_seconds_bucket{method="POST",')
        and 'le="+Inf"' in line
        for line in lines
    )
    assert 'allocator_jobs{state="succeeded"} 1' in lines
    assert 'allocator_jobs{state="running"} 0' in lines
    assert re.search(
        r'^allocator_solve_duration_seconds_count\{outcome="succeeded"\} 1$', body.text, re.M
    )
    for line in lines:  # every sample line is "name{labels} number"
        if not line.startswith("#"):
            assert re.match(r"^[a-z_]+(\{.*\})? [-+0-9.eInf]+$", line), line


def test_openapi_has_stable_operation_ids(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    for expected in (
        "scenarios-create_scenario",
        "scenarios-create_version",
        "solves-solve_version",
        "jobs-get_job",
        "jobs-cancel_job",
        "results-export_result",
        "results-approve_result",
        "comparisons-compare",
        "admin-create_api_key",
        "health-health",
    ):
        assert expected in ids
    body = spec["paths"]["/api/v1/scenarios"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}
    assert {"HTTPBearer", "APIKeyHeader"} <= set(spec["components"]["securitySchemes"])


def test_audit_log_records_who_did_what(client: TestClient, app: object, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    client.post(
        f"{API}/scenarios/{scenario_id}/versions",
        json=tiny_for("S1", name="v2"),
        headers={**admin, "If-Match": '"1"', "X-Request-ID": "edit-1"},
    )
    result_id = solved_result(client, admin, scenario_id, version=2)
    client.post(f"{API}/results/{result_id}/approve", headers=admin)
    entries = client.get(f"{API}/audit", params={"scenario_id": scenario_id}, headers=admin).json()
    actions = [e["action"] for e in reversed(entries)]
    assert actions == [
        "scenario.created",
        "scenario.version_created",
        "solve.requested",
        "result.created",
        "result.approved",
    ]
    edit = next(e for e in entries if e["action"] == "scenario.version_created")
    key_id = admin["Authorization"].split("_")[1]
    assert edit["key_id"] == key_id and edit["key_name"] == "admin"
    assert edit["client_request_id"] == "edit-1" and edit["version"] == 2
    assert re.fullmatch(r"[0-9a-f]{32}", edit["request_id"])  # the server's, never the client's
    assert edit["detail"]["base_version"] == 1 and edit["systems"] == ["S1"]
    approved = entries[0]
    assert approved["result_id"] == result_id and approved["at"]
    page = client.get(f"{API}/audit", params={"limit": 2}, headers=admin).json()
    older = client.get(
        f"{API}/audit", params={"limit": 2, "before_id": page[-1]["id"]}, headers=admin
    ).json()
    assert len(page) == 2 and all(e["id"] < page[-1]["id"] for e in older)


def test_audit_log_rejects_update_and_delete(
    client: TestClient, app: object, admin: Headers
) -> None:
    submit(client, admin)
    engine = app.state.database.engine  # type: ignore[attr-defined]
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_log")).scalar_one() >= 1
