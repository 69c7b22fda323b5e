"""A real solve that pauses after each solver stage, and a real batch that pauses after
each run, run in the worker processes of the browser's job tests (``Settings.solve_target``
and ``batch_target``): long enough to see every stage and run reported as it finishes,
and to cancel a job while it runs."""

from __future__ import annotations

import time
from typing import Any

from api.worker import run_batch_document, solve_document

STAGE_PAUSE_S = 2.5


def paced_solve(payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    return solve_document(payload, after_stage=lambda: time.sleep(STAGE_PAUSE_S))


RUN_PAUSE_S = 2.5


def paced_batch(payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A real batch that pauses after each run it records: its page is seen part done."""
    return run_batch_document(payload, progress=lambda _done, _total: time.sleep(RUN_PAUSE_S))
