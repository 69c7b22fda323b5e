"""Load on the HTTP API: concurrent clients submitting and solving while /health is polled.

``python -m benchmarks.load_api [--clients 6] [--duration 30] [--solve-workers 2] [--out PATH]``

Starts the real server (uvicorn with the app factory, in a subprocess, on 127.0.0.1 and a
free port, SQLite in a temporary folder), creates an API key with the CLI, then runs
``--clients`` concurrent httpx clients for ``--duration`` seconds (or ``--rounds`` each):
every round submits the realistic example (``data/realistic/realistic.json``; the tiny one
if it is missing), solves it (synchronously when the server answers 200, else polling the
job) and fetches the result. Meanwhile a separate client polls ``/health`` every 50 ms:
solves run in worker processes, so its latency must stay low. Checks that no request was
lost (every request answered, every solve ended with a stored result, and the server's own
request counters agree), prints a markdown table and writes JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


@dataclass
class Tally:
    submit_s: list[float] = field(default_factory=list)
    solve_s: list[float] = field(default_factory=list)
    fetch_s: list[float] = field(default_factory=list)
    health_s: list[float] = field(default_factory=list)
    warmup_rounds: int = 0
    sync_solves: int = 0
    job_solves: int = 0
    sent: int = 0
    answered: int = 0
    errors: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _scenario() -> tuple[str, dict[str, Any]]:
    for name in ("realistic/realistic.json", "tiny/tiny.json"):
        path = ROOT / "data" / name
        if path.exists():
            return name, json.loads(path.read_text())
    raise SystemExit("no example scenario in data/")


def _percentiles(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else []

    def pick(p: int) -> float:
        return (cuts[p - 1] if cuts else ordered[0]) * 1000

    return {
        "n": len(ordered),
        "p50_ms": round(pick(50), 2),
        "p95_ms": round(pick(95), 2),
        "p99_ms": round(pick(99), 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def _request(
    client: httpx.AsyncClient, tally: Tally, method: str, url: str, **kw: Any
) -> httpx.Response:
    tally.sent += 1
    response = await client.request(method, url, **kw)
    tally.answered += 1
    return response


async def _round(client: httpx.AsyncClient, tally: Tally, doc: dict[str, Any], n: int) -> None:
    started = time.perf_counter()
    created = await _request(
        client, tally, "POST", "/api/v1/scenarios", json={**doc, "name": f"load {n}"}
    )
    tally.submit_s.append(time.perf_counter() - started)
    if created.status_code != 201:
        tally.errors.append(f"submit {created.status_code}: {created.text[:200]}")
        return
    scenario_id = created.json()["id"]
    started = time.perf_counter()
    solved = await _request(
        client, tally, "POST", f"/api/v1/scenarios/{scenario_id}/versions/1/solve"
    )
    if solved.status_code not in (200, 202):
        tally.errors.append(f"solve {solved.status_code}: {solved.text[:200]}")
        return
    job = solved.json()["job"]
    if solved.status_code == 200:
        tally.sync_solves += 1
    else:
        tally.job_solves += 1
        while job["state"] in ("queued", "running"):
            await asyncio.sleep(0.1)
            job = (await _request(client, tally, "GET", f"/api/v1/jobs/{job['id']}")).json()
    tally.solve_s.append(time.perf_counter() - started)
    if job["state"] != "succeeded":
        tally.errors.append(f"job {job['id']} {job['state']}: {job.get('error')}")
        return
    started = time.perf_counter()
    result = await _request(client, tally, "GET", f"/api/v1/results/{job['result_id']}")
    tally.fetch_s.append(time.perf_counter() - started)
    if result.status_code != 200 or not result.json()["feasible"]:
        tally.errors.append(f"result {job['result_id']}: {result.status_code}")


async def _client(
    base: str,
    token: str,
    tally: Tally,
    doc: dict[str, Any],
    stop: float,
    rounds: int | None,
    number: int,
) -> int:
    done = 0
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300) as client:
        while (rounds is None and time.perf_counter() < stop) or (
            rounds is not None and done < rounds
        ):
            try:
                await _round(client, tally, doc, number * 100_000 + done)
            except httpx.HTTPError as error:
                tally.errors.append(f"transport: {type(error).__name__}: {error}")
            done += 1
    return done


def _poll_health(base: str, stop: Any, out: Any) -> None:
    """In its own process, so the load clients' work cannot delay the measurement."""
    latencies: list[float] = []
    failures = 0
    with httpx.Client(base_url=base, timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            if client.get("/health").status_code != 200:
                failures += 1
            latencies.append(time.perf_counter() - started)
            time.sleep(0.05)
    out.send((latencies, failures))


async def _load(
    base: str, token: str, args: argparse.Namespace, doc: dict[str, Any]
) -> tuple[Tally, float, int]:
    # Warm up (each solver process's first job starts it): one round per solver, not timed.
    warm = Tally()
    await asyncio.gather(
        *(_client(base, token, warm, doc, 0.0, 1, -1 - i) for i in range(args.solve_workers))
    )
    if warm.errors:
        raise SystemExit(f"warm-up failed: {warm.errors}")
    tally = Tally()
    tally.warmup_rounds = args.solve_workers
    context = multiprocessing.get_context("spawn")
    halt = context.Event()
    receiver, sender = context.Pipe(duplex=False)
    poller = context.Process(target=_poll_health, args=(base, halt, sender), daemon=True)
    poller.start()
    started = time.perf_counter()
    stop = started + args.duration
    rounds = args.rounds
    counts = await asyncio.gather(
        *(_client(base, token, tally, doc, stop, rounds, i) for i in range(args.clients))
    )
    elapsed = time.perf_counter() - started
    halt.set()
    latencies, failures = receiver.recv()
    poller.join(timeout=10)
    tally.health_s.extend(latencies)
    if failures:
        tally.errors.append(f"/health failed {failures} time(s)")
    return tally, elapsed, sum(counts)


def _start_server(
    data_dir: Path, port: int, solve_workers: int, metrics_token: str
) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "ALLOCATOR_DATA_DIR": str(data_dir),
        "ALLOCATOR_SOLVE_WORKERS": str(solve_workers),
        "ALLOCATOR_DATABASE_URL": "",
        "ALLOCATOR_METRICS_TOKEN": metrics_token,  # metrics are for operators, not tenants
    }
    url = f"sqlite:///{data_dir / 'allocator.db'}"
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.app",
            "keys",
            "create",
            "--role",
            "plan",
            "--system",
            "TRI",
            "--system",
            "S1",
            "--name",
            "load",
            "--database-url",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    )
    token = created.stdout.strip().splitlines()[-1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.app:create_app",
            "--host",
            HOST,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(
                    f"http://{HOST}:{port}/ready",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=2,
                ).status_code
                == 200
            ):
                return server, token
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    os.killpg(server.pid, signal.SIGKILL)
    raise SystemExit("the server did not start")


def _server_counts(base: str, metrics_token: str) -> dict[str, float]:
    answer = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
    if answer.status_code != 200:
        raise SystemExit(f"/metrics answered {answer.status_code}: {answer.text[:200]}")
    text = answer.text
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(("allocator_http_requests_total{", "allocator_jobs{")):
            labels, value = line.rsplit(" ", 1)
            counts[labels] = float(value)
    return counts


def _table(report: dict[str, Any]) -> str:
    rows = [
        "| measure | n | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ("submit", "solve", "fetch_result", "health_during_load"):
        stats = report["latency"][name]
        cells = [
            stats[k] if stats[k] is not None else "–"
            for k in ("n", "p50_ms", "p95_ms", "p99_ms", "max_ms")
        ]
        rows.append(f"| {name} | " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(
        [
            f"API load: {report['clients']} clients, {report['elapsed_s']:.1f} s, scenario "
            f"`{report['scenario']}` ({report['cells']} cells), {report['solve_workers']} solver processes",
            "",
            f"Rounds completed: {report['rounds']} (submit + solve + fetch); throughput "
            f"{report['solves_per_s']:.2f} solves/s, {report['requests_per_s']:.1f} requests/s; "
            f"sync {report['sync_solves']}, as jobs {report['job_solves']}; "
            f"requests sent {report['requests_sent']}, answered {report['requests_answered']}; "
            f"errors {len(report['errors'])}",
            "",
            *rows,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per client instead")
    parser.add_argument("--solve-workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "load_api.json")
    args = parser.parse_args(argv)

    name, doc = _scenario()
    cells = len(doc["providers"]) * len(doc["neighbourhoods"]) * len(doc["segments"])
    with tempfile.TemporaryDirectory(prefix="allocator-load-") as folder:
        port = _free_port()
        metrics_token = secrets.token_urlsafe(24)
        server, token = _start_server(Path(folder), port, args.solve_workers, metrics_token)
        base = f"http://{HOST}:{port}"
        try:
            tally, elapsed, rounds = asyncio.run(_load(base, token, args, doc))
            counts = _server_counts(base, metrics_token)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)

    submitted = counts.get(
        'allocator_http_requests_total{method="POST",route="/api/v1/scenarios",status="201"}', 0
    )
    succeeded = counts.get('allocator_jobs{state="succeeded"}', 0)
    if tally.sent != tally.answered:
        tally.errors.append(f"{tally.sent - tally.answered} request(s) unanswered")
    submitted -= tally.warmup_rounds
    succeeded -= tally.warmup_rounds
    if submitted != len(tally.submit_s):
        tally.errors.append(
            f"server counted {submitted:g} submits, clients made {len(tally.submit_s)}"
        )
    if succeeded != len(tally.solve_s):
        tally.errors.append(
            f"server stored {succeeded:g} results, clients saw {len(tally.solve_s)}"
        )
    report: dict[str, Any] = {
        "clients": args.clients,
        "solve_workers": args.solve_workers,
        "scenario": name,
        "cells": cells,
        "elapsed_s": round(elapsed, 3),
        "rounds": rounds,
        "solves_per_s": round(len(tally.solve_s) / elapsed, 3),
        "requests_per_s": round(tally.answered / elapsed, 2),
        "sync_solves": tally.sync_solves,
        "job_solves": tally.job_solves,
        "requests_sent": tally.sent,
        "requests_answered": tally.answered,
        "latency": {
            "submit": _percentiles(tally.submit_s),
            "solve": _percentiles(tally.solve_s),
            "fetch_result": _percentiles(tally.fetch_s),
            "health_during_load": _percentiles(tally.health_s),
        },
        "errors": tally.errors[:50],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    print(_table(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwritten to {args.out}", file=sys.stderr)
    return 1 if tally.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
