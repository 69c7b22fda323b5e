"""Run a batch: expand the spec, skip what is recorded, farm out blocks, write the tables.

`run_batch` is what the CLI (``allocator batch``) and the API call. It is resumable:
runs already recorded in ``store_dir`` are skipped, so re-running a spec after a crash,
a kill or a cancel solves only what is missing, and the final tables equal those of an
uninterrupted run. Runs are cut into contiguous blocks of ``options.chunk_size`` (the
same blocks whatever executes them, so results never depend on the number of workers);
at most two blocks per worker are in flight, which keeps a cancel prompt.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from allocator import __version__
from allocator.batch.executors import ChunkExecutor, Handle, make_executor
from allocator.batch.spec import BatchSpec, Run, expand_runs
from allocator.batch.store import RunFailure, RunRecord, RunStore
from allocator.batch.tables import build_tables, write_tables
from allocator.batch.worker import ChunkTask
from models import Scenario

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

POLL_S = 0.1
MAX_ATTEMPTS = 2  # a block whose worker died is retried run by run, then recorded as failed


@dataclass
class BatchSummary:
    """How a batch went. ``complete`` is True when every run of the spec is recorded."""

    name: str
    out_dir: Path
    total: int
    skipped: int  # already recorded before this call
    solved: int  # recorded by this call
    statuses: dict[str, int]
    cancelled: bool
    elapsed_s: float
    tables: dict[str, Path] = field(default_factory=dict)
    reuse: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.skipped + self.solved >= self.total

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "optimal")

    @property
    def runs_per_s(self) -> float:
        return self.solved / self.elapsed_s if self.elapsed_s > 0 else 0.0


def resolve_base(spec: BatchSpec, base_dir: Path | None = None) -> Scenario:
    """The spec's base scenario (loaded and validated when it is a path)."""
    if isinstance(spec.base, Scenario):
        from allocator.errors import ScenarioInvalid
        from allocator.validate import blocking, validate_scenario

        problems = blocking(validate_scenario(spec.base))
        if problems:
            raise ScenarioInvalid("the batch's base scenario is not valid", problems)
        return spec.base
    from allocator.io.load import load_scenario

    path = spec.base_path(base_dir)
    assert path is not None
    return load_scenario(path)


def run_batch(
    spec: BatchSpec,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    store_dir: str | Path,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    full_results: bool = False,
    base_dir: Path | None = None,
    retry_failed: bool = False,
    excel: bool = True,
) -> BatchSummary:
    """Run every unrecorded run of ``spec`` and write the tables to ``store_dir``.

    ``progress(done, total)`` is called as runs finish (``done`` counts runs recorded
    earlier too). Setting ``cancel`` stops the batch: runs in flight finish and are
    recorded, the rest stay for a later call. Ctrl-C does the same. Raises
    `ScenarioInvalid` when the base scenario is not valid.
    """
    started = time.perf_counter()
    base = resolve_base(spec, base_dir)
    runs = expand_runs(spec, base.content_hash())
    store = RunStore(store_dir).ensure()
    store.clear_cancel()
    store.write_manifest(_manifest(spec, base, runs))
    ids = {run.run_id for run in runs}
    recorded = store.load_many(sorted(ids & store.finished_ids()))
    todo = [r for r in runs if _needs_run(r, recorded, store, full_results, retry_failed)]
    todo = list({r.run_id: r for r in todo}.values())  # equal runs are solved once
    skipped = len(ids) - len(todo)
    cancelled, reuse = _execute(
        todo, spec, base, store, workers, scheduler, full_results, progress, cancel, len(ids)
    )
    records = store.load_many(sorted(ids))
    tables = write_tables(build_tables(runs, records), Path(store_dir), excel=excel)
    store.clear_cancel()
    statuses = Counter(records[r.run_id].status for r in runs if r.run_id in records)
    return BatchSummary(
        name=spec.name,
        out_dir=Path(store_dir),
        total=len(ids),
        skipped=skipped,
        solved=len(records) - skipped,
        statuses=dict(statuses),
        cancelled=cancelled,
        elapsed_s=time.perf_counter() - started,
        tables=tables,
        reuse=reuse,
    )


def _needs_run(
    run: Run, recorded: dict[str, RunRecord], store: RunStore, full: bool, retry: bool
) -> bool:
    record = recorded.get(run.run_id)
    if record is None:
        return True
    if retry and record.status == RunFailure.ERROR:
        return True
    return full and record.feasible and not store.has_result(run.run_id)


def _execute(
    todo: list[Run],
    spec: BatchSpec,
    base: Scenario,
    store: RunStore,
    workers: int,
    scheduler: str | None,
    full_results: bool,
    progress: Callable[[int, int], None] | None,
    cancel: threading.Event | None,
    total: int,
) -> tuple[bool, dict[str, int]]:
    """Run the blocks; returns (cancelled, reuse counts)."""
    ids = {r.run_id for r in todo}
    done_before = total - len(ids)
    size = spec.options.chunk_size
    queue = [tuple(todo[k : k + size]) for k in range(0, len(todo), size)]
    queue.reverse()  # pop() from the end takes blocks in execution order
    attempts: dict[str, int] = {}
    reuse: Counter[str] = Counter()
    seen = {"count": -1}

    def report() -> None:
        if progress is None:
            return
        count = done_before + len(ids & store.finished_ids())
        if count != seen["count"]:
            seen["count"] = count
            progress(count, total)

    def make() -> ChunkExecutor:
        return make_executor(
            workers,
            scheduler,
            should_stop=lambda: cancel is not None and cancel.is_set(),
            on_record=lambda _record: report(),
        )

    executor = make()
    in_flight: dict[Handle, tuple[Run, ...]] = {}
    cancelled = False
    report()
    try:
        while queue or in_flight:
            try:
                if cancel is not None and cancel.is_set() and not cancelled:
                    cancelled = True
                    store.request_cancel()
                    queue.clear()
                while queue and len(in_flight) < 2 * executor.workers and not cancelled:
                    block = queue.pop()
                    task = ChunkTask(base, block, spec.options, str(store.root), full_results)
                    in_flight[executor.submit(task)] = block
                finished = [h for h in list(in_flight) if h.done()]
                for handle in finished:
                    block = in_flight.pop(handle)
                    try:
                        result = handle.result()
                    except Exception as error:
                        executor = _retry(block, error, queue, attempts, store, executor, make)
                        continue
                    for record in result.records:
                        if not store.has(record.run_id):
                            store.save(record)
                    reuse.update(result.stats)
                report()
                if not finished:
                    time.sleep(POLL_S)
            except KeyboardInterrupt:
                if cancelled:  # a second Ctrl-C: stop waiting for the runs in flight
                    for handle in in_flight:
                        handle.cancel()
                    executor.close(wait=False)
                    raise
                cancelled = True
                store.request_cancel()
                queue.clear()
    finally:
        executor.close(wait=False)
    report()
    return cancelled, dict(reuse)


def _retry(
    block: tuple[Run, ...],
    error: Exception,
    queue: list[tuple[Run, ...]],
    attempts: dict[str, int],
    store: RunStore,
    executor: ChunkExecutor,
    make: Callable[[], ChunkExecutor],
) -> ChunkExecutor:
    """A block failed as a whole (its worker died): retry its runs one by one, then give up."""
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(error, BrokenProcessPool):
        executor.close(wait=False)
        executor = make()
    for run in block:
        if store.has(run.run_id):
            continue
        attempts[run.run_id] = attempts.get(run.run_id, 0) + 1
        if attempts[run.run_id] <= MAX_ATTEMPTS:
            queue.append((run,))
        else:
            store.save(
                RunRecord(
                    run_id=run.run_id,
                    run_index=run.index,
                    params=run.params,
                    status=RunFailure.ERROR.value,
                    reason=f"the worker failed: {type(error).__name__}: {error}",
                )
            )
    return executor


def _manifest(spec: BatchSpec, base: Scenario, runs: list[Run]) -> dict[str, object]:
    return {
        "name": spec.name,
        "software_version": __version__,
        "base_scenario_id": base.scenario_id,
        "base_hash": base.content_hash(),
        "spec": spec.model_dump(mode="json", exclude={"base"}),
        "base": spec.base if isinstance(spec.base, str) else "(inline)",
        "runs": [{"run_index": r.index, "run_id": r.run_id, "params": r.params} for r in runs],
    }


__all__ = ["BatchSummary", "resolve_base", "run_batch"]
