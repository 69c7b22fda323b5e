"""Helpers for the API tests: scenario documents, keys, submitting, solving, problem checks."""

from __future__ import annotations

import copy
import json
import secrets
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.errors import StateConflict
from api.security import Role, create_key
from api.settings import Settings

DATA = Path(__file__).resolve().parents[2] / "data"
TINY = json.loads((DATA / "tiny" / "tiny.json").read_text())
API = "/api/v1"

Headers = dict[str, str]


def tiny_for(system: str = "S1", **changes: Any) -> dict[str, Any]:
    """The tiny example, owned by ``system``, with top-level ``changes``."""
    doc = copy.deepcopy(TINY)
    doc["systems"] = [{"system_id": system, "name": f"System {system}"}]
    for place in doc["places"]:
        place["system_id"] = system
    doc.update(changes)
    return doc


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "environment": "test",
        "solve_workers": 1,
        "sync_solve_budget_s": 60.0,
        "prestart_solvers": False,
        "heartbeat_s": 1.0,
    }
    values.update(overrides)
    return Settings(**values)


def new_key(app: FastAPI, role: Role, *systems: str, name: str = "") -> Headers:
    """A new key; named after its role unless that name is taken in one of its systems."""
    for candidate in (name or role.value, f"{name or role.value}-{secrets.token_hex(4)}"):
        try:
            with app.state.database.transaction() as session:
                key = create_key(session, role=role, systems=systems or ("S1",), name=candidate)
            return {"Authorization": f"Bearer {key.token}"}
        except StateConflict:
            if name:
                raise
    raise AssertionError("no free key name")


def submit(client: TestClient, headers: Headers, doc: dict[str, Any] | None = None) -> str:
    response = client.post(f"{API}/scenarios", json=doc or tiny_for("S1"), headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def solve(
    client: TestClient, headers: Headers, scenario_id: str, version: int = 1, **body: Any
) -> dict[str, Any]:
    response = client.post(
        f"{API}/scenarios/{scenario_id}/versions/{version}/solve",
        json=body or None,
        headers=headers,
    )
    assert response.status_code in (200, 202), response.text
    return dict(response.json())


def wait_for_job(
    client: TestClient, headers: Headers, job_id: str, states: tuple[str, ...], timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"{API}/jobs/{job_id}", headers=headers).json()
        if job["state"] in states:
            return dict(job)
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stuck in {job['state']}: {job}")
        time.sleep(0.05)


def solved_result(client: TestClient, headers: Headers, scenario_id: str, version: int = 1) -> str:
    outcome = solve(client, headers, scenario_id, version)
    if outcome["result"] is None:
        job = wait_for_job(client, headers, outcome["job"]["id"], ("succeeded", "failed"))
        assert job["state"] == "succeeded", job
        return str(job["result_id"])
    return str(outcome["result"]["id"])


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert body["status"] == status
    assert body["type"].startswith("urn:allocator:problem:")
    assert body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["instance"].startswith("/")
    return body


def wait_for_batch(
    client: TestClient,
    headers: Headers,
    batch_id: str,
    done: Any,
    timeout: float = 60,
) -> dict[str, Any]:
    """Poll the batch until ``done(batch)`` holds (e.g. a final state, or runs finished)."""
    deadline = time.monotonic() + timeout
    while True:
        batch = client.get(f"{API}/batches/{batch_id}", headers=headers).json()
        if done(batch):
            return dict(batch)
        if time.monotonic() > deadline:
            raise AssertionError(f"batch {batch_id} did not get there: {batch}")
        time.sleep(0.05)


def finished(batch: dict[str, Any]) -> bool:
    return batch["state"] in ("succeeded", "failed", "cancelled")
