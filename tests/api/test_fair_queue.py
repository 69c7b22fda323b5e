"""Solve jobs are taken round-robin between keys, and optionally capped per key while running."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.fair_queue import FairQueue
from api.security import Role
from tests.api.helpers import API, make_settings, new_key, solve, submit, wait_for_job

SLEEPY = "tests.api.fault_solvers:sleepy_solve"


def test_each_key_gets_its_turn_in_the_order_keys_first_queued() -> None:
    async def order() -> list[str]:
        queue = FairQueue()
        for job in ("a1", "a2", "a3"):
            queue.put_nowait(job, "A")
        queue.put_nowait("b1", "B")
        queue.put_nowait("c1", "C")
        queue.put_nowait("b2", "B")
        taken = [await queue.get() for _ in range(6)]
        assert queue.qsize() == 0 and queue.running("A") == 3
        return taken

    assert asyncio.run(order()) == ["a1", "b1", "c1", "a2", "b2", "a3"]


def test_a_key_at_its_running_limit_waits_while_others_run() -> None:
    async def run() -> None:
        queue = FairQueue(running_limit=1)
        queue.put_nowait("a1", "A")
        queue.put_nowait("a2", "A")
        assert await queue.get() == "a1"
        waiting = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0.05)
        assert not waiting.done()  # a2 must wait: A already runs one
        queue.put_nowait("b1", "B")
        assert await asyncio.wait_for(waiting, 1) == "b1"
        queue.task_done("b1")
        later = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0.05)
        assert not later.done()
        queue.task_done("a1")  # A's running job ended: its next one may start
        assert await asyncio.wait_for(later, 1) == "a2"
        assert queue.running("A") == 1 and queue.running("B") == 0
        queue.task_done("unknown")  # a job never taken changes nothing
        assert queue.running("A") == 1

    asyncio.run(run())


def test_another_key_is_served_before_a_flooding_keys_backlog(tmp_path: Path) -> None:
    """One worker; key A queues three 1-second solves, then key B queues one. First come
    first served would run B's last; round-robin runs it second."""
    app = create_app(make_settings(tmp_path, solve_target=SLEEPY, prestart_solvers=True))
    with TestClient(app) as client:
        flood = new_key(app, Role.PLAN, "S1", name="flood")
        other = new_key(app, Role.PLAN, "S1", name="other")
        scenario = submit(client, flood)
        floods = [solve(client, flood, scenario, mode="job", time_limit_s=1)["job"] for _ in "abc"]
        wait_for_job(client, flood, floods[0]["id"], ("running",))
        mine = solve(client, other, scenario, mode="job", time_limit_s=0.01)["job"]
        done = wait_for_job(client, other, mine["id"], ("succeeded", "failed"), timeout=30)
        assert done["state"] == "succeeded", done
        states = [client.get(f"{API}/jobs/{j['id']}", headers=flood).json() for j in floods]
        assert states[0]["state"] == "succeeded"
        assert states[2]["started_at"] is None or states[2]["started_at"] > done["finished_at"]
        second = wait_for_job(client, flood, floods[1]["id"], ("succeeded",), timeout=30)
        assert second["started_at"] > done["finished_at"]  # B ran before A's second


def test_the_running_limit_leaves_a_worker_for_other_keys(tmp_path: Path) -> None:
    """Two workers, a cap of one running job per key: A's second solve waits, B's runs."""
    settings = make_settings(
        tmp_path,
        solve_target=SLEEPY,
        prestart_solvers=True,
        solve_workers=2,
        max_running_jobs_per_key=1,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        flood = new_key(app, Role.PLAN, "S1", name="flood")
        other = new_key(app, Role.PLAN, "S1", name="other")
        scenario = submit(client, flood)
        floods = [solve(client, flood, scenario, mode="job", time_limit_s=2)["job"] for _ in "ab"]
        wait_for_job(client, flood, floods[0]["id"], ("running",))
        assert client.get(f"{API}/jobs/{floods[1]['id']}", headers=flood).json()["state"] == (
            "queued"
        )
        mine = solve(client, other, scenario, mode="job", time_limit_s=0.01)["job"]
        done = wait_for_job(client, other, mine["id"], ("succeeded", "failed"), timeout=30)
        assert done["state"] == "succeeded", done
        second = client.get(f"{API}/jobs/{floods[1]['id']}", headers=flood).json()
        assert second["state"] == "queued", second  # A's first still runs: A waits, B did not
