"""The long schemathesis run: every operation, every check, all phases including stateful.

A real server (uvicorn, its own SQLite file) is started with an admin key and a stored
scenario, a solved result, a job and a batch, so that the fuzzer gets past authentication
and reaches existing resources as well as the ones it creates by following the OpenAPI
links. ``schemathesis run --checks all`` must find nothing: no 5xx, no schema violation, no
undocumented status, content type or header. The checks' settings are in schemathesis.toml
next to this file (the only change from the defaults: schema-valid scenarios and batches
may be refused with a located 422, or 415 for an upload that is not .json or .xlsx; so
may a risk report whose draws × providers is over the limit, and a trace of an unknown figure).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import Role
from tests.api.helpers import API, make_settings, new_key, solved_result, submit

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")
BIN = Path(sys.executable).parent
MAX_EXAMPLES = 10


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _seed(data: Path) -> tuple[str, dict[str, str]]:
    """An admin key's token and the ids of a stored scenario, result, job and batch."""
    app = create_app(make_settings(data))
    with TestClient(app, raise_server_exceptions=False) as client:
        admin = new_key(app, Role.ADMIN, "S1", name="fuzzer")
        scenario = submit(client, admin)
        result = solved_result(client, admin, scenario)
        job = client.get(f"{API}/results/{result}", headers=admin).json()["job_id"]
        batch = client.post(
            f"{API}/batches",
            json={
                "base": {"scenario_id": scenario, "version": 1},
                "grid": [{"name": "g", "change": {"kind": "pot_growth"}, "values": [0.0]}],
            },
            headers=admin,
        )
        assert batch.status_code == 202, batch.text
    ids = {
        "scenario_id": scenario,
        "result_id": result,
        "job_id": job,
        "batch_id": batch.json()["id"],
        "a": result,
        "b": result,
    }
    return admin["Authorization"].removeprefix("Bearer "), ids


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, dict[str, str]]]:
    data = tmp_path_factory.mktemp("schemathesis")
    token, ids = _seed(data)
    port = _free_port()
    env = {
        **os.environ,
        "ALLOCATOR_DATA_DIR": str(data),
        "ALLOCATOR_ENVIRONMENT": "test",
        "ALLOCATOR_PRESTART_SOLVERS": "false",
        "ALLOCATOR_SOLVE_WORKERS": "1",
        "ALLOCATOR_BATCH_WORKERS": "1",
    }
    process = subprocess.Popen(
        [
            *(str(BIN / "uvicorn"), "--factory", "api.app:create_app"),
            *("--port", str(port), "--log-level", "warning"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the server did not start")
            time.sleep(0.2)
        yield url, token, ids
    finally:
        process.terminate()
        process.wait(timeout=30)
        assert process.stderr is not None
        process.stderr.close()


def test_schemathesis_finds_nothing(
    server: tuple[str, str, dict[str, str]], tmp_path: Path
) -> None:
    url, token, ids = server
    config = tmp_path / "schemathesis.toml"
    location = {"a": "query", "b": "query"}
    parameters = "".join(
        f'"{location.get(name, "path")}.{name}" = "{value}"\n' for name, value in ids.items()
    )
    config.write_text(f"[parameters]\n{parameters}\n{CONFIG.read_text()}")
    done = subprocess.run(
        [
            *(str(BIN / "schemathesis"), "--config-file", str(config)),
            *("run", f"{url}/openapi.json", "--checks", "all"),
            *("--phases", "examples,coverage,fuzzing,stateful"),
            *("--max-examples", str(MAX_EXAMPLES), "--seed", "1", "--workers", "1"),
            *("--no-shrink", "--header", f"Authorization: Bearer {token}"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    (tmp_path.parent / "schemathesis-report.txt").write_text(done.stdout)
    report = done.stdout[-20_000:]
    assert done.returncode == 0, report
    selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", report)
    assert selected is not None, report
    assert len(set(selected.groups())) == 1, selected.group(0)  # every operation tested
