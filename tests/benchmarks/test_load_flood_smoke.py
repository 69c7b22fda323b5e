"""A smoke run of the flooding-tenant benchmark (``--quick``), so it cannot rot.

No latency is asserted (the machine's load decides those): only that tenant A's flood
was refused with 429 and ``Retry-After``, that tenant B's solves all came back, and that
the report is written.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.load_flood import main


def test_quick_flood_gets_429s_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "flood.json"
    assert main(["--quick", "--duration", "4", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["quick"] is True
    assert set(report["phases"]) == {"baseline", "busy", "flood"}
    busy = report["phases"]["busy"]["a"]  # one region solve at a time: never refused
    assert busy["accepted"] >= 1 and busy["refused_429"] == 0 and busy["other"] == {}, busy
    flood = report["phases"]["flood"]
    a = flood["a"]
    assert a["refused_429"] > 0 and a["retry_after"] == a["refused_429"], a
    assert a["accepted"] >= 1 and a["other"] == {}, a
    assert a["sent"] == a["accepted"] + a["refused_429"]
    for phase in report["phases"].values():
        b = phase["b"]
        assert b["solves"] > 0 and b["errors"] == [], b
        assert b["submit_to_result"]["n"] == b["solves"]
        assert b["submit_to_result"]["p99_ms"] >= b["submit_to_result"]["p50_ms"] > 0
    assert isinstance(flood["p99_ratio"], float)
    assert isinstance(report["b_p99_holds"], bool)
    assert isinstance(flood["p99_ratio_to_busy"], float)
    assert isinstance(report["b_p99_holds_against_busy"], bool)
