"""The acceptance's fault test: the database unwritable for 10 s under load, then restored.

A real server (uvicorn in its own process) takes writes from several client threads at
once: each creates a scenario, submits a second version of it and queues a solve of that
version, over and over. Meanwhile the database is made unwritable for `FAULT_S` seconds
(SQLite: the file and its write-ahead log made immutable; PostgreSQL: the server of
``scripts/ci_postgres.sh`` stopped), then restored. Then:

- ``/ready`` answered 503 to every probe made wholly inside the fault;
- no write ever answered 500, and every write started `RECOVERY_S` seconds or more after
  the database came back succeeded;
- once the load stops, every job in the database reaches a final state within seconds
  (none is left queued or running with no worker holding it), and every succeeded job's
  result is stored and readable;
- everything acknowledged (2xx) is stored and readable: each scenario with every version
  it was acknowledged at, each job; and nothing is half-written (no scenario row without
  its versions, no latest version that is not stored, no succeeded job without a result).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, make_url, select

from api.app import create_app
from api.security import Role
from api.storage.db import Database
from api.storage.tables import JobRow, ResultRow, ScenarioRow, ScenarioVersionRow
from tests.api.helpers import API, Headers, make_settings, new_key, tiny_for
from tests.api.test_database_faults import _chattr_works, immutable
from tests.api.test_faults import _free_port

ROOT = Path(__file__).resolve().parents[2]
FAULT_S = 10.0
RECOVERY_S = 10.0  # every write started this long after the database returns succeeds
WARMUP_S = 3.0
CHECKED_S = 4.0  # load kept up after the recovery deadline, every write then must succeed
CLIENTS = 4
FINAL = ("succeeded", "failed", "cancelled")

Fault = Callable[[], AbstractContextManager[None]]


@dataclass(slots=True)
class Load:
    """What the clients sent and what the server acknowledged (lists are thread-safe)."""

    stop: threading.Event = field(default_factory=threading.Event)
    writes: list[tuple[float, float, int, str]] = field(default_factory=list)  # start, end
    ready: list[tuple[float, float, int]] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)  # scenario -> highest acknowledged
    jobs: dict[str, tuple[str, int]] = field(default_factory=dict)  # job -> scenario, version


def _post(http: httpx.Client, load: Load, what: str, url: str, **kw: object) -> httpx.Response:
    started = time.monotonic()
    try:
        response = http.post(url, **kw)  # type: ignore[arg-type]
    except httpx.TransportError as error:
        load.writes.append((started, time.monotonic(), 0, f"{what}: {error!r}"))
        raise
    load.writes.append((started, time.monotonic(), response.status_code, what))
    return response


def _client(base: str, headers: Headers, load: Load, index: int) -> None:
    """Create a scenario, add its version 2, queue a solve of it; again until told to stop."""
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        round_ = 0
        while not load.stop.is_set():
            round_ += 1
            doc = tiny_for("S1", description=f"client {index} round {round_}")
            try:
                made = _post(http, load, "scenario", f"{API}/scenarios", json=doc)
                if made.status_code != 201:
                    time.sleep(0.1)
                    continue
                scenario = made.json()["id"]
                load.versions[scenario] = 1
                doc["description"] += ", second version"
                again = _post(
                    http,
                    load,
                    "version",
                    f"{API}/scenarios/{scenario}/versions",
                    json=doc,
                    headers={"If-Match": '"1"'},
                )
                if again.status_code != 201:
                    continue
                load.versions[scenario] = 2
                solved = _post(
                    http,
                    load,
                    "solve",
                    f"{API}/scenarios/{scenario}/versions/2/solve",
                    json={"mode": "job"},
                )
                if solved.status_code == 202:
                    load.jobs[solved.json()["job"]["id"]] = (scenario, 2)
            except httpx.TransportError:
                time.sleep(0.1)


def _probe_ready(base: str, headers: Headers, load: Load) -> None:
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        while not load.stop.is_set():
            started = time.monotonic()
            status = http.get("/ready").status_code
            load.ready.append((started, time.monotonic(), status))
            time.sleep(0.2)


@contextmanager
def _server(data: Path, database_url: str) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "ALLOCATOR_DATA_DIR": str(data),
        "ALLOCATOR_DATABASE_URL": database_url,
        "ALLOCATOR_ENVIRONMENT": "test",
        "ALLOCATOR_HEARTBEAT_S": "1",
        "ALLOCATOR_SOLVE_WORKERS": "2",
        "ALLOCATOR_MAX_ACTIVE_JOBS_PER_KEY": "100000",
        "ALLOCATOR_MAX_ACTIVE_JOBS_PER_SYSTEM": "100000",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app"]
    log = (data / "server.log").open("wb")  # the fault makes the server log a lot
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "no server"
            time.sleep(0.1)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _in_flight(database: Database) -> int:
    with database.transaction(write=False) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(JobRow)
                .where(JobRow.state.in_(("queued", "running")))
            )
            or 0
        )


def _check_stored(database: Database, http: httpx.Client, load: Load) -> None:
    """Everything acknowledged is readable; nothing in the database is half-written."""
    for scenario, version in list(load.versions.items()):
        for v in range(1, version + 1):
            got = http.get(f"{API}/scenarios/{scenario}/versions/{v}")
            assert got.status_code == 200, (scenario, v, got.text)
    for job_id, (scenario, version) in list(load.jobs.items()):
        job = http.get(f"{API}/jobs/{job_id}").json()
        assert (job["scenario_id"], job["version"]) == (scenario, version), job
        if job["state"] == "succeeded":
            result = http.get(f"{API}/results/{job['result_id']}")
            assert result.status_code == 200 and result.json()["scenario_id"] == scenario
    with database.transaction(write=False) as session:
        stored = {row.id: row.latest_version for row in session.scalars(select(ScenarioRow)).all()}
        versions: dict[str, set[int]] = {}
        for pk, v in session.execute(
            select(ScenarioVersionRow.scenario_pk, ScenarioVersionRow.version)
        ):
            versions.setdefault(pk, set()).add(v)
        for pk, latest in stored.items():
            assert versions.get(pk) == set(range(1, latest + 1)), (pk, latest, versions.get(pk))
        assert set(load.versions) <= set(stored)
        results = set(session.scalars(select(ResultRow.id)).all())
        for job in session.scalars(select(JobRow).where(JobRow.state == "succeeded")).all():
            assert job.result_id in results, job.id


def _exercise(tmp_path: Path, database_url: str, fault: Fault) -> None:
    app = create_app(make_settings(tmp_path, database_url=database_url))
    with TestClient(app):  # migrates, and makes the key
        headers = new_key(app, Role.PLAN, "S1")
    database = Database.connect(database_url)
    load = Load()
    with _server(tmp_path, database_url) as base:
        threads = [
            threading.Thread(target=_client, args=(base, headers, load, i), daemon=True)
            for i in range(CLIENTS)
        ]
        threads.append(
            threading.Thread(target=_probe_ready, args=(base, headers, load), daemon=True)
        )
        for thread in threads:
            thread.start()
        time.sleep(WARMUP_S)
        down = time.monotonic()  # writes ending before this were made with the database up
        with fault():
            began = time.monotonic()  # the fault is in effect from here
            time.sleep(FAULT_S)
            # Leaving the block undoes the fault, and a server may take connections before
            # its start command returns: the fault is surely in effect only up to here.
            lifting = time.monotonic()
        back = time.monotonic()
        time.sleep(RECOVERY_S + CHECKED_S)
        load.stop.set()
        for thread in threads:
            thread.join(timeout=70)

        statuses = [status for _, _, status, _ in load.writes]
        assert 500 not in statuses and 0 not in statuses, sorted(set(statuses))
        before = [w for w in load.writes if w[1] < down]
        assert before and all(200 <= w[2] < 300 for w in before), before[-5:]
        assert any(w[2] == 503 for w in load.writes if down < w[0] < back), "the fault hit no write"
        late = [w for w in load.writes if w[0] >= back + RECOVERY_S]
        failed = [w for w in late if not 200 <= w[2] < 300]
        assert len(late) >= CLIENTS and not failed, failed[:5]
        inside = [status for start, end, status in load.ready if began < start and end < lifting]
        assert inside and set(inside) == {503}, inside
        assert load.ready[-1][2] == 200

        deadline = time.monotonic() + 30
        while (left := _in_flight(database)) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert left == 0, f"{left} job(s) still queued or running"
        assert load.jobs, "no job was acknowledged"
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            _check_stored(database, http, load)
        first = min((w[0] - back for w in load.writes if w[0] >= back and w[2] < 300), default=-1)
        print(  # shown with -s: the figures behind the assertions
            f"fault under load: {len(load.writes)} writes, "
            f"{sum(w[2] == 503 for w in load.writes)} answered 503, first success "
            f"{first:.2f} s after the database returned, {len(load.jobs)} jobs acknowledged"
        )
    database.dispose()


def test_sqlite_unwritable_for_10_s_under_load(tmp_path: Path) -> None:
    if not _chattr_works(tmp_path):
        pytest.skip("needs chattr +i (root, on a file system with the immutable attribute)")
    database = tmp_path / "allocator.db"
    files = [database, database.with_name("allocator.db-wal")]
    _exercise(tmp_path, f"sqlite:///{database}", lambda: immutable(files))


@contextmanager
def _postgres_stopped(port: int) -> Iterator[None]:
    script = ["bash", str(ROOT / "scripts" / "ci_postgres.sh")]
    env = {**os.environ, "ALLOCATOR_PG_PORT": str(port)}
    subprocess.run([*script, "pause"], check=True, capture_output=True, env=env)
    try:
        yield
    finally:
        subprocess.run([*script, "resume"], check=True, capture_output=True, env=env)


@pytest.mark.postgres
def test_postgres_stopped_for_10_s_under_load(tmp_path: Path, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL test")
    port = make_url(database_url).port or 5432
    if not Path(os.environ.get("TMPDIR", "/tmp"), f"allocator-ci-postgres-{port}").exists():
        pytest.skip("needs the server of scripts/ci_postgres.sh (it is stopped and started)")
    _exercise(tmp_path, database_url, lambda: _postgres_stopped(port))
