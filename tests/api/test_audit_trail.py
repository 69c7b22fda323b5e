"""The audit log an auditor accepts: before/after values, refusals, request ids, key names and expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from api.jsonpatch import json_patch
from api.security import Role
from api.storage.tables import ApiKey
from tests.api.helpers import API, Headers, assert_problem, submit, tiny_for


def _audit(client: TestClient, admin: Headers, action: str) -> list[dict[str, Any]]:
    rows = client.get(f"{API}/audit", params={"limit": 1000}, headers=admin).json()
    return [r for r in rows if r["action"] == action]


def _apply(document: Any, patch: list[dict[str, Any]]) -> Any:
    """A minimal RFC 6902 apply (add, remove, replace) for checking patches."""
    import copy

    doc = copy.deepcopy(document)
    for op in patch:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        if not parts:
            doc = op["value"]
            continue
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        last: Any = int(parts[-1]) if isinstance(parent, list) else parts[-1]
        if op["op"] == "remove":
            del parent[last]
        elif op["op"] == "add" and isinstance(parent, list):
            parent.insert(last, op["value"])
        else:
            parent[last] = op["value"]
    return doc


def test_a_patch_turns_before_into_after() -> None:
    before = {"a": 1, "b": [1, 2, 3], "c": {"d": "x", "e/f": 1}, "g": 1}
    after = {"a": 2, "b": [1, 5], "c": {"d": "x", "e/f": 2, "h": None}, "g": 1.0}
    patch = json_patch(before, after)
    assert _apply(before, patch) == after
    assert {"op": "replace", "path": "/c/e~1f", "value": 2} in patch
    assert json_patch(before, before) == []


def test_a_new_version_records_its_json_patch(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    changed = tiny_for("S1", name="renamed")
    changed["providers"][0]["baseline_pence"] += 100
    response = client.post(
        f"{API}/scenarios/{scenario_id}/versions",
        json=changed,
        headers={**admin, "If-Match": '"1"'},
    )
    assert response.status_code == 201, response.text
    first = client.get(f"{API}/scenarios/{scenario_id}/versions/1", headers=admin).json()
    second = client.get(f"{API}/scenarios/{scenario_id}/versions/2", headers=admin).json()
    row = _audit(client, admin, "scenario.version_created")[0]
    patch = row["detail"]["patch"]
    assert {"op": "replace", "path": "/name", "value": "renamed"} in patch
    assert any(op["path"] == "/providers/0/baseline_pence" for op in patch)
    assert _apply(first["document"], patch) == second["document"]


def test_refused_requests_are_recorded(client: TestClient, keys: Callable[..., Headers]) -> None:
    admin, reader = keys(Role.ADMIN, "S1"), keys(Role.READ, "S1")
    assert_problem(client.post(f"{API}/scenarios", json=tiny_for("S1"), headers=reader), 403)
    assert_problem(
        client.get(f"{API}/scenarios", headers={"Authorization": "Bearer alc_feed_x"}), 401
    )
    denied = _audit(client, admin, "request.denied")
    forbidden = next(r for r in denied if r["detail"]["status"] == 403)
    assert forbidden["key_id"] == reader["Authorization"].split("_")[1]
    assert forbidden["detail"]["path"] == "/api/v1/scenarios" and forbidden["systems"] == ["S1"]
    unknown = next(r for r in denied if r["detail"]["status"] == 401)
    assert unknown["key_id"] == "feed" and unknown["detail"]["key_known"] is False


def test_key_changes_record_before_and_after(client: TestClient, admin: Headers) -> None:
    created = client.post(
        f"{API}/keys", json={"role": "plan", "systems": ["S1"], "name": "planner"}, headers=admin
    )
    assert created.status_code == 201, created.text
    key_id = created.json()["key_id"]
    assert client.delete(f"{API}/keys/{key_id}", headers=admin).status_code == 200
    made = _audit(client, admin, "key.created")[0]["detail"]
    assert made["before"] is None and made["after"]["role"] == "plan"
    revoked = _audit(client, admin, "key.revoked")[0]["detail"]
    assert (revoked["before"]["state"], revoked["after"]["state"]) == ("active", "revoked")
    assert revoked["after"]["systems"] == ["S1"]


def test_key_names_are_unique_per_system(client: TestClient, admin: Headers) -> None:
    body = {"role": "read", "systems": ["S1"], "name": "finance"}
    assert client.post(f"{API}/keys", json=body, headers=admin).status_code == 201
    again = assert_problem(client.post(f"{API}/keys", json=body, headers=admin), 409)
    assert "already has a key named 'finance'" in again["detail"]


def test_keys_may_expire(client: TestClient, admin: Headers, app: Any) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    created = client.post(
        f"{API}/keys", json={"role": "read", "systems": ["S1"], "expires_at": soon}, headers=admin
    )
    assert created.status_code == 201, created.text
    token = {"Authorization": f"Bearer {created.json()['token']}"}
    assert created.json()["expires_at"] is not None
    assert client.get(f"{API}/scenarios", headers=token).status_code == 200
    with app.state.database.transaction() as session:  # let it expire
        session.get(ApiKey, created.json()["key_id"]).expires_at = datetime.now(UTC) - timedelta(
            seconds=1
        )
    assert_problem(client.get(f"{API}/scenarios", headers=token), 401)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = {"role": "read", "systems": ["S1"], "expires_at": past}
    assert_problem(client.post(f"{API}/keys", json=body, headers=admin), 422)


def test_cli_key_actions_record_the_operator(tmp_path: Any) -> None:
    import json as _json

    from sqlalchemy import select
    from typer.testing import CliRunner

    from api.storage.db import Database
    from api.storage.migrate import upgrade
    from api.storage.tables import AuditEntry
    from cli.app import app as cli
    from cli.keys import operator

    url = f"sqlite:///{tmp_path / 'keys.db'}"
    database = Database.connect(url)
    upgrade(database.engine)
    done = CliRunner().invoke(
        cli, ["keys", "create", "--role", "read", "--system", "S1", "--database-url", url]
    )
    assert done.exit_code == 0, done.output
    with database.transaction(write=False) as session:
        row = session.scalars(select(AuditEntry).where(AuditEntry.action == "key.created")).one()
    detail = _json.loads(row.detail)
    assert detail["operator"] == operator() and "@" in detail["operator"]
    assert detail["after"]["state"] == "active"
    database.dispose()
