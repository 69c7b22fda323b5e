"""Solver processes: a scenario document in, a result document out (or a batch run).

Each solver process serves one job at a time over a pipe (`serve`), for as many jobs as
it is given; the job runner kills it to cancel or time out a job and starts a new one for
the next (`SolverProcess`). Processes are started from a forkserver that has already
imported the solver stack, so a replacement starts quickly. The solve function is
configurable (``Settings.solve_target``, default `solve_document`); batch processes run
``Settings.batch_target`` (default `run_batch_document`) the same way.

Replies are ``("ok", summary, result_json)`` or ``("error", "Kind: message", traceback)``;
the parent records the message on the job and logs the traceback. Before its reply a solve
may send ``("progress", phase, share done)`` messages (`report`), one per solver stage as
it finishes, which the parent records on the job.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Any

from api.orphans import die_with_parent, watch_server

PRELOAD = ("api.worker", "allocator.pipeline", "allocator.batch", "allocator.io.json_io", "models")
# Solver processes run at a lower CPU priority than the server, so a machine busy solving
# still answers requests promptly.
NICENESS = 5
MAX_JOBS_PER_PROCESS = 200

SolveFunction = Callable[[dict[str, Any]], tuple[dict[str, Any], str]]
Progress = Callable[[str, float], None]

_connection: Connection | None = None  # this process's pipe to the server, set by `serve`


def report(phase: str, progress: float) -> None:
    """Tell the server how the job in hand is going (nothing outside a solver process)."""
    if _connection is not None:
        with contextlib.suppress(OSError):
            _connection.send(("progress", phase, progress))


def solve_document(
    payload: dict[str, Any], *, after_stage: Callable[[], None] | None = None
) -> tuple[dict[str, Any], str]:
    """Solve the scenario JSON in ``payload``; returns (summary fields, result JSON).

    Each solver stage is reported as it finishes (then ``after_stage`` is called)."""
    from allocator.pipeline import solve_scenario
    from allocator.stages.sequence import STAGE_DESCRIPTIONS
    from allocator.types import Stage
    from models import Scenario

    def stage_done(done: int, total: int, stage: Stage) -> None:
        what = STAGE_DESCRIPTIONS[stage][0]
        report(f"stage {done} of {total} solved: {what}"[:64], 0.1 + 0.8 * done / total)
        if after_stage is not None:
            after_stage()

    scenario = Scenario.model_validate_json(payload["document"])
    result = solve_scenario(
        scenario,
        backend=payload.get("backend"),
        time_limit_s=payload.get("time_limit_s"),
        on_stage=stage_done,
    )
    summary = {
        "status": result.status,
        "feasible": result.feasible,
        "backend": result.backend,
        "scenario_hash": result.scenario_hash,
    }
    return summary, result.model_dump_json()


def run_batch_document(
    payload: dict[str, Any], *, progress: Callable[[int, int], None] | None = None
) -> tuple[dict[str, Any], str]:
    """Run the batch in ``payload`` in this process, recording runs in its ``store_dir``.

    The spec carries its base scenario inline. Runs already recorded in the folder are
    skipped (`allocator.batch.run_batch` is resumable); the server reads the records as
    they appear, so the reply is only a summary.
    """
    from allocator.batch import BatchSpec, run_batch

    spec = BatchSpec.model_validate_json(payload["spec"])
    summary = run_batch(
        spec, workers=1, store_dir=payload["store_dir"], progress=progress, excel=False
    )
    return {
        "total": summary.total,
        "skipped": summary.skipped,
        "solved": summary.solved,
        "complete": summary.complete,
        "statuses": summary.statuses,
        "elapsed_s": summary.elapsed_s,
    }, ""


def load_target(target: str) -> SolveFunction:
    module_name, _, attribute = target.partition(":")
    function = getattr(importlib.import_module(module_name), attribute or "solve_document")
    if not callable(function):
        raise TypeError(f"{target} is not callable")
    return function  # type: ignore[no-any-return]


def _solve_one(function: SolveFunction, payload: dict[str, Any]) -> tuple[Any, ...]:
    try:
        summary, document = function(payload)
    except Exception as exc:  # reported to the parent, which records it on the job
        detail = getattr(exc, "detail", None) or str(exc)
        return ("error", f"{type(exc).__name__}: {detail}", traceback.format_exc())
    return ("ok", summary, document)


def serve(connection: Connection, target: str, server_pid: int | None = None) -> None:
    """Process entry point: answer one solve request after another until told to stop.

    Exits (with the forkserver) when the server ``server_pid`` is gone (`api.orphans`).
    """
    global _connection
    _connection = connection
    die_with_parent()
    if server_pid is not None:
        watch_server(server_pid)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    function: SolveFunction | None = None
    while True:
        try:
            payload = connection.recv()
        except (EOFError, OSError):
            return
        if payload is None:
            return
        if function is None:
            try:
                function = load_target(target)
            except Exception as exc:
                connection.send(("error", f"cannot load {target}: {exc}", traceback.format_exc()))
                continue
        connection.send(_solve_one(function, payload))


def forkserver_context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context


class SolverProcess:
    """One solver process, started when first needed and replaced after it dies.

    `run` blocks (call it from a thread); `kill` may be called from any thread.
    """

    def __init__(self, context: ForkServerContext, target: str, name: str) -> None:
        self.context, self.target, self.name = context, target, name
        self.process: BaseProcess | None = None
        self.connection: Connection | None = None
        self.jobs = 0
        self._lock = threading.RLock()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        """Start the process now (otherwise the first job starts it)."""
        self._start()

    def _start(self) -> Connection:
        with self._lock:
            return self._start_locked()

    def _start_locked(self) -> Connection:
        if self.process is not None and self.process.is_alive() and self.connection is not None:
            if self.jobs < MAX_JOBS_PER_PROCESS:
                return self.connection
            self.close()
        parent, child = self.context.Pipe(duplex=True)
        process = self.context.Process(
            target=serve, args=(child, self.target, os.getpid()), name=self.name, daemon=True
        )
        process.start()
        child.close()
        self.process, self.connection, self.jobs = process, parent, 0
        return parent

    def run(
        self, payload: dict[str, Any], on_progress: Progress | None = None
    ) -> tuple[Any, int | None]:
        """Send one job and wait for the reply: (reply or None if the process died, exit code).

        Progress messages before the reply go to ``on_progress``."""
        connection = self._start()
        self.jobs += 1
        try:
            connection.send(payload)
            while True:
                message = connection.recv()
                if not (isinstance(message, tuple) and message and message[0] == "progress"):
                    return message, None
                if on_progress is not None:
                    on_progress(str(message[1]), float(message[2]))
        except (EOFError, OSError):
            return None, self._reap()

    def _take(self) -> tuple[BaseProcess | None, Connection | None]:
        """The process and its pipe, handed to one caller only: a shutdown (`close`) and a
        job whose process died (`_reap`) can end them at once, and a pipe closed twice may
        close a descriptor the process has since opened for something else."""
        with self._lock:
            taken = self.process, self.connection
            self.process, self.connection = None, None
            return taken

    def _reap(self) -> int | None:
        process, connection = self._take()
        if connection is not None:
            connection.close()
        if process is None:
            return None
        process.join(timeout=10)
        return process.exitcode

    def kill(self) -> None:
        process = self.process
        if process is not None and process.is_alive():
            process.kill()

    def close(self) -> None:
        """Ask the process to exit, then make sure it has."""
        process, connection = self._take()
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.send(None)
            connection.close()
        if process is not None:
            process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join(timeout=2)
