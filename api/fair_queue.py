"""The solve queue of one server: round-robin between API keys, with an optional cap on how
many of one key's jobs run at once.

A plain first-in-first-out queue lets one tenant that queues many long solves hold every
worker, while another tenant's small solve waits behind all of them. Here each key has its
own FIFO queue; a free worker takes the next job of the key served least recently (keys
not served yet first, in the order they queued), skipping keys that already have
``running_limit`` jobs running (`api.settings.Settings.max_running_jobs_per_key`). So a
flooding key gets at most its share of the workers, and with a running limit below the
number of workers there is always a worker for everyone else.

Everything here runs on the event loop (no locks).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque


class FairQueue:
    """Job ids queued per owner (an API key id); `get` round-robins between owners."""

    def __init__(self, running_limit: int | None = None) -> None:
        self.running_limit = running_limit
        self._queues: OrderedDict[str, deque[str]] = OrderedDict()
        self._running: dict[str, int] = {}
        self._owner_of: dict[str, list[str]] = {}  # a resumed batch may be queued twice
        self._served: dict[str, int] = {}  # owner -> ticket of its last take
        self._tickets = 0
        self._changed = asyncio.Event()

    def put_nowait(self, job_id: str, owner: str = "") -> None:
        self._queues.setdefault(owner, deque()).append(job_id)
        self._changed.set()

    def qsize(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    def running(self, owner: str) -> int:
        return self._running.get(owner, 0)

    def _take(self) -> str | None:
        limit = self.running_limit
        eligible = [o for o in self._queues if limit is None or self.running(o) < limit]
        if not eligible:
            return None
        owner = min(eligible, key=lambda o: self._served.get(o, -1))  # first of equals
        queue = self._queues[owner]
        job_id = queue.popleft()
        if not queue:
            del self._queues[owner]
        self._tickets += 1
        self._served[owner] = self._tickets
        self._running[owner] = self.running(owner) + 1
        self._owner_of.setdefault(job_id, []).append(owner)
        return job_id

    async def get(self) -> str:
        """The next job to run; counts as running for its owner until `task_done`."""
        while (job_id := self._take()) is None:
            self._changed.clear()
            await self._changed.wait()
        if self.qsize():
            self._changed.set()  # another waiting worker may take the next one
        return job_id

    def task_done(self, job_id: str) -> None:
        """The job taken by `get` has ended (whatever its outcome)."""
        owners = self._owner_of.get(job_id)
        if not owners:
            return
        owner = owners.pop()
        if not owners:
            del self._owner_of[job_id]
        left = self.running(owner) - 1
        if left > 0:
            self._running[owner] = left
        else:
            self._running.pop(owner, None)
            if owner not in self._queues:  # nothing left of it: forget when it was served
                self._served.pop(owner, None)
        self._changed.set()
