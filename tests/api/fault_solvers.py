"""Solve and batch functions for fault tests, run in the worker processes.

(``Settings.solve_target`` and ``Settings.batch_target``.)
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from api.worker import run_batch_document, solve_document


def slow_solve(payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A solve that takes a minute: long enough to be killed, cancelled or interrupted."""
    time.sleep(60)
    return solve_document(payload)


def sleepy_solve(payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Sleep for the job's ``time_limit_s`` seconds, then solve for real."""
    time.sleep(float(payload.get("time_limit_s") or 0))
    return solve_document({**payload, "time_limit_s": None})


def gated_solve(payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Wait until the file named by the scenario's description exists, then solve.

    (The forkserver's environment is fixed when the first test starts it, so the gate
    travels in the document.)
    """
    gate = Path(json.loads(payload["document"])["description"])
    while not gate.exists():
        time.sleep(0.05)
    return solve_document(payload)


def broken_solve(payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    raise RuntimeError("the solver library broke")


BATCH_PAUSE_S = 0.25


def sleepy_batch(payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Run the batch for real, pausing after each recorded run (time to look and cancel)."""
    return run_batch_document(payload, progress=lambda _done, _total: time.sleep(BATCH_PAUSE_S))
