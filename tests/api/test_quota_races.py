"""Queue limits hold exactly under concurrent requests, on SQLite and PostgreSQL.

Sixteen solve requests from one key arrive at once; with a limit of 3 active jobs per key,
exactly 3 are queued and the others answer 429 (two requests passing the count together
would queue more).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.security import Role
from tests.api.helpers import API, make_settings, new_key, submit, tiny_for

LIMIT = 3


def test_concurrent_solves_never_pass_the_limit_together(tmp_path: Path, database_url: str) -> None:
    gate = tmp_path / "gate"  # never opened: the accepted jobs stay queued or running
    settings = make_settings(
        tmp_path,
        database_url=database_url,
        solve_target="tests.api.fault_solvers:gated_solve",
        max_active_jobs_per_key=LIMIT,
        max_active_jobs_per_system=100,
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        planner = new_key(app, Role.PLAN, "S1")
        scenario = submit(client, planner, tiny_for("S1", description=str(gate)))
        url = f"{API}/scenarios/{scenario}/versions/1/solve"

        def post(_: int) -> int:
            return client.post(url, json={"mode": "job"}, headers=planner).status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = sorted(pool.map(post, range(16)))
        gate.write_text("go")
    assert statuses == [202] * LIMIT + [429] * (16 - LIMIT), statuses
