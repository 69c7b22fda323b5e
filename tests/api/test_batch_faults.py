"""A batch whose runs finish while the database cannot take a write ends final with them stored.

The batch runs (pausing after each run, `fault_solvers.sleepy_batch`) while the database is
made unwritable (SQLite: immutable file; PostgreSQL: server stopped); its process ends
during the fault, so neither its last runs nor its final state can be stored. Once the
database is back the running server stores them within seconds: the batch is
``succeeded`` with every run stored, not ``failed`` as lost with runs missing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url

from api.app import create_app
from api.security import Role
from tests.api.helpers import API, make_settings, new_key, submit, wait_for_batch
from tests.api.test_database_faults import _chattr_works, _until, immutable
from tests.api.test_fault_under_load import _postgres_stopped

SLEEPY_BATCH = "tests.api.fault_solvers:sleepy_batch"
RUNS = 8
GROWTHS = [round(0.005 * i, 3) for i in range(RUNS)]


def _exercise(
    tmp_path: Path, database_url: str, fault: Callable[[], AbstractContextManager[None]]
) -> None:
    settings = make_settings(tmp_path, database_url=database_url, batch_target=SLEEPY_BATCH)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        runner = app.state.runner
        planner = new_key(app, Role.PLAN, "S1")
        scenario = submit(client, planner)
        spec = {
            "base": {"scenario_id": scenario, "version": 1},
            "grid": [{"name": "g", "change": {"kind": "pot_growth"}, "values": GROWTHS}],
        }
        made = client.post(f"{API}/batches", json=spec, headers=planner)
        assert made.status_code == 202, made.text
        batch_id = made.json()["id"]
        wait_for_batch(client, planner, batch_id, lambda b: b["runs_done"] >= 1)

        with fault():
            assert client.get("/ready", headers=planner).status_code == 503
            _until(  # the process finishes every run and ends while nothing can be stored
                lambda: runner.pid_of(batch_id) is None and batch_id not in runner._active,
                "the batch process ends",
                timeout=20,
            )
            time.sleep(2 * settings.heartbeat_s)  # heartbeats pass: it is not "lost"

        done = wait_for_batch(
            client,
            planner,
            batch_id,
            lambda b: b["state"] in ("succeeded", "failed", "cancelled"),
            timeout=10,
        )
        assert done["state"] == "succeeded", done
        assert (done["runs_done"], done["runs_total"], done["error"]) == (RUNS, RUNS, None)
        runs = client.get(
            f"{API}/batches/{batch_id}/runs", params={"state": "all"}, headers=planner
        ).json()
        items = runs["items"] if isinstance(runs, dict) else runs
        assert len(items) == RUNS and all(item["status"] != "pending" for item in items), items
        assert sorted(item["params"]["g"] for item in items) == GROWTHS
        assert not (tmp_path / "batches" / batch_id).exists()  # its folder is stored, removed


def test_sqlite_batch_finishing_during_the_fault_is_stored(tmp_path: Path) -> None:
    if not _chattr_works(tmp_path):
        pytest.skip("needs chattr +i (root, on a file system with the immutable attribute)")
    database = tmp_path / "allocator.db"
    files = [database, database.with_name("allocator.db-wal")]
    _exercise(tmp_path, f"sqlite:///{database}", lambda: immutable(files))


@pytest.mark.postgres
def test_postgres_batch_finishing_during_the_fault_is_stored(
    tmp_path: Path, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL test")
    port = make_url(database_url).port or 5432
    if not Path(os.environ.get("TMPDIR", "/tmp"), f"allocator-ci-postgres-{port}").exists():
        pytest.skip("needs the server of scripts/ci_postgres.sh (it is stopped and started)")
    _exercise(tmp_path, database_url, lambda: _postgres_stopped(port))
