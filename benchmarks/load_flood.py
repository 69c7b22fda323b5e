"""A tenant flooding the solve queue, and what another tenant's solves feel meanwhile.

``python -m benchmarks.load_flood [--quick] [--duration 40] [--rate 2] [--out PATH]``

Starts the real server (uvicorn, SQLite in a temporary folder, ``--solve-workers``
solver processes) with two plan keys: tenant A (the seven systems of a generated region,
``allocator generate --size region --seed 1``) and tenant B (the tiny example's system).
Tenant B submits a solve of the tiny example ``--rate`` times a second, each on its own
(open loop: a slow answer does not slow the rate) and measures submit-to-result (solve
request, polling the job if it was queued, reading the result) and every API request it
made. Phases, each ``--duration`` seconds:

- ``baseline``: B alone;
- ``busy``: B while A solves its region one job at a time, each waited for (its permitted
  use, no 429s: A's running solve takes a core whether or not A also floods), so the
  flood's own cost is B's p99 under the flood over B's p99 here;
- ``flood``: B while A floods the queue with solves of the region (``--flooders``
  concurrent loops in a process of their own, as another tenant's client would be, each
  asking again as soon as it is answered, ignoring ``Retry-After``); A's queue is soon
  full, so its requests get 429;
- ``flood-unheld`` (not with ``--quick``): the same with remembered refusals answered at
  once (``ALLOCATOR_QUEUE_REFUSAL_DELAY_S=0``), to show what holding them to the end of
  the remembered second buys (A's loops then ask as fast as they are answered);
- ``flood-counting`` (not with ``--quick``): the same with every refusal counted in the
  database (``ALLOCATOR_QUEUE_REFUSAL_MEMORY_S=0``), to show what remembering a refusal
  for a second (`api.quotas.RefusalMemory`) buys;
- ``flood-uncapped`` (not with ``--quick``): the same without the per-key running limit,
  to show what it buys: round-robin alone still lets A's long solves hold every worker, so
  B waits for one to finish.

All but the uncapped phase run on a server with ``ALLOCATOR_MAX_RUNNING_JOBS_PER_KEY=1``
(below the number of workers, so a worker is always free for B). The report gives A's
429s (and how many carried ``Retry-After``) and B's p50/p99 per phase with the ratio of
B's p99 to its baseline and to the busy phase; B's p99 "holds" when that ratio is at most
`HOLD_RATIO` (reported for both). Prints a markdown table and writes JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.load_api import HOST, ROOT, _free_port, _percentiles

REFUSAL_MEMORY_S = 1.0  # the server's default (`api.settings.Settings.queue_refusal_memory_s`)
REFUSAL_DELAY_S = 1.0  # the server's default (`api.settings.Settings.queue_refusal_delay_s`)
HOLD_RATIO = 2.0  # B's p99 under the flood at most this many times its baseline p99
API = "/api/v1"


@dataclass
class TenantB:
    result_s: list[float] = field(default_factory=list)  # submit to result
    request_s: list[float] = field(default_factory=list)  # every API request
    solves: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class TenantA:
    sent: int = 0
    accepted: int = 0
    refused_429: int = 0
    retry_after: int = 0  # 429s that carried Retry-After
    other: dict[str, int] = field(default_factory=dict)


def _documents() -> tuple[dict[str, Any], dict[str, Any]]:
    """Tenant A's region and tenant B's tiny example (its systems are B's)."""
    from allocator.synth.generator import SIZES, generate_scenario

    region = json.loads(generate_scenario(SIZES["region"], 1).model_dump_json())
    tiny = json.loads((ROOT / "data" / "tiny" / "tiny.json").read_text())
    return region, tiny


def _key(url: str, env: dict[str, str], name: str, systems: list[str]) -> str:
    options = [part for system in systems for part in ("--system", system)]
    options += ["--name", name, "--database-url", url]
    created = subprocess.run(
        [sys.executable, "-m", "cli.app", "keys", "create", "--role", "plan", *options],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    )
    return created.stdout.strip().splitlines()[-1]


def _start(
    data: Path, workers: int, cap: int | None, refusal_memory_s: float, refusal_delay_s: float
) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "ALLOCATOR_DATA_DIR": str(data),
        "ALLOCATOR_DATABASE_URL": "",
        "ALLOCATOR_SOLVE_WORKERS": str(workers),
        "ALLOCATOR_MAX_RUNNING_JOBS_PER_KEY": "" if cap is None else str(cap),
        "ALLOCATOR_QUEUE_REFUSAL_MEMORY_S": str(refusal_memory_s),
        "ALLOCATOR_QUEUE_REFUSAL_DELAY_S": str(refusal_delay_s),
        "PYTHONPATH": str(ROOT),
    }
    if cap is None:
        env.pop("ALLOCATOR_MAX_RUNNING_JOBS_PER_KEY")
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app"]
    command += ["--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(
        [*command, "--host", HOST, "--port", str(port)],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    os.killpg(server.pid, signal.SIGKILL)
    raise SystemExit("the server did not start")


async def _timed(
    client: httpx.AsyncClient, tally: TenantB, method: str, url: str, **kw: Any
) -> httpx.Response:
    started = time.perf_counter()
    response = await client.request(method, url, **kw)
    tally.request_s.append(time.perf_counter() - started)
    return response


async def _b_solve(client: httpx.AsyncClient, tally: TenantB, scenario: str) -> None:
    started = time.perf_counter()
    solved = await _timed(client, tally, "POST", f"{API}/scenarios/{scenario}/versions/1/solve")
    if solved.status_code not in (200, 202):
        tally.errors.append(f"solve {solved.status_code}: {solved.text[:200]}")
        return
    job = solved.json()["job"]
    while job["state"] in ("queued", "running"):
        await asyncio.sleep(0.05)
        job = (await _timed(client, tally, "GET", f"{API}/jobs/{job['id']}")).json()
    if job["state"] != "succeeded":
        tally.errors.append(f"job {job['id']} {job['state']}: {job['error']}")
        return
    result = await _timed(client, tally, "GET", f"{API}/results/{job['result_id']}")
    if result.status_code != 200:
        tally.errors.append(f"result {result.status_code}")
        return
    tally.result_s.append(time.perf_counter() - started)
    tally.solves += 1


async def _tenant_b(
    base: str, token: str, doc: dict[str, Any], until: float, rate: float
) -> TenantB:
    tally = TenantB()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
        made = await _timed(client, tally, "POST", f"{API}/scenarios", json=doc)
        if made.status_code != 201:
            raise SystemExit(f"tenant B could not submit its scenario: {made.text[:300]}")
        scenario = made.json()["id"]
        tasks = []
        while time.monotonic() < until:
            tasks.append(asyncio.create_task(_b_solve(client, tally, scenario)))
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*tasks)
    return tally


async def _flooder(client: httpx.AsyncClient, tally: TenantA, scenario: str, until: float) -> None:
    while time.monotonic() < until:
        tally.sent += 1
        answer = await client.post(
            f"{API}/scenarios/{scenario}/versions/1/solve", json={"mode": "job"}
        )
        if answer.status_code == 202:
            tally.accepted += 1
        elif answer.status_code == 429:
            tally.refused_429 += 1
            tally.retry_after += "retry-after" in answer.headers
            await asyncio.sleep(0.05)  # a flood, not a busy loop on the client's own core
        else:
            key = str(answer.status_code)
            tally.other[key] = tally.other.get(key, 0) + 1


async def _one_at_a_time(
    client: httpx.AsyncClient, tally: TenantA, scenario: str, until: float
) -> None:
    """Tenant A's permitted use: one solve of its region at a time, each waited for."""
    while time.monotonic() < until:
        tally.sent += 1
        answer = await client.post(
            f"{API}/scenarios/{scenario}/versions/1/solve", json={"mode": "job"}
        )
        if answer.status_code != 202:
            key = str(answer.status_code)
            tally.other[key] = tally.other.get(key, 0) + 1
            await asyncio.sleep(0.5)
            continue
        tally.accepted += 1
        job = answer.json()["job"]
        while job["state"] in ("queued", "running") and time.monotonic() < until:
            await asyncio.sleep(0.2)
            job = (await client.get(f"{API}/jobs/{job['id']}")).json()


async def _flood(base: str, token: str, scenario: str, duration: float, flooders: int) -> TenantA:
    flooding = TenantA()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as a:
        until = time.monotonic() + duration
        if flooders == 0:  # not a flood: one solve at a time
            await _one_at_a_time(a, flooding, scenario, until)
        else:
            await asyncio.gather(*(_flooder(a, flooding, scenario, until) for _ in range(flooders)))
    return flooding


def _flood_process(
    base: str, token: str, scenario: str, duration: float, flooders: int
) -> dict[str, Any]:
    """Tenant A in its own process, as another tenant's client would be: its requests never
    queue on tenant B's event loop, only on the server."""
    return vars(asyncio.run(_flood(base, token, scenario, duration, flooders)))


async def _phase(
    base: str,
    tokens: dict[str, str],
    docs: tuple[dict[str, Any], dict[str, Any]],
    args: Any,
    mode: str,
) -> dict[str, Any]:
    region, tiny = docs
    flooding: Future[dict[str, Any]] | None = None
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        if mode != "baseline":
            headers = {"Authorization": f"Bearer {tokens['A']}"}
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as a:
                made = await a.post(f"{API}/scenarios", json=region)
            if made.status_code != 201:
                raise SystemExit(f"tenant A could not submit its region: {made.text[:300]}")
            scenario = made.json()["id"]
            flood_s = args.duration + 1.0
            flooding = pool.submit(
                _flood_process,
                base,
                tokens["A"],
                scenario,
                flood_s,
                0 if mode == "busy" else args.flooders,
            )
            await asyncio.sleep(1.0)  # A's queue fills first
        started = time.monotonic()
        tenant_b = await _tenant_b(base, tokens["B"], tiny, started + args.duration, args.rate)
        a_tally: dict[str, Any] | None = None
        if flooding is not None:
            a_tally = await asyncio.wrap_future(flooding)
    return {
        "b": {
            "solves": tenant_b.solves,
            "errors": tenant_b.errors[:10],
            "submit_to_result": _percentiles(tenant_b.result_s),
            "api_requests": _percentiles(tenant_b.request_s),
        },
        "a": a_tally,
    }


def _run_server(
    args: Any,
    docs: tuple[dict[str, Any], dict[str, Any]],
    cap: int | None,
    phases: list[str],
    refusal_memory_s: float = REFUSAL_MEMORY_S,
    refusal_delay_s: float = REFUSAL_DELAY_S,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="allocator-flood-") as folder:
        data = Path(folder)
        url = f"sqlite:///{data / 'allocator.db'}"
        env = {**os.environ, "ALLOCATOR_DATA_DIR": str(data), "ALLOCATOR_DATABASE_URL": ""}
        # The first key's command migrates the new database.
        systems = [s["system_id"] for s in docs[0]["systems"]]
        tokens = {"A": _key(url, env, "flood-a", systems)}
        tokens["B"] = _key(url, env, "steady-b", [s["system_id"] for s in docs[1]["systems"]])
        server, base = _start(data, args.solve_workers, cap, refusal_memory_s, refusal_delay_s)
        try:
            warm = asyncio.run(_tenant_b(base, tokens["B"], docs[1], time.monotonic() + 1, 4))
            if warm.errors:
                raise SystemExit(f"warm-up failed: {warm.errors[:3]}")
            return {name: asyncio.run(_phase(base, tokens, docs, args, name)) for name in phases}
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)


def _ratio(phase: dict[str, Any], baseline: dict[str, Any]) -> float | None:
    p99 = phase["b"]["submit_to_result"]["p99_ms"]
    base = baseline["b"]["submit_to_result"]["p99_ms"]
    return round(p99 / base, 2) if p99 and base else None


def _table(report: dict[str, Any]) -> str:
    lines = [
        f"Tenant B: a tiny solve every {1 / report['rate']:g} s for {report['duration_s']:g} s "
        f"per phase; {report['solve_workers']} solver processes; machine load before: "
        f"{report['load_before']}",
        "",
        "| phase | B solves | B submit-to-result p50 / p99 ms | B API p50 / p99 ms | B p99 ÷ "
        "baseline | B p99 ÷ busy | A sent | A 429 (with Retry-After) | A accepted |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, phase in report["phases"].items():
        b, a = phase["b"], phase["a"] or {}
        lines.append(
            f"| {name} | {b['solves']} | {b['submit_to_result']['p50_ms']} / "
            f"{b['submit_to_result']['p99_ms']} | {b['api_requests']['p50_ms']} / "
            f"{b['api_requests']['p99_ms']} | {phase.get('p99_ratio') or '1'} | "
            f"{phase.get('p99_ratio_to_busy') or '-'} | "
            f"{a.get('sent', '-')} | {a.get('refused_429', '-')} ({a.get('retry_after', '-')}) | "
            f"{a.get('accepted', '-')} |"
        )
    lines.append("")
    lines.append(
        f"B's p99 holds (≤ {HOLD_RATIO:g}× baseline) under the capped flood: "
        f"{report['b_p99_holds']}; against A solving one region at a time: "
        f"{report['b_p99_holds_against_busy']}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short phases, no uncapped run")
    parser.add_argument(
        "--duration", type=float, default=40.0, help="seconds per phase (80 of B's solves)"
    )
    parser.add_argument("--rate", type=float, default=2.0, help="tenant B's solves per second")
    parser.add_argument("--flooders", type=int, default=4, help="tenant A's concurrent loops")
    parser.add_argument("--solve-workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "flood.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 6.0)
    docs = _documents()
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    phases = _run_server(args, docs, 1, ["baseline", "busy", "flood"])
    if not args.quick:
        phases["flood-unheld"] = _run_server(args, docs, 1, ["flood"], refusal_delay_s=0.0)["flood"]
        phases["flood-counting"] = _run_server(args, docs, 1, ["flood"], refusal_memory_s=0.0)[
            "flood"
        ]
        phases["flood-uncapped"] = _run_server(args, docs, None, ["flood"])["flood"]
    for name, phase in phases.items():
        if name != "baseline":
            phase["p99_ratio"] = _ratio(phase, phases["baseline"])
            phase["p99_ratio_to_busy"] = _ratio(phase, phases["busy"])
    ratio = phases["flood"].get("p99_ratio")
    flood_cost = phases["flood"].get("p99_ratio_to_busy")
    report = {
        "quick": args.quick,
        "duration_s": args.duration,
        "rate": args.rate,
        "flooders": args.flooders,
        "solve_workers": args.solve_workers,
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "hold_ratio": HOLD_RATIO,
        "b_p99_holds": ratio is not None and ratio <= HOLD_RATIO,
        "b_p99_holds_against_busy": flood_cost is not None and flood_cost <= HOLD_RATIO,
        "phases": phases,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(_table(report))
    # (Without the cap B's backlog can reach its own queue limit: its 429s are the finding.)
    errors = [e for name in ("baseline", "busy", "flood") for e in phases[name]["b"]["errors"]]
    if errors:
        print(f"tenant B errors: {errors[:5]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
