"""A database that cannot take writes for a while, then comes back, on SQLite and PostgreSQL.

SQLite: the database file and its write-ahead log are made immutable (``chattr +i``,
which holds even for root), then restored. A connection opened meanwhile is read-only for
ever, which is what poisoned the pool. PostgreSQL: the test server of
``scripts/ci_postgres.sh`` is stopped and started again (``pause`` / ``resume``).
During the fault writes answer 503 (never 500) and ``/ready`` fails; once the database is
back, ``/ready`` recovers, every write succeeds, the solve that finished during the fault
is stored, no job is left queued or running, and nothing stored before is lost.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.jobs import JobRunner
from api.security import Role
from tests.api.conftest import POSTGRES_URL
from tests.api.helpers import (
    API,
    Headers,
    make_settings,
    new_key,
    solve,
    submit,
    tiny_for,
    wait_for_job,
)

ROOT = Path(__file__).resolve().parents[2]
GATED = "tests.api.fault_solvers:gated_solve"
Fault = Callable[[], AbstractContextManager[None]]


def _until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(0.1)


@contextmanager
def immutable(paths: list[Path]) -> Iterator[None]:
    """``paths`` unwritable (even by root) inside the block."""
    present = [str(p) for p in paths if p.exists()]
    subprocess.run(["chattr", "+i", *present], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *present], check=True)


@contextmanager
def postgres_down() -> Iterator[None]:
    script = ["bash", str(ROOT / "scripts" / "ci_postgres.sh")]
    subprocess.run([*script, "pause"], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run([*script, "resume"], check=True, capture_output=True)


def _chattr_works(folder: Path) -> bool:
    probe = folder / "chattr-probe"
    probe.write_text("x")
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(["chattr", "+i", str(probe)], capture_output=True)
    if done.returncode != 0:
        return False
    try:
        probe.write_text("y")
    except OSError:
        return True
    finally:
        subprocess.run(["chattr", "-i", str(probe)], capture_output=True)
    return False


def _write(client: TestClient, headers: Headers) -> int:
    return client.post(f"{API}/scenarios", json=tiny_for("S1"), headers=headers).status_code


def _exercise(
    client: TestClient, runner: JobRunner, planner: Headers, fault: Fault, gate: Path
) -> None:
    headers = planner
    gated = submit(client, planner, tiny_for("S1", description=str(gate)))
    stored = [gated, *(submit(client, planner) for _ in range(2))]
    assert client.get("/ready", headers=planner).status_code == 200
    job = solve(client, planner, stored[0], mode="job")["job"]
    wait_for_job(client, planner, job["id"], ("running",))

    with fault():
        with ThreadPoolExecutor(8) as pool:  # concurrent: the pool opens connections now
            during = list(pool.map(lambda _: _write(client, headers), range(24)))
        assert set(during) == {503}, during
        ready = client.get("/ready", headers=planner)
        assert ready.status_code == 503, ready.text
        detail = ready.json()["detail"]  # PostgreSQL down: the key cannot even be read
        assert "cannot take a write" in detail or "did not answer" in detail, detail
        gate.write_text("go")  # the solve finishes while its outcome cannot be stored
        _until(
            lambda: runner.pid_of(job["id"]) is None and job["id"] not in runner._active,
            "solve ends",
        )

    _until(lambda: client.get("/ready", headers=planner).status_code == 200, "/ready recovers")
    after = [_write(client, headers) for _ in range(20)]
    assert after == [201] * 20, after
    done = wait_for_job(client, planner, job["id"], ("succeeded", "failed"), timeout=10)
    assert done["state"] == "succeeded" and done["result_id"], done["error"]
    listed = client.get(f"{API}/scenarios", params={"page_size": 100}, headers=planner).json()
    assert listed["total"] == 3 + 20 and set(stored) <= {s["id"] for s in listed["items"]}
    result = client.get(f"{API}/results/{done['result_id']}", headers=planner)
    assert result.status_code == 200 and result.json()["scenario_id"] == stored[0]


def test_sqlite_made_unwritable_then_restored(
    tmp_path: Path,
) -> None:
    if not _chattr_works(tmp_path):
        pytest.skip("needs chattr +i (root, on a file system with the immutable attribute)")
    gate = tmp_path / "gate"
    app = create_app(make_settings(tmp_path, solve_target=GATED, prestart_solvers=True))
    database = tmp_path / "allocator.db"
    files = [database, database.with_name("allocator.db-wal")]
    with TestClient(app, raise_server_exceptions=False) as client:
        planner = new_key(app, Role.PLAN, "S1")
        _exercise(client, app.state.runner, planner, lambda: immutable(files), gate)


@pytest.mark.postgres
def test_postgres_stopped_then_started(tmp_path: Path, database_url: str) -> None:
    if not database_url.startswith("postgresql") or not POSTGRES_URL:
        pytest.skip("a PostgreSQL test")
    if not Path(os.environ.get("TMPDIR", "/tmp"), "allocator-ci-postgres-54329").exists():
        pytest.skip("needs the server of scripts/ci_postgres.sh (it is stopped and started)")
    gate = tmp_path / "gate"
    app = create_app(
        make_settings(
            tmp_path, database_url=database_url, solve_target=GATED, prestart_solvers=True
        )
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        planner = new_key(app, Role.PLAN, "S1")
        _exercise(client, app.state.runner, planner, postgres_down, gate)
