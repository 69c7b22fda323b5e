"""A solve job reports each solver stage as it finishes: the worker process sends them
over its pipe before its reply, and the runner records them on the job's row."""

from __future__ import annotations

import json
import threading
import time

from api.worker import SolverProcess, forkserver_context
from models import Scenario
from tests.api.helpers import tiny_for


def test_the_solver_process_reports_every_stage_before_its_reply() -> None:
    document = Scenario.model_validate(tiny_for("S1")).canonical_json()
    seen: list[tuple[str, float]] = []
    slot = SolverProcess(forkserver_context(), "api.worker:solve_document", "test-solver")
    try:
        reply, exitcode = slot.run(
            {"document": document, "backend": None, "time_limit_s": None},
            lambda phase, share: seen.append((phase, share)),
        )
    finally:
        slot.close()
    assert exitcode is None and reply[0] == "ok" and json.loads(reply[2])["feasible"]
    total = len(seen)
    assert total >= 2
    for number, (phase, _) in enumerate(seen, start=1):
        assert phase.startswith(f"stage {number} of {total} solved: "), seen
    shares = [s for _, s in seen]
    assert shares == sorted(shares) and shares[0] > 0.1 and shares[-1] == 0.9


class _SlowPipe:
    """A pipe whose close takes a while, and counts."""

    def __init__(self) -> None:
        self.closed = 0

    def send(self, _: object) -> None:
        pass

    def close(self) -> None:
        self.closed += 1
        time.sleep(0.05)


def test_a_shutdown_and_a_dying_job_close_the_pipe_once() -> None:
    # Both end the process at once: the job's thread (its process died) and the server's
    # shutdown. Closing one pipe twice raised EBADF at shutdown (or could close a
    # descriptor opened since).
    slot = SolverProcess(forkserver_context(), "api.worker:solve_document", "test-solver")
    pipe = _SlowPipe()
    slot.connection = pipe  # type: ignore[assignment]
    dying = threading.Thread(target=slot._reap)
    dying.start()
    time.sleep(0.01)
    slot.close()
    dying.join()
    assert pipe.closed == 1
    assert slot.connection is None and slot.process is None
