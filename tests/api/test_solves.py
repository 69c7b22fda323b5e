"""Solving: synchronous for small scenarios, jobs otherwise; polling, cancelling, limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import Role
from tests.api.helpers import (
    API,
    Headers,
    assert_problem,
    make_settings,
    new_key,
    solve,
    submit,
    tiny_for,
    wait_for_job,
)


def test_small_scenario_is_solved_in_the_request(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    response = client.post(f"{API}/scenarios/{scenario_id}/versions/1/solve", headers=admin)
    assert response.status_code == 200, response.text
    outcome = response.json()
    assert outcome["job"]["state"] == "succeeded"
    assert outcome["job"]["progress"] == 1.0
    result = outcome["result"]
    assert result["id"] == outcome["job"]["result_id"]
    assert result["status"] == "optimal" and result["feasible"]
    assert result["result"]["scenario_hash"] == result["scenario_hash"]
    assert response.headers["location"].endswith(f"/api/v1/results/{result['id']}")
    # The providers' budgets add up to the capitated pot plus pass-through, to the penny.
    allocation = result["result"]
    total = sum(p["budget_pence"] for p in allocation["providers"])
    assert total == allocation["pot"]["capitated_pence"] + allocation["pot"]["pass_through_pence"]


def test_job_mode_returns_202_and_the_job_finishes(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    response = client.post(
        f"{API}/scenarios/{scenario_id}/versions/1/solve",
        json={"mode": "job", "backend": "highs", "time_limit_s": 30},
        headers=admin,
    )
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    assert response.json()["result"] is None
    assert response.headers["location"].endswith(f"/api/v1/jobs/{job['id']}")
    assert job["state"] in ("queued", "running") and job["time_limit_s"] == 30
    done = wait_for_job(client, admin, job["id"], ("succeeded", "failed"))
    assert done["state"] == "succeeded", done
    result = client.get(f"{API}/results/{done['result_id']}", headers=admin)
    assert result.status_code == 200 and result.json()["backend"] == "highs"


def test_large_scenarios_become_jobs(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, sync_max_cells=5))
    with TestClient(app) as client:
        headers = new_key(app, Role.PLAN, "S1")
        scenario_id = submit(client, headers)
        response = client.post(f"{API}/scenarios/{scenario_id}/versions/1/solve", headers=headers)
        assert response.status_code == 202
        wait_for_job(client, headers, response.json()["job"]["id"], ("succeeded",))


def test_infeasible_scenario_is_a_result_not_an_error(client: TestClient, admin: Headers) -> None:
    doc = tiny_for("S1")
    # Every provider must grow by at least 50%: the pot cannot pay for it.
    doc["pace_of_change"] = [
        {
            "rule_id": "pace",
            "name": "impossible floor",
            "level": "provider",
            "form": "floor_and_cap",
            "floor_growth_share": 0.5,
            "cap_growth_share": 0.6,
        }
    ]
    scenario_id = submit(client, admin, doc)
    outcome = solve(client, admin, scenario_id)
    assert outcome["job"]["state"] == "succeeded"
    result = outcome["result"]
    assert result["feasible"] is False
    assert result["status"] == "infeasible"
    assert result["result"]["infeasibility"]["summary"]


def test_solve_limits_and_unknown_backends(
    client: TestClient, admin: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario_id = submit(client, admin)
    url = f"{API}/scenarios/{scenario_id}/versions/1/solve"
    too_long = client.post(url, json={"time_limit_s": 10_000}, headers=admin)
    assert "300" in assert_problem(too_long, 422)["detail"]
    assert_problem(client.post(url, json={"backend": "cplex"}, headers=admin), 422)
    assert_problem(client.post(url, json={"time_limit_s": -1}, headers=admin), 422)
    monkeypatch.setattr("api.routers.solves.available_backends", lambda: ["highs"])
    unavailable = assert_problem(client.post(url, json={"backend": "pulp"}, headers=admin), 503)
    assert "pulp" in unavailable["detail"]
    assert_problem(
        client.post(f"{API}/scenarios/{scenario_id}/versions/2/solve", headers=admin), 404
    )


def test_failed_solve_is_recorded_on_the_job(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, solve_target="tests.api.fault_solvers:broken_solve")
    app = create_app(settings)
    with TestClient(app) as client:
        headers = new_key(app, Role.PLAN, "S1")
        scenario_id = submit(client, headers)
        outcome = solve(client, headers, scenario_id)
        assert outcome["job"]["state"] == "failed"
        assert "RuntimeError: the solver library broke" in outcome["job"]["error"]
        assert "Traceback" not in outcome["job"]["error"]
        assert outcome["result"] is None


def _slow_app(tmp_path: Path, **overrides: object) -> object:
    return create_app(
        make_settings(tmp_path, solve_target="tests.api.fault_solvers:slow_solve", **overrides)
    )


def test_cancel_a_running_and_a_queued_job(tmp_path: Path) -> None:
    app = _slow_app(tmp_path)
    with TestClient(app) as client:  # type: ignore[arg-type]
        headers = new_key(app, Role.PLAN, "S1")  # type: ignore[arg-type]
        scenario_id = submit(client, headers)
        running = solve(client, headers, scenario_id, mode="job")["job"]
        queued = solve(client, headers, scenario_id, mode="job")["job"]
        wait_for_job(client, headers, running["id"], ("running",))
        # One worker: the second job waits in the queue and is cancelled at once.
        response = client.delete(f"{API}/jobs/{queued['id']}", headers=headers)
        assert response.status_code == 200 and response.json()["state"] == "cancelled"
        response = client.post(f"{API}/jobs/{running['id']}/cancel", headers=headers)
        assert response.status_code == 202 and response.json()["cancel_requested"]
        done = wait_for_job(client, headers, running["id"], ("cancelled", "failed"), timeout=20)
        assert done["state"] == "cancelled"
        assert_problem(client.delete(f"{API}/jobs/{running['id']}", headers=headers), 409)
        reader = new_key(app, Role.READ, "S1")  # type: ignore[arg-type]
        assert_problem(client.delete(f"{API}/jobs/{running['id']}", headers=reader), 403)


def test_wall_clock_limit_kills_the_solve(tmp_path: Path) -> None:
    app = _slow_app(tmp_path, job_wall_clock_s=1.0)
    with TestClient(app) as client:  # type: ignore[arg-type]
        headers = new_key(app, Role.PLAN, "S1")  # type: ignore[arg-type]
        scenario_id = submit(client, headers)
        job = solve(client, headers, scenario_id, mode="job")["job"]
        done = wait_for_job(client, headers, job["id"], ("failed",), timeout=30)
        assert "wall-clock" in done["error"]
