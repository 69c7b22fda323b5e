"""A quick run of the small-systems benchmark on the tiny smoke size, so it cannot rot.

No timing is asserted beyond being positive and consistent: only that every phase, the
CLI process and both floors are measured, the solve is optimal and the JSON is written.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.bench_small import main


def test_bench_small_measures_every_phase_and_the_process(tmp_path: Path) -> None:
    out = tmp_path / "small.json"
    assert main(["--size", "tiny", "--repeat", "1", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert set(doc["in_process"]) == {"tiny", "realistic"}
    for record in doc["in_process"].values():
        assert record["status"] == "optimal"
        phases = ("validate_s", "build_s", "solve_s", "publish_explain_s", "document_s")
        assert all(record[p] >= 0 for p in phases)
        assert sum(record[p] for p in phases) <= record["e2e_s"] * 1.01 + 1e-4
        assert record["stage_solver_s"] > 0
    process = doc["process"]
    assert set(process) == {"allocator solve", "python -c pass", "python -c import libraries"}
    assert all(r["status"] == "ok" and r["median_s"] > 0 for r in process.values())
    assert process["allocator solve"]["median_s"] > process["python -c pass"]["median_s"]
    assert len(doc["load_average_before"]) == 3 and len(doc["load_average_after"]) == 3
