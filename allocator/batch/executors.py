"""Where chunks run: in this process, in a local process pool, or on a Dask cluster.

Every executor takes `ChunkTask` s and returns handles with ``done()``, ``result()`` and
``cancel()`` (a `concurrent.futures.Future` or a `distributed.Future`), so the runner
polls them the same way whatever runs them. All three call the same `run_chunk` on the
same blocks, so they produce the same records.

* `InlineExecutor` (one worker): runs a chunk when the runner first asks about it; the
  runner's cancel event is checked between runs and each record is reported at once.
* `ProcessExecutor` (the default for several workers): a
  `concurrent.futures.ProcessPoolExecutor` with the ``spawn`` start method (a fork of a
  process that already holds solver threads is unsafe). Workers ignore Ctrl-C: the
  runner owns shutdown and tells them to stop through the store's cancel marker, so the
  runs they are in the middle of still finish and are recorded.
* `DaskExecutor`: a `distributed.Client` connected to the scheduler's address; the
  cluster's workers need this package installed (and, to write records themselves, the
  output folder on a shared filesystem; otherwise the runner writes what they return).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any, Protocol

from allocator.batch.store import RunRecord
from allocator.batch.worker import ChunkResult, ChunkTask, run_chunk


class Handle(Protocol):
    def done(self) -> bool: ...

    def result(self) -> Any: ...

    def cancel(self) -> bool: ...


class ChunkExecutor(Protocol):
    workers: int

    def submit(self, task: ChunkTask) -> Handle: ...

    def close(self, *, wait: bool) -> None: ...


class _Deferred:
    """A chunk run lazily in the caller's process the first time it is polled."""

    def __init__(self, task: ChunkTask, executor: InlineExecutor) -> None:
        self._task, self._executor = task, executor
        self._result: ChunkResult | None = None
        self._error: BaseException | None = None
        self._cancelled = False

    def done(self) -> bool:
        if self._result is None and self._error is None and not self._cancelled:
            try:
                self._result = run_chunk(
                    self._task,
                    should_stop=self._executor.should_stop,
                    on_record=self._executor.on_record,
                )
            except Exception as error:
                self._error = error
        return True

    def result(self) -> ChunkResult:
        self.done()
        if self._error is not None:
            raise self._error
        if self._result is None:
            raise RuntimeError("the chunk was cancelled")
        return self._result

    def cancel(self) -> bool:
        self._cancelled = self._result is None
        return self._cancelled


class InlineExecutor:
    """Runs chunks one at a time in this process (``workers=1``)."""

    workers = 1

    def __init__(
        self,
        should_stop: Callable[[], bool] | None = None,
        on_record: Callable[[RunRecord], None] | None = None,
    ) -> None:
        self.should_stop = should_stop
        self.on_record = on_record

    def submit(self, task: ChunkTask) -> _Deferred:
        return _Deferred(task, self)

    def close(self, *, wait: bool) -> None:
        """Nothing to release."""


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessExecutor:
    """A local pool of ``workers`` processes; no set-up needed."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=get_context("spawn"), initializer=_ignore_sigint
        )

    def submit(self, task: ChunkTask) -> Future[ChunkResult]:
        return self._pool.submit(run_chunk, task)

    def close(self, *, wait: bool) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)


class DaskExecutor:
    """Chunks as tasks on a Dask distributed cluster (``tcp://host:8786``)."""

    def __init__(self, address: str, workers: int | None = None) -> None:
        try:
            from distributed import Client
        except ImportError as error:  # pragma: no cover - the extra is not installed
            raise RuntimeError(
                "a Dask scheduler needs dask[distributed]: pip install 'care-allocator[distributed]'"
            ) from error
        self._client = Client(address, set_as_default=False)
        found = len(self._client.scheduler_info().get("workers", {}))
        self.workers = max(1, workers or found or 1)

    def submit(self, task: ChunkTask) -> Any:
        return self._client.submit(run_chunk, task, pure=False)

    def close(self, *, wait: bool) -> None:
        self._client.close()


def make_executor(
    workers: int,
    scheduler: str | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_record: Callable[[RunRecord], None] | None = None,
) -> ChunkExecutor:
    """Dask when a scheduler address is given, else a process pool, else this process."""
    if scheduler:
        return DaskExecutor(scheduler, workers if workers > 1 else None)
    if workers <= 1:
        return InlineExecutor(should_stop, on_record)
    return ProcessExecutor(workers)


__all__ = [
    "ChunkExecutor",
    "DaskExecutor",
    "Handle",
    "InlineExecutor",
    "ProcessExecutor",
    "make_executor",
]
