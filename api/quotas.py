"""Per-key and per-system limits on queued plus running solve jobs and batches.

Without them one plan key can queue any number of national-size solves and starve every
other tenant. A request that would go over a limit is refused with 429 and
``Retry-After`` before anything is stored.
"""

from __future__ import annotations

import time
from asyncio import sleep
from collections.abc import Callable, Iterable

from sqlalchemy import Select, func, select, text
from sqlalchemy.orm import Session

from api.errors import QueueFull
from api.security import Principal
from api.settings import Settings
from api.storage.tables import BatchRow, BatchSystem, JobRow, ScenarioSystem

ACTIVE = ("queued", "running")


def _refuse(what: str, count: int, limit: int, settings: Settings) -> QueueFull:
    return QueueFull(
        f"{what} already has {count} queued or running (the limit is {limit}): wait for some "
        "to finish, or cancel one, then try again",
        retry_after_s=settings.queue_retry_after_s,
    )


class RefusalMemory:
    """Solve requests refused for a full queue, remembered for ``seconds`` per key and
    scenario, so a client that ignores ``Retry-After`` and asks again at once is refused
    from memory instead of by re-counting every queue in the database: a flood of refusals
    then costs the server about half as much, and other tenants' requests wait less behind
    it. A request is still authenticated first; only the counting is skipped. Whenever a
    job on this server ends (a cancelled one too) the memory is cleared, so room made here is
    seen at once (room made on another server, within ``seconds``). 0 turns it off.

    A refusal answered from memory is also held back until the remembered period ends (at
    most ``delay_s``; an asyncio sleep, no CPU), so a client that asks again as soon as it
    is answered asks about once per period instead of as fast as the server answers. At
    most `MAX_HELD` requests are held at once; beyond that they are answered at once."""

    MAX_ENTRIES = 10_000
    MAX_HELD = 256

    def __init__(self, seconds: float, delay_s: float = 0.0) -> None:
        self.seconds = seconds
        self.delay_s = delay_s
        self.held = 0  # requests being held back now
        self._until: dict[tuple[str, str], tuple[float, str, int]] = {}

    @classmethod
    def of(cls, settings: Settings) -> RefusalMemory:
        return cls(settings.queue_refusal_memory_s, settings.queue_refusal_delay_s)

    async def recall(self, key_id: str, scenario_id: str) -> QueueFull | None:
        """The remembered refusal (a new one: a raised one keeps its traceback), if any."""
        remembered = self._until.get((key_id, scenario_id))
        if remembered is None:
            return None
        until, detail, retry_after_s = remembered
        left = until - time.monotonic()
        if left <= 0:
            del self._until[(key_id, scenario_id)]
            return None
        if self.delay_s > 0 and self.held < self.MAX_HELD:
            self.held += 1
            try:
                await sleep(min(left, self.delay_s))
            finally:
                self.held -= 1
        return QueueFull(detail, retry_after_s)

    def clear(self) -> None:
        self._until.clear()

    def remember(self, key_id: str, scenario_id: str, refusal: QueueFull) -> None:
        if self.seconds <= 0:
            return
        now = time.monotonic()
        if len(self._until) >= self.MAX_ENTRIES:
            self._until = {k: v for k, v in self._until.items() if v[0] > now}
        self._until[(key_id, scenario_id)] = (
            now + self.seconds,
            refusal.detail,
            refusal.retry_after_s,
        )


def _serialise(session: Session, kind: str, principal: Principal, systems: Iterable[str]) -> None:
    """On PostgreSQL, hold a transaction lock per key and per system while counting, so two
    concurrent requests cannot both pass the check. (SQLite's write transactions begin
    IMMEDIATE, so one writer at a time already counts.)"""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in [f"key:{principal.key_id}", *(f"system:{s}" for s in sorted(set(systems)))]:
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": f"{kind}:{name}"}
        )


def _enforce(
    session: Session,
    *,
    mine: Select[int],
    per_system: Callable[[str], Select[int]],
    systems: Iterable[str],
    key_limit: int,
    system_limit: int,
    settings: Settings,
) -> None:
    """429 when the key's active count, or any system's, is already at its limit."""
    count = session.scalar(mine) or 0
    if count >= key_limit:
        raise _refuse("this key", count, key_limit, settings)
    for system in sorted(set(systems)):
        count = session.scalar(per_system(system)) or 0
        if count >= system_limit:
            raise _refuse(f"system {system}", count, system_limit, settings)


def check_job_quota(
    session: Session,
    *,
    principal: Principal,
    systems: Iterable[str],
    settings: Settings,
    serialise: bool = True,
) -> None:
    """429 unless the key and every system may have one more active solve job.

    ``serialise=False`` is the early check in a read transaction: it refuses a full queue
    without waiting for SQLite's write lock (or PostgreSQL's advisory locks), so a key
    that floods the queue does not hold up other tenants' writes; the check that counts
    is the one in the write transaction that stores the job.
    """
    systems = list(systems)
    if serialise:
        _serialise(session, "jobs", principal, systems)
    active = JobRow.state.in_(ACTIVE)
    _enforce(
        session,
        mine=select(func.count())
        .select_from(JobRow)
        .where(active, JobRow.created_by == principal.key_id),
        per_system=lambda system: (
            select(func.count(func.distinct(JobRow.id)))
            .select_from(JobRow)
            .join(ScenarioSystem, ScenarioSystem.scenario_pk == JobRow.scenario_pk)
            .where(active, ScenarioSystem.system_id == system)
        ),
        systems=systems,
        key_limit=settings.max_active_jobs_per_key,
        system_limit=settings.max_active_jobs_per_system,
        settings=settings,
    )


def check_batch_quota(
    session: Session, *, principal: Principal, systems: Iterable[str], settings: Settings
) -> None:
    """429 unless the key and every system may have one more active batch."""
    _serialise(session, "batches", principal, systems)
    active = BatchRow.state.in_(ACTIVE)
    _enforce(
        session,
        mine=select(func.count())
        .select_from(BatchRow)
        .where(active, BatchRow.created_by == principal.key_id),
        per_system=lambda system: (
            select(func.count(func.distinct(BatchRow.id)))
            .select_from(BatchRow)
            .join(BatchSystem, BatchSystem.batch_id == BatchRow.id)
            .where(active, BatchSystem.system_id == system)
        ),
        systems=systems,
        key_limit=settings.max_active_batches_per_key,
        system_limit=settings.max_active_batches_per_system,
        settings=settings,
    )


__all__ = ["QueueFull", "check_batch_quota", "check_job_quota"]
