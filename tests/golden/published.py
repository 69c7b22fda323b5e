"""The published form of a result: what must stay byte-identical when the code is reorganised.

Everything except the clocks (``timings`` and each stage's ``solve_time_s``) and the
rounding diagnostics (``rounding``) is kept: the pence, the rule lines, the explanation,
the hash and the version.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from models.results import AllocationResult

GOLDEN = Path(__file__).resolve().parent / "data"
CLOCKS = frozenset({"timings", "solve_time_s"})
# Not published figures: how far rounding moved each certificate line from the solver's
# fractional pence, which (like the clocks) moves with the solver's build and tolerances.
# `tests/board/test_rounding_moved.py` checks it instead.
DIAGNOSTICS = frozenset({"rounding"})


def _without_clocks(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_clocks(v) for k, v in value.items() if k not in CLOCKS | DIAGNOSTICS}
    if isinstance(value, list):
        return [_without_clocks(v) for v in value]
    return value


def published_form(result: AllocationResult) -> bytes:
    document = _without_clocks(json.loads(result.model_dump_json()))
    return json.dumps(document, indent=1, sort_keys=True).encode()


def golden_path(name: str) -> Path:
    return GOLDEN / f"{name}.json.gz"


def read_golden(name: str) -> bytes:
    return gzip.decompress(golden_path(name).read_bytes())


def write_golden(name: str, result: AllocationResult) -> None:
    golden_path(name).write_bytes(gzip.compress(published_form(result), mtime=0))
