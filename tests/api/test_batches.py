"""Batches through HTTP, on SQLite and PostgreSQL: submit, follow, partial results, cancel,
resume after a restart, tenancy and roles; the runs equal `allocator batch`'s to the penny."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from allocator.batch import BatchSpec, run_batch
from api.app import create_app
from api.job_ledger import RESTART_REASON, SHUTDOWN_REASON
from api.security import Role
from api.settings import Settings
from api.storage.tables import BatchRow, RunnerRow
from models import Scenario
from tests.api.helpers import (
    API,
    DATA,
    Headers,
    assert_problem,
    finished,
    make_settings,
    new_key,
    submit,
    tiny_for,
    wait_for_batch,
)

REALISTIC = json.loads((DATA / "realistic" / "realistic.json").read_text())
SLEEPY = "tests.api.fault_solvers:sleepy_batch"

GRID = [
    {"name": "pot_growth", "change": {"kind": "pot_growth"}, "values": [-0.01, 0.0, 0.02]},
    {
        "name": "frailty_demand",
        "change": {"kind": "demand_growth", "segment_id": "frailty"},
        "values": [0.0, 0.02],
    },
]
TINY_GRID = [
    {"name": "pot_growth", "change": {"kind": "pot_growth"}, "values": [0.0, 0.01, 0.02, 0.03]},
    {
        "name": "frail_demand",
        "change": {"kind": "demand_growth", "segment_id": "frail"},
        "values": [0.0, 0.02],
    },
]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url)


def _submit_batch(client: TestClient, headers: Headers, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{API}/batches", json=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.headers["location"].endswith(f"/batches/{response.json()['id']}")
    return dict(response.json())


def _local_tables(body: dict[str, Any], base: dict[str, Any], out: Path) -> dict[str, str]:
    """The same spec run by `allocator.batch.run_batch` here: its CSV tables."""
    spec = BatchSpec.model_validate({**body["spec"], "base": Scenario.model_validate(base)})
    summary = run_batch(spec, store_dir=out, excel=False)
    assert summary.complete
    return {
        name: (out / f"{name}.csv").read_bytes().decode()
        for name in ("runs", "providers", "places")
    }


def _csv(client: TestClient, headers: Headers, batch_id: str, table: str) -> str:
    response = client.get(
        f"{API}/batches/{batch_id}/runs", params={"format": "csv", "table": table}, headers=headers
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return response.text


def test_a_batch_on_a_stored_version_equals_allocator_batch_to_the_penny(
    client: TestClient, keys: Callable[..., Headers], tmp_path: Path
) -> None:
    planner = keys(Role.PLAN, "TRI")
    scenario_id = submit(client, planner, REALISTIC)
    body = {"name": "sweep", "base": {"scenario_id": scenario_id, "version": 1}, "grid": GRID}
    batch = _submit_batch(client, planner, {**body, "options": {"chunk_size": 2}})
    assert batch["state"] in ("queued", "running") and batch["runs_total"] == 6
    assert batch["scenario_id"] == scenario_id and batch["systems"] == ["TRI"]
    assert batch["spec"]["options"]["time_limit_s"] == 300  # capped like a solve
    done = wait_for_batch(client, planner, batch["id"], finished)
    assert done["state"] == "succeeded", done
    assert (done["runs_done"], done["progress"]) == (6, 1.0)
    assert sum(done["statuses"].values()) == 6 and done["elapsed_s"] > 0
    assert done["runs_failed"] == 6 - done["statuses"].get("optimal", 0)

    page = client.get(f"{API}/batches/{batch['id']}/runs", headers=planner).json()
    assert page["total"] == 6 and [r["run_index"] for r in page["items"]] == list(range(6))
    first = page["items"][0]
    assert first["params"] == {"pot_growth": -0.01, "frailty_demand": 0.0}
    assert {p["provider_id"] for p in first["providers"]} == {
        p["provider_id"] for p in REALISTIC["providers"]
    }
    feasible = [r for r in page["items"] if r["feasible"]]
    assert feasible and all(p["budget_pence"] is not None for p in feasible[0]["providers"])
    second = client.get(
        f"{API}/batches/{batch['id']}/runs", params={"page": 2, "page_size": 4}, headers=planner
    ).json()
    assert [r["run_index"] for r in second["items"]] == [4, 5]

    local = _local_tables(done, REALISTIC, tmp_path / "local")
    assert _csv(client, planner, batch["id"], "providers") == local["providers"]
    assert _csv(client, planner, batch["id"], "places") == local["places"]
    runs_table = _csv(client, planner, batch["id"], "runs").splitlines()
    assert runs_table[0] == local["runs"].splitlines()[0] and len(runs_table) == 7

    listed = client.get(f"{API}/batches", headers=planner).json()
    assert [b["id"] for b in listed["items"]] == [batch["id"]]
    audit = client.get(f"{API}/audit", headers=keys(Role.ADMIN, "TRI")).json()
    submitted = [e for e in audit if e["action"] == "batch.submitted"]
    assert submitted[0]["detail"]["batch_id"] == batch["id"]
    assert submitted[0]["scenario_id"] == scenario_id and submitted[0]["detail"]["runs"] == 6


def test_partial_results_while_running_then_cancel_then_resume(
    database_url: str, tmp_path: Path
) -> None:
    app = create_app(make_settings(tmp_path, database_url=database_url, batch_target=SLEEPY))
    with TestClient(app) as client:
        planner = new_key(app, Role.PLAN, "S1")
        body = {"base": tiny_for("S1"), "grid": TINY_GRID, "options": {"chunk_size": 2}}
        batch = _submit_batch(client, planner, body)
        assert batch["scenario_id"] is None and batch["runs_total"] == 8
        running = wait_for_batch(client, planner, batch["id"], lambda b: b["runs_done"] >= 2)
        assert running["state"] == "running"
        runs_url = f"{API}/batches/{batch['id']}/runs"
        partial = client.get(runs_url, headers=planner).json()
        assert 2 <= partial["total"] < 8
        assert all(r["status"] == "optimal" and r["providers"] for r in partial["items"])
        every = client.get(runs_url, params={"state": "all", "page_size": 8}, headers=planner)
        assert every.json()["total"] == 8
        pending = [r for r in every.json()["items"] if r["status"] == "pending"]
        assert pending and all(not r["providers"] and r["feasible"] is None for r in pending)
        waiting = client.get(runs_url, params={"state": "pending"}, headers=planner).json()
        assert {r["run_id"] for r in waiting["items"]} <= {r["run_id"] for r in pending}

        # A second batch waits for the (one) batch worker; cancelled while queued, then resumed.
        second = _submit_batch(client, planner, {**body, "grid": TINY_GRID[:1]})
        assert second["state"] == "queued"
        second_url = f"{API}/batches/{second['id']}"
        dropped = client.post(f"{second_url}/cancel", headers=planner)
        assert dropped.status_code == 200 and dropped.json()["state"] == "cancelled"
        assert client.post(f"{second_url}/resume", headers=planner).status_code == 202

        cancel = client.post(f"{API}/batches/{batch['id']}/cancel", headers=planner)
        assert cancel.status_code == 202 and cancel.json()["cancel_requested"] is True
        stopped = wait_for_batch(client, planner, batch["id"], finished, timeout=15)
        assert stopped["state"] == "cancelled" and 2 <= stopped["runs_done"] < 8
        kept = client.get(runs_url, headers=planner).json()
        assert kept["total"] == stopped["runs_done"]
        assert {r["run_id"] for r in partial["items"]} <= {r["run_id"] for r in kept["items"]}
        assert_problem(client.post(f"{API}/batches/{batch['id']}/cancel", headers=planner), 409)

        resumed = client.post(f"{API}/batches/{batch['id']}/resume", headers=planner)
        assert resumed.status_code == 202 and resumed.json()["state"] == "queued"
        done = wait_for_batch(client, planner, batch["id"], finished, timeout=30)
        assert done["state"] == "succeeded" and done["runs_done"] == 8
        after = client.get(runs_url, params={"page_size": 8}, headers=planner).json()["items"]
        before = {r["run_id"]: r for r in kept["items"]}
        assert all(before[r["run_id"]] == r for r in after if r["run_id"] in before)
        assert_problem(client.post(f"{API}/batches/{batch['id']}/resume", headers=planner), 409)
        second_done = wait_for_batch(client, planner, second["id"], finished)
        assert second_done["state"] == "succeeded" and second_done["runs_done"] == 4
        audit = client.get(f"{API}/audit", headers=new_key(app, Role.ADMIN, "S1")).json()
        actions = [e["action"] for e in audit]
        assert {"batch.submitted", "batch.cancel_requested", "batch.resumed"} <= set(actions)


def test_a_restart_leaves_a_batch_failed_with_its_runs_and_resumable(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, database_url=database_url, batch_target=SLEEPY)
    app = create_app(settings)
    with TestClient(app) as client:
        planner = new_key(app, Role.PLAN, "S1")
        body = {"base": tiny_for("S1"), "grid": TINY_GRID[:1], "options": {"chunk_size": 1}}
        batch = _submit_batch(client, planner, body)
        wait_for_batch(client, planner, batch["id"], lambda b: b["runs_done"] >= 1)
    # A clean shutdown fails the batch at once; its finished runs stay.
    with TestClient(create_app(settings)) as client:
        failed = client.get(f"{API}/batches/{batch['id']}", headers=planner).json()
        assert failed["state"] == "failed" and failed["error"] == SHUTDOWN_REASON
        assert 1 <= failed["runs_done"] < 4
        kept = client.get(f"{API}/batches/{batch['id']}/runs", headers=planner).json()
        assert kept["total"] == failed["runs_done"]
        assert (
            client.post(f"{API}/batches/{batch['id']}/resume", headers=planner).status_code == 202
        )
        done = wait_for_batch(client, planner, batch["id"], finished, timeout=30)
        assert done["state"] == "succeeded" and done["runs_done"] == 4 and done["error"] is None

        # What a crash leaves: a running batch of a runner that stopped beating long ago.
        with client.app.state.database.transaction() as session:  # type: ignore[attr-defined]
            session.add(RunnerRow(id="dead", heartbeat_at=datetime.now(UTC) - timedelta(hours=1)))
            row = session.get(BatchRow, batch["id"])
            assert row is not None
            row.state, row.runner_id = "running", "dead"
    with TestClient(create_app(settings)) as client:
        after = client.get(f"{API}/batches/{batch['id']}", headers=planner).json()
        assert after["state"] == "failed" and after["error"] == RESTART_REASON
        assert after["runs_done"] == 4


def test_batches_follow_tenancy_and_roles(client: TestClient, keys: Callable[..., Headers]) -> None:
    planner, reader = keys(Role.PLAN, "S1"), keys(Role.READ, "S1")
    stranger = keys(Role.ADMIN, "S2")
    scenario_id = submit(client, planner)
    body = {"base": {"scenario_id": scenario_id}, "runs": [{"name": "as is"}]}
    assert_problem(client.post(f"{API}/batches", json=body, headers=reader), 403)
    batch = _submit_batch(client, planner, body)
    assert batch["version"] == 1  # no version: the latest

    # Another system's key: every batch endpoint answers 404, lists show nothing.
    for method, suffix in (("GET", ""), ("GET", "/runs"), ("POST", "/cancel"), ("POST", "/resume")):
        url = f"{API}/batches/{batch['id']}{suffix}"
        assert_problem(client.request(method, url, headers=stranger), 404)
    assert client.get(f"{API}/batches", headers=stranger).json()["total"] == 0
    # ...and cannot start a batch on this system's scenario, nor on one of its systems inline.
    assert_problem(client.post(f"{API}/batches", json=body, headers=stranger), 404)
    inline = {"base": tiny_for("S1"), "runs": [{"name": "as is"}]}
    assert_problem(client.post(f"{API}/batches", json=inline, headers=stranger), 403)

    # Reading is for read keys; cancelling needs plan.
    assert client.get(f"{API}/batches/{batch['id']}", headers=reader).status_code == 200
    assert client.get(f"{API}/batches/{batch['id']}/runs", headers=reader).status_code == 200
    assert_problem(client.post(f"{API}/batches/{batch['id']}/cancel", headers=reader), 403)
    assert_problem(client.post(f"{API}/batches/{batch['id']}/resume", headers=reader), 403)
    assert_problem(client.get(f"{API}/batches/{batch['id']}"), 401)
    assert finished(wait_for_batch(client, reader, batch["id"], finished))


def test_invalid_and_oversized_batches_are_refused(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    base = {"scenario_id": scenario_id}
    runs = [{"name": "as is"}]
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"base": base}, 422, "exactly one of grid, runs or monte_carlo"),
        ({"base": base, "runs": runs, "grid": TINY_GRID}, 422, "exactly one"),
        ({"base": base, "runs": []}, 422, "no runs"),
        (
            {"base": base, "monte_carlo": {"draws": 20_000, "seed": 1, "inputs": [_input()]}},
            422,
            "at most 10,000",
        ),
        ({"base": base, "runs": runs, "options": {"time_limit_s": 301}}, 422, "300"),
        ({"base": base, "runs": runs, "options": {"backend": "cplex"}}, 422, "cplex"),
        ({"base": base, "runs": [{"name": "x", "changes": [{"kind": "pot_growth"}]}]}, 422, ""),
        ({"base": base, "changes": [{"kind": "nope"}], "runs": runs}, 422, ""),
        ({"base": {"scenario_id": "nope"}, "runs": runs}, 404, "nope"),
        ({"base": {"scenario_id": scenario_id, "version": 9}, "runs": runs}, 404, "9"),
        ({"base": tiny_for("S1", providers=[]), "runs": runs}, 422, ""),
    ]
    for body, status, detail in cases:
        problem = assert_problem(client.post(f"{API}/batches", json=body, headers=admin), status)
        assert detail in problem["detail"] or any(
            detail in issue["message"] for issue in problem["errors"]
        ), problem
    bad = tiny_for("S1")
    bad["providers"][0]["place_ids"] = ["nowhere"]
    problem = assert_problem(
        client.post(f"{API}/batches", json={"base": bad, "runs": runs}, headers=admin), 422
    )
    assert problem["errors"] and all(e["loc"][:2] == ["body", "base"] for e in problem["errors"])
    assert client.get(f"{API}/batches", headers=admin).json()["total"] == 0


def _input() -> dict[str, Any]:
    return {
        "name": "pot_growth",
        "change": {"kind": "pot_growth"},
        "distribution": {"kind": "normal", "mean": 0.01, "sd": 0.01},
    }
