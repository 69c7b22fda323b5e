"""A server killed mid-solve takes its solver processes with it; its restart fails the job at once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from api.app import create_app
from api.job_ledger import RESTART_REASON
from api.orphans import is_dead_local
from api.security import Role
from api.settings import Settings
from tests.api.helpers import API, new_key, solve, submit, wait_for_job
from tests.api.test_faults import _free_port, _start_server


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_killing_the_server_kills_its_solvers_and_restart_fails_the_job(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, environment="test")  # heartbeat 5 s: no waiting
    port = _free_port()
    server = _start_server(tmp_path, port, heartbeat_s=settings.heartbeat_s)
    solvers: set[int] = set()
    try:
        app = create_app(settings)
        with TestClient(app):
            headers = new_key(app, Role.PLAN, "S1")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            scenario_id = submit(http, headers)  # type: ignore[arg-type]
            job = solve(http, headers, scenario_id, mode="job", time_limit_s=120)["job"]  # type: ignore[arg-type]
            wait_for_job(http, headers, job["id"], ("running",))  # type: ignore[arg-type]
        solvers = descendants(server.pid)
        assert solvers, "the server has no solver processes"
        os.kill(server.pid, signal.SIGKILL)  # the server alone, not its process group
        server.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in solvers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = sorted(pid for pid in solvers if alive(pid))
        assert not left, f"processes outlived the server: {left}"
    finally:
        for pid in solvers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)

    with TestClient(create_app(settings)) as client:  # the first answer already knows
        after = client.get(f"{API}/jobs/{job['id']}", headers=headers).json()
    assert after["state"] == "failed" and after["error"] == RESTART_REASON, after


def test_only_dead_processes_of_this_host_count_as_dead_runners() -> None:
    from api.orphans import host_prefix

    assert not is_dead_local(f"{host_prefix()}{os.getpid()}:abc")  # this process
    assert not is_dead_local("another-host:1:abc")
    assert not is_dead_local(f"{host_prefix()}1:abc")  # init is alive
    assert is_dead_local(f"{host_prefix()}{2**22 + 17}:abc")  # above pid_max: never a process
