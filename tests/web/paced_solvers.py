"""A real solve that pauses after each solver stage, run in the worker process of the
browser's job tests (``Settings.solve_target``): long enough to see every stage reported
on the job page, and to cancel a job while it runs."""

from __future__ import annotations

import time
from typing import Any

from api.worker import solve_document

STAGE_PAUSE_S = 2.5


def paced_solve(payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    return solve_document(payload, after_stage=lambda: time.sleep(STAGE_PAUSE_S))
