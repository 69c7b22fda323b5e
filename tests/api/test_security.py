"""Keys, roles and tenancy: 401 without a known key, 403 for a role, 404 across systems."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from api.security import Role
from tests.api.helpers import (
    API,
    Headers,
    assert_problem,
    solve,
    solved_result,
    submit,
    tiny_for,
    wait_for_job,
)


def test_missing_malformed_and_unknown_keys_get_401(client: TestClient, admin: Headers) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Bearer alc_000000000000_wrongsecret"},
        {"X-API-Key": "alc_" + "x" * 40},
        {"Authorization": admin["Authorization"][:-2] + "xx"},
    ):
        response = client.get(f"{API}/scenarios", headers=headers)
        problem = assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        assert problem["type"].endswith("unauthenticated")


def test_x_api_key_header_works(client: TestClient, admin: Headers) -> None:
    token = admin["Authorization"].removeprefix("Bearer ")
    assert client.get(f"{API}/scenarios", headers={"X-API-Key": token}).status_code == 200


def test_health_needs_no_key_but_ready_and_metrics_do(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    assert_problem(client.get("/ready"), 401)
    assert_problem(client.get("/metrics"), 401)


ROLE_CASES = [
    # (role, may submit and solve, may approve, may manage keys)
    (Role.READ, False, False, False),
    (Role.PLAN, True, False, False),
    (Role.APPROVE, True, True, False),
    (Role.ADMIN, True, True, True),
]


@pytest.mark.parametrize(("role", "plans", "approves", "administers"), ROLE_CASES)
def test_role_hierarchy(
    client: TestClient,
    keys: Callable[..., Headers],
    admin: Headers,
    role: Role,
    plans: bool,
    approves: bool,
    administers: bool,
) -> None:
    key = keys(role, "S1")
    scenario_id = submit(client, admin)
    result_id = solved_result(client, admin, scenario_id)

    assert client.get(f"{API}/scenarios/{scenario_id}", headers=key).status_code == 200
    assert client.get(f"{API}/results/{result_id}", headers=key).status_code == 200

    created = client.post(f"{API}/scenarios", json=tiny_for("S1"), headers=key)
    assert created.status_code == (201 if plans else 403)
    solved = client.post(
        f"{API}/scenarios/{scenario_id}/versions/1/solve", json={"mode": "job"}, headers=key
    )
    assert solved.status_code == (202 if plans else 403)
    if plans:
        wait_for_job(client, key, solved.json()["job"]["id"], ("succeeded",))

    approved = client.post(f"{API}/results/{result_id}/approve", headers=key)
    assert approved.status_code == (200 if approves else 403)

    listed = client.get(f"{API}/keys", headers=key)
    assert listed.status_code == (200 if administers else 403)
    if not administers:
        assert_problem(listed, 403)


def test_tenancy_hides_other_systems(
    client: TestClient, keys: Callable[..., Headers], admin: Headers
) -> None:
    other = keys(Role.ADMIN, "S2")
    both = keys(Role.READ, "S1", "S2")
    mine = submit(client, admin)
    theirs = submit(client, other, tiny_for("S2"))
    their_result = solved_result(client, other, theirs)
    their_job = solve(client, other, theirs, mode="job")["job"]["id"]
    wait_for_job(client, other, their_job, ("succeeded",))

    # Every route about S2's data answers 404 to an S1 key, exactly as for a missing id.
    for path in (
        f"/scenarios/{theirs}",
        f"/scenarios/{theirs}/versions",
        f"/scenarios/{theirs}/versions/1",
        f"/scenarios/{theirs}/versions/1/download",
        f"/scenarios/{theirs}/results",
        f"/results/{their_result}",
        f"/results/{their_result}/export",
        f"/jobs/{their_job}",
    ):
        problem = assert_problem(client.get(API + path, headers=admin), 404)
        assert problem["detail"].startswith("no ")  # the same words as for an id that never existed
    assert_problem(client.post(f"{API}/scenarios/{theirs}/versions/1/solve", headers=admin), 404)
    assert_problem(
        client.post(
            f"{API}/scenarios/{theirs}/versions",
            json=tiny_for("S1"),
            headers={**admin, "If-Match": "1"},
        ),
        404,
    )
    assert_problem(client.post(f"{API}/results/{their_result}/approve", headers=admin), 404)
    assert_problem(client.delete(f"{API}/jobs/{their_job}", headers=admin), 404)
    mine_result = solved_result(client, admin, mine)
    assert_problem(
        client.get(
            f"{API}/comparisons", params={"a": mine_result, "b": their_result}, headers=admin
        ),
        404,
    )
    # Lists never show the other system's data.
    listed = client.get(f"{API}/scenarios", headers=admin).json()
    assert [s["id"] for s in listed["items"]] == [mine] and listed["total"] == 1
    audit = client.get(f"{API}/audit", headers=admin).json()
    assert all(entry["scenario_id"] != theirs for entry in audit)
    assert all(set(entry["systems"]) <= {"S1"} for entry in audit)
    keys_seen = client.get(f"{API}/keys", headers=admin).json()
    assert all(set(k["systems"]) <= {"S1"} for k in keys_seen)
    # A key for both systems sees both.
    assert client.get(f"{API}/scenarios", headers=both).json()["total"] == 2


def test_scenario_covering_a_foreign_system_is_refused(client: TestClient, admin: Headers) -> None:
    doc = tiny_for("S1")
    doc["systems"].append({"system_id": "S2"})
    doc["places"][1]["system_id"] = "S2"
    problem = assert_problem(client.post(f"{API}/scenarios", json=doc, headers=admin), 403)
    assert "S2" in problem["detail"]


def test_multi_system_scenario_needs_a_key_for_every_system(
    client: TestClient, keys: Callable[..., Headers]
) -> None:
    both = keys(Role.PLAN, "S1", "S2")
    only_s1 = keys(Role.READ, "S1")
    doc = tiny_for("S1")
    doc["systems"].append({"system_id": "S2"})
    doc["places"][1]["system_id"] = "S2"
    scenario_id = submit(client, both, doc)
    assert client.get(f"{API}/scenarios/{scenario_id}", headers=both).status_code == 200
    assert_problem(client.get(f"{API}/scenarios/{scenario_id}", headers=only_s1), 404)
    assert client.get(f"{API}/scenarios", headers=only_s1).json()["total"] == 0


def test_key_management(client: TestClient, admin: Headers, keys: Callable[..., Headers]) -> None:
    created = client.post(
        f"{API}/keys", json={"role": "plan", "systems": ["S1"], "name": "planner"}, headers=admin
    )
    assert created.status_code == 201, created.text
    body = created.json()
    token = body["token"]
    assert token.startswith(f"alc_{body['key_id']}_")
    planner = {"Authorization": f"Bearer {token}"}
    assert client.post(f"{API}/scenarios", json=tiny_for("S1"), headers=planner).status_code == 201
    listed = client.get(f"{API}/keys", headers=admin).json()
    assert body["key_id"] in {k["key_id"] for k in listed}
    assert all("token" not in k for k in listed)
    # Not for systems the admin does not hold; not with a bad role.
    assert_problem(
        client.post(f"{API}/keys", json={"role": "read", "systems": ["S2"]}, headers=admin), 403
    )
    assert_problem(
        client.post(f"{API}/keys", json={"role": "root", "systems": ["S1"]}, headers=admin), 422
    )
    # Revoked keys stop working; other systems' keys are invisible.
    revoked = client.delete(f"{API}/keys/{body['key_id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert_problem(client.get(f"{API}/scenarios", headers=planner), 401)
    other_admin = keys(Role.ADMIN, "S2")
    assert_problem(client.delete(f"{API}/keys/{body['key_id']}", headers=other_admin), 404)


def test_tokens_are_stored_hashed(client: TestClient, app: object, admin: Headers) -> None:
    from sqlalchemy import select

    from api.storage.tables import ApiKey

    token = admin["Authorization"].removeprefix("Bearer ")
    with app.state.database.transaction(write=False) as session:  # type: ignore[attr-defined]
        rows = list(session.scalars(select(ApiKey)))
    assert rows and all(token not in (row.token_sha256, row.name, row.systems) for row in rows)
    assert all(len(row.token_sha256) == 64 for row in rows)
