"""Faults: a solver process killed, the server stopped or crashed mid-solve, then restarted."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from api.app import create_app
from api.job_ledger import RESTART_REASON, SHUTDOWN_REASON
from api.security import Role
from api.settings import Settings
from api.storage.tables import JobRow, RunnerRow
from tests.api.helpers import (
    API,
    make_settings,
    new_key,
    solve,
    submit,
    wait_for_job,
)

ROOT = Path(__file__).resolve().parents[2]
SLEEPY = "tests.api.fault_solvers:sleepy_solve"


def test_killed_solver_process_fails_only_its_job(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, solve_target=SLEEPY, solve_workers=2))
    with TestClient(app) as client:
        headers = new_key(app, Role.PLAN, "S1")
        scenario_id = submit(client, headers)
        doomed = solve(client, headers, scenario_id, mode="job", time_limit_s=60)["job"]
        survivor = solve(client, headers, scenario_id, mode="job", time_limit_s=3)["job"]
        wait_for_job(client, headers, doomed["id"], ("running",))
        wait_for_job(client, headers, survivor["id"], ("running",))
        deadline = time.monotonic() + 10
        while (pid := app.state.runner.pid_of(doomed["id"])) is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

        failed = wait_for_job(client, headers, doomed["id"], ("failed", "succeeded"), timeout=20)
        assert failed["state"] == "failed"
        assert "died" in failed["error"] and "-9" in failed["error"]
        done = wait_for_job(client, headers, survivor["id"], ("succeeded", "failed"), timeout=30)
        assert done["state"] == "succeeded"
        # The killed process is replaced: the next job on that worker runs normally.
        again = solve(client, headers, scenario_id, mode="job", time_limit_s=0.01)["job"]
        assert wait_for_job(client, headers, again["id"], ("succeeded", "failed"))["state"] == (
            "succeeded"
        )
        assert client.get(f"{API}/scenarios/{scenario_id}", headers=headers).status_code == 200


def test_shutdown_mid_solve_then_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, solve_target=SLEEPY)
    app = create_app(settings)
    with TestClient(app) as client:
        headers = new_key(app, Role.PLAN, "S1")
        scenario_id = submit(client, headers)
        document = client.get(f"{API}/scenarios/{scenario_id}", headers=headers).json()
        job = solve(client, headers, scenario_id, mode="job", time_limit_s=60)["job"]
        queued = solve(client, headers, scenario_id, mode="job", time_limit_s=60)["job"]
        wait_for_job(client, headers, job["id"], ("running",))
        # The sleepy solve runs for a minute: a shutdown that waited for it would miss this.
        deadline = time.monotonic() + 15
    assert time.monotonic() < deadline, "shutting down waited for the solve"

    restarted = create_app(settings)
    with TestClient(restarted) as client:
        for job_id in (job["id"], queued["id"]):
            after = client.get(f"{API}/jobs/{job_id}", headers=headers).json()
            assert after["state"] == "failed" and after["error"] == SHUTDOWN_REASON
        again = client.get(f"{API}/scenarios/{scenario_id}", headers=headers).json()
        assert again == document


def test_jobs_orphaned_by_a_crash_fail_at_startup(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    app = create_app(settings)
    with TestClient(app) as client:
        headers = new_key(app, Role.PLAN, "S1")
        scenario_id = submit(client, headers)
        job_id = solve(client, headers, scenario_id)["job"]["id"]
        with app.state.database.transaction() as session:
            # What a crash leaves: a running job of a runner that stopped beating long ago.
            session.add(RunnerRow(id="dead", heartbeat_at=datetime.now(UTC) - timedelta(hours=1)))
            row = session.get(JobRow, job_id)
            assert row is not None
            row.state, row.runner_id, row.result_id = "running", "dead", None
    with TestClient(create_app(settings)) as client:
        after = client.get(f"{API}/jobs/{job_id}", headers=headers).json()
        assert after["state"] == "failed" and after["error"] == RESTART_REASON


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server(
    tmp_path: Path, port: int, *, heartbeat_s: float = 0.5
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ALLOCATOR_DATA_DIR": str(tmp_path),
        "ALLOCATOR_SOLVE_TARGET": SLEEPY,
        "ALLOCATOR_HEARTBEAT_S": str(heartbeat_s),
        "ALLOCATOR_PRESTART_SOLVERS": "false",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    os.killpg(server.pid, signal.SIGKILL)
    raise AssertionError("the server did not start")


def test_server_killed_mid_solve_then_restarted(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, environment="test", heartbeat_s=0.5)
    port = _free_port()
    server = _start_server(tmp_path, port)
    try:
        app = create_app(settings)  # only for its database, to create a key
        with TestClient(app):
            headers = new_key(app, Role.PLAN, "S1")
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            scenario_id = submit(http, headers)  # type: ignore[arg-type]
            job = solve(http, headers, scenario_id, mode="job", time_limit_s=60)["job"]  # type: ignore[arg-type]
            wait_for_job(http, headers, job["id"], ("running",))  # type: ignore[arg-type]
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # the server, its forkserver and solver processes
        server.wait(timeout=10)

    with TestClient(create_app(settings)) as client:
        failed = wait_for_job(client, headers, job["id"], ("failed",), timeout=15)
        assert failed["error"] == RESTART_REASON
        assert client.get(f"{API}/scenarios/{scenario_id}", headers=headers).status_code == 200
