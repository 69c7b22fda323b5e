"""A smoke run of the benchmark runner on two tiny sizes, so the benchmarks cannot rot.

No timing is asserted: only that the runner runs every smoke contender in its own
process, that their objectives agree, that the PuLP row-by-row model has our model's
columns, and that the report is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.__main__ import SMOKE_CONTENDERS, main
from benchmarks.registry import SMOKE_SIZES
from benchmarks.report import fit_exponent


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    code = main(["--smoke", "--out", str(out), "--json", str(out.with_suffix(".json"))])
    return code, out, json.loads(out.with_suffix(".json").read_text())


def test_smoke_run_succeeds_and_objectives_agree(
    smoke_run: tuple[int, Path, dict[str, Any]],
) -> None:
    code, _, doc = smoke_run
    assert code == 0
    assert [s["name"] for s in doc["sizes"]] == list(SMOKE_SIZES)
    for size in doc["sizes"]:
        assert size["mismatches"] == []
        records = size["records"]
        assert set(records) == set(SMOKE_CONTENDERS)
        for contender, record in records.items():
            assert record["status"] == "optimal", (size["name"], contender, record)
            assert record["agree"] is True
            assert record["peak_rss_mib"] > 0
        assert records["pulp-rowwise"]["cols"] == records["highs"]["cols"]
        assert records["pulp-rowwise"]["build_s"] > 0
        assert records["floor"]["run_s"] > 0


def test_smoke_run_writes_the_report(smoke_run: tuple[int, Path, dict[str, Any]]) -> None:
    _, out, _ = smoke_run
    text = out.read_text()
    for heading in ("## Machine and versions", "## Targets", "## Ratios", "## Growth with size"):
        assert heading in text
    assert "PuLP row by row + HiGHS" in text
    assert "OBJECTIVE MISMATCH" not in text
    assert "bench_riskshare.py" in text  # present or reported missing, never a crash


def test_fit_exponent_recovers_a_power_law() -> None:
    nnz = [1e3, 1e4, 1e5, 1e6]
    assert fit_exponent(nnz, [2e-6 * x for x in nnz]) == pytest.approx(1.0)
    assert fit_exponent(nnz, [1e-9 * x**1.5 for x in nnz]) == pytest.approx(1.5)
    assert fit_exponent([1.0], [1.0]) is None
