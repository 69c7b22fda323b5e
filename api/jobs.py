"""Solve jobs and batches: persistent queues in the database, run in killable worker processes.

Every solve is a job row. A server's `JobRunner` keeps its own submissions in an in-memory
queue, round-robin between API keys (`api.fair_queue`), and runs at most ``solve_workers`` at
once, each worker coroutine owning one solver process (`api.worker.SolverProcess`) that it
reuses from job to job. Cancelling or timing out a job kills that one process; the next job
gets a fresh one. (A shared ``ProcessPoolExecutor`` was rejected: killing one of its workers
breaks the whole pool and fails every other running job.) The event loop only waits on pipes,
in threads. States: queued → running → succeeded | failed | cancelled; ``succeeded`` means a
result was stored, whatever its status.

Batches (`api.batches`) run the same way on their own ``batch_workers`` processes (so a long
batch never holds up a solve), with the same states, cancelling, wall-clock limit and recovery;
while one runs, its finished runs are stored every `HARVEST_S` seconds.

Recovery: each runner writes a heartbeat row every ``heartbeat_s``. At start and then on every
heartbeat, a runner marks failed ("interrupted by server restart") the active jobs and batches
of runners silent for three heartbeats; on a clean shutdown a runner fails its own active jobs
and batches ("interrupted by server shutdown") and removes its row. Jobs are not re-queued: a
planner resubmits. A failed batch keeps its finished runs and can be resumed.

Database faults: a solve or batch whose outcome could not be stored (the database was
read-only, full or restarting) is kept in memory (a batch also keeps its folder of run records)
and stored again on every monitor pass until it sticks. Every heartbeat also fails ("lost:
...") this server's own queued or running rows that no worker holds any more (their claim or
final state could not be written), so nothing stays in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing.forkserver
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from api.batches import HARVEST_S, BatchWork
from api.errors import NotReady
from api.fair_queue import FairQueue
from api.job_ledger import (
    beat_and_recover,
    claim_job,
    fail_dead_local_runners,
    shutdown_rows,
    store_success,
)
from api.metrics import Gauge, Metrics
from api.quotas import RefusalMemory
from api.settings import Settings
from api.storage import batch_rows, job_rows
from api.storage.db import Database
from api.worker import SolverProcess, forkserver_context

log = logging.getLogger("api.jobs")

JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")


@dataclass(slots=True)
class _Active:
    job_id: str  # or a batch id
    done: asyncio.Event = field(default_factory=asyncio.Event)
    slot: SolverProcess | None = None
    cancelled: bool = False
    timed_out: bool = False
    taken: bool = False  # a worker has it (a resumed batch may be queued twice)


class JobRunner:
    """Runs this server's solve jobs; see the module docstring for the lifecycle."""

    def __init__(self, *, database: Database, settings: Settings, metrics: Metrics) -> None:
        self.database = database
        self.settings = settings
        self.metrics = metrics
        self.runner_id = f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._queue = FairQueue(settings.max_running_jobs_per_key)
        self._batch_queue = FairQueue()
        self.refusals = RefusalMemory.of(settings)
        self.batches = BatchWork(database=database, settings=settings)
        # CPU work done in the server's own threads (risk reports): at most this many at once.
        self.compute_slots = asyncio.Semaphore(settings.solve_workers)
        self._active: dict[str, _Active] = {}
        # Finished solves and batches whose outcome could not be stored yet: how to store it.
        self._unrecorded: dict[str, Callable[[], object]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._warm: asyncio.Task[None] | None = None
        self._running = False
        # One thread per solver process waits on its pipe, apart from the loop's default
        # executor, so database work and heartbeats never queue behind long solves.
        self._waiters = ThreadPoolExecutor(
            settings.solve_workers + settings.batch_workers, thread_name_prefix="solver-pipe"
        )
        self._slots = [
            SolverProcess(forkserver_context(), settings.solve_target, f"allocator-solver-{i}")
            for i in range(settings.solve_workers)
        ]
        self._batch_slots = [
            SolverProcess(forkserver_context(), settings.batch_target, f"allocator-batch-{i}")
            for i in range(settings.batch_workers)
        ]
        for name, what, count in (
            ("allocator_jobs", "Solve jobs", job_rows.job_counts),
            ("allocator_batches", "Batches", batch_rows.batch_counts),
        ):
            metrics.add_gauge(Gauge(name, f"{what} by state.", partial(self._counts, count)))

    # ------------------------------------------------------------------ lifecycle

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=3 * self.settings.heartbeat_s)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(fail_dead_local_runners, self.database)
        await asyncio.to_thread(self._beat)
        # Start the forkserver (it imports the solver stack once) and the solver processes,
        # without delaying startup.
        self._warm = asyncio.create_task(asyncio.to_thread(self._prestart))
        self._tasks = [
            asyncio.create_task(
                self._work(slot, self._queue, self._run, self._finish), name=f"solve-worker-{i}"
            )
            for i, slot in enumerate(self._slots)
        ]
        self._tasks += [
            asyncio.create_task(
                self._work(slot, self._batch_queue, self._run_batch, self.batches.finish),
                name=f"batch-worker-{i}",
            )
            for i, slot in enumerate(self._batch_slots)
        ]
        self._tasks.append(asyncio.create_task(self._monitor(), name="job-monitor"))
        self._running = True

    async def stop(self) -> None:
        """Stop taking work, kill running solves, fail this server's active jobs."""
        self._running = False
        ids = list(self._active)
        for task in self._tasks:
            task.cancel()
        for slot in self._all_slots:
            slot.kill()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._warm is not None:
            with contextlib.suppress(Exception):
                await self._warm
        await asyncio.to_thread(shutdown_rows, self.database, self.runner_id, ids)
        for slot in self._all_slots:
            await asyncio.to_thread(slot.close)
        self._waiters.shutdown(wait=False, cancel_futures=True)
        for active in self._active.values():
            active.done.set()
        self._active.clear()

    @property
    def _all_slots(self) -> list[SolverProcess]:
        return self._slots + self._batch_slots

    def _prestart(self) -> None:
        multiprocessing.forkserver.ensure_running()
        if self.settings.prestart_solvers:
            for slot in self._all_slots:
                slot.start()

    def _beat(self, held: frozenset[str] = frozenset()) -> None:
        beat_and_recover(
            self.database, self.runner_id, self.settings.heartbeat_s, self.stale_after, held
        )

    def _held(self) -> frozenset[str]:
        """Ids this server still holds (on the loop: a consistent snapshot)."""
        return frozenset(self._active) | frozenset(self._unrecorded)

    async def _monitor(self) -> None:
        """Heartbeat, recover other servers' orphans, and honour cancels made elsewhere."""
        last_beat = time.monotonic()
        interval = min(1.0, self.settings.heartbeat_s)
        while True:
            await asyncio.sleep(interval)
            try:
                for job_id, pending in list(self._unrecorded.items()):
                    await asyncio.to_thread(pending)  # raises while the database is still down
                    del self._unrecorded[job_id]
                if time.monotonic() - last_beat >= self.settings.heartbeat_s:
                    await asyncio.to_thread(self._beat, self._held())
                    last_beat = time.monotonic()
                if self._active:
                    wanted = await asyncio.to_thread(self._cancel_requested, list(self._active))
                    for job_id in wanted:
                        self.cancel_local(job_id)
            except Exception:
                log.exception("job monitor pass failed; retrying")

    def _cancel_requested(self, ids: list[str]) -> list[str]:
        with self.database.transaction(write=False) as session:
            return job_rows.cancel_requested(session, job_ids=ids) + batch_rows.cancel_requested(
                session, batch_ids=ids
            )

    def _counts(self, count: Callable[[Any], dict[str, int]]) -> list[Any]:
        with self.database.transaction(write=False) as session:
            counts = count(session)
        return [((("state", state),), float(counts.get(state, 0))) for state in JOB_STATES]

    # ------------------------------------------------------------------ submitting

    def submit(self, job_id: str, owner: str = "") -> None:
        """Queue a committed job row (of the key ``owner``) for this server's workers."""
        if not self._running:
            raise NotReady("the server is shutting down and takes no new solves")
        self._active[job_id] = _Active(job_id)
        self._queue.put_nowait(job_id, owner)

    def submit_batch(self, batch_id: str, owner: str = "") -> None:
        """Queue a committed (queued) batch row for this server's batch workers."""
        if not self._running:
            raise NotReady("the server is shutting down and takes no new batches")
        self._active[batch_id] = _Active(batch_id)
        self._batch_queue.put_nowait(batch_id, owner)

    async def wait(self, job_id: str, timeout_s: float) -> bool:
        """Whether the job finished within ``timeout_s`` (False also if it is not ours)."""
        active = self._active.get(job_id)
        if active is None:
            return False
        try:
            await asyncio.wait_for(asyncio.shield(active.done.wait()), timeout_s)
        except TimeoutError:
            return False
        return True

    def cancel_local(self, job_id: str) -> bool:
        """Cancel a job or batch this server holds: kill its process if it is running."""
        active = self._active.get(job_id)
        if active is None:
            return False
        active.cancelled = True
        if active.slot is not None:
            active.slot.kill()
        return True

    def cancel_threadsafe(self, job_id: str) -> None:
        """`cancel_local` from a request thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.cancel_local, job_id)

    def pid_of(self, job_id: str) -> int | None:
        """The process id of a running job or batch (for operators and fault tests)."""
        active = self._active.get(job_id)
        return active.slot.pid if active is not None and active.slot is not None else None

    # ------------------------------------------------------------------ running

    async def _work(
        self,
        slot: SolverProcess,
        queue: FairQueue,
        run: Callable[[_Active, SolverProcess], Awaitable[None]],
        fail: Callable[[str, str, str | None], None],
    ) -> None:
        """One worker: take the queue's jobs (or batches) one at a time, run each on ``slot``."""
        while True:
            job_id = await queue.get()
            active = self._active.get(job_id)
            if active is None or active.taken:
                queue.task_done(job_id)
                continue
            active.taken = True
            try:
                await run(active, slot)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job %s could not be run", job_id)
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(
                        fail, job_id, "failed", "internal error running the job"
                    )
            finally:
                queue.task_done(job_id)
                self.refusals.clear()  # a queue has room again
                active.done.set()
                if self._active.get(job_id) is active:  # not replaced by a resume
                    del self._active[job_id]

    async def _run(self, active: _Active, slot: SolverProcess) -> None:
        payload = await asyncio.to_thread(claim_job, self.database, active.job_id, active.cancelled)
        if payload is None:
            return
        started = time.perf_counter()
        active.slot = slot
        loop = asyncio.get_running_loop()
        progress = job_rows.progress_recorder(self.database, active.job_id)
        solving = loop.run_in_executor(self._waiters, slot.run, payload, progress)
        try:
            if active.cancelled:  # cancelled between claiming and starting
                slot.kill()
            done, _ = await asyncio.wait({solving}, timeout=self.settings.job_wall_clock_s)
            if not done:
                active.timed_out = True
                slot.kill()
            message, exitcode = await solving
        except asyncio.CancelledError:
            slot.kill()
            raise
        finally:
            active.slot = None
        elapsed = time.perf_counter() - started
        try:
            outcome = await asyncio.to_thread(self._record, active, message, exitcode)
        except Exception:
            log.exception("job %s: its outcome could not be stored; retrying", active.job_id)
            self._unrecorded[active.job_id] = partial(self._record, active, message, exitcode)
            return
        self.metrics.solve_duration.observe(elapsed, outcome=outcome)

    def _record(self, active: _Active, message: Any, exitcode: int | None) -> str:
        """Store what the process produced; returns the job's final state."""
        job_id = active.job_id
        if isinstance(message, tuple) and message and message[0] == "ok":
            _, summary, document = message
            return store_success(self.database, job_id, summary, document)
        if active.cancelled:
            self._finish(job_id, "cancelled", None)
            return "cancelled"
        if active.timed_out:
            reason = f"killed after the {self.settings.job_wall_clock_s:g} s wall-clock limit"
        elif isinstance(message, tuple) and message and message[0] == "error":
            reason = str(message[1])
            log.error("job %s failed: %s\n%s", job_id, reason, message[2])
        else:
            reason = f"the solver process died (exit code {exitcode})"
        self._finish(job_id, "failed", reason)
        return "failed"

    def _finish(self, job_id: str, state: str, error: str | None) -> None:
        with self.database.transaction() as session:
            job_rows.finish_jobs(session, job_ids=[job_id], state=state, error=error)

    # ------------------------------------------------------------------ batches

    async def _run_batch(self, active: _Active, slot: SolverProcess) -> None:
        """Run a batch's worker process, storing its records as they appear."""
        execution = await asyncio.to_thread(self.batches.claim, active.job_id, active.cancelled)
        if execution is None:
            return
        active.slot = slot
        loop = asyncio.get_running_loop()
        running = loop.run_in_executor(self._waiters, slot.run, execution.payload)
        deadline = time.monotonic() + self.settings.batch_wall_clock_s
        try:
            if active.cancelled:  # cancelled between claiming and starting
                slot.kill()
            while True:
                done, _ = await asyncio.wait({running}, timeout=HARVEST_S)
                try:
                    await asyncio.to_thread(self.batches.harvest, execution)
                except Exception:  # the database is busy or away: the next pass catches up
                    log.exception("batch %s: storing finished runs failed", active.job_id)
                if done:
                    break
                if time.monotonic() > deadline and not active.timed_out:
                    active.timed_out = True
                    slot.kill()
            message, exitcode = await running
        except BaseException:  # shutting down (or broken): stop it, keep what finished
            slot.kill()
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.batches.keep, execution)
            raise
        finally:
            active.slot = None
        record = partial(
            self.batches.record,
            execution,
            message,
            exitcode,
            cancelled=active.cancelled,
            timed_out=active.timed_out,
        )
        try:
            await asyncio.to_thread(record)
        except Exception:  # kept, with its folder, until the database takes it
            log.exception("batch %s: its outcome could not be stored; retrying", active.job_id)
            self._unrecorded[active.job_id] = record
