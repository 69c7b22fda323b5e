"""A short run of the API load benchmark, so it cannot rot.

No latency is asserted (the machine's load decides those): only that every request was
answered and that the server's own counts (read from `/metrics` with the operator's token)
match what the clients did. Reading them with the tenant's key broke unnoticed once
metrics became operators-only.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.load_api import main


def test_a_short_load_run_reconciles_with_the_server_counts(tmp_path: Path) -> None:
    out = tmp_path / "load_api.json"
    assert main(["--clients", "2", "--rounds", "3", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["errors"] == []
    assert report["rounds"] == 6 and report["requests_sent"] == report["requests_answered"]
    assert report["latency"]["solve"]["n"] == 6
