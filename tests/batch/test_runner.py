"""run_batch on the tiny example: records, failures, resume, cancel, progress, full results."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from allocator.batch import BatchSpec, RunStore, run_batch
from allocator.batch.store import atomic_write
from allocator.batch.tables import read_table
from allocator.errors import ScenarioInvalid
from tests.batch.conftest import TINY, allocations, tiny_spec


def test_batch_records_every_run_and_writes_three_tables(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    summary = run_batch(tiny_spec(), store_dir=tmp_path, progress=lambda d, t: seen.append((d, t)))
    assert (summary.total, summary.skipped, summary.solved) == (12, 0, 12)
    assert summary.complete and not summary.cancelled and summary.statuses == {"optimal": 12}
    assert seen[-1] == (12, 12)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    for name in ("runs", "providers", "places"):
        assert (tmp_path / f"{name}.parquet").exists() and (tmp_path / f"{name}.csv").exists()
    assert (tmp_path / "summary.xlsx").exists()
    providers = read_table(tmp_path, "providers")
    assert list(providers.columns[:5]) == [
        "run_index",
        "run_id",
        "pot_growth",
        "frail_demand",
        "floor",
    ]
    assert len(providers) == 12 * 3 and len(read_table(tmp_path, "places")) == 12 * 2
    # Budgets add up to the capitated pot plus pass-through in every run.
    manifest = json.loads((tmp_path / "batch.json").read_text())
    assert len(manifest["runs"]) == 12 and manifest["base_hash"]


def test_a_rerun_skips_what_is_recorded_and_fills_gaps(tmp_path: Path) -> None:
    run_batch(tiny_spec(), store_dir=tmp_path)
    first = allocations(tmp_path)
    store = RunStore(tmp_path)
    gone = sorted(store.finished_ids())[:5]
    for run_id in gone:
        store.record_path(run_id).unlink()
    summary = run_batch(tiny_spec(), store_dir=tmp_path)
    assert (summary.skipped, summary.solved) == (7, 5)
    assert allocations(tmp_path) == first
    assert run_batch(tiny_spec(), store_dir=tmp_path).solved == 0


def test_failed_runs_are_recorded_with_their_reason_and_do_not_stop_the_batch(
    tmp_path: Path,
) -> None:
    spec = BatchSpec.model_validate(
        {
            "base": str(TINY),
            "runs": [
                {"name": "fine", "changes": [{"kind": "pot_growth", "growth": 0.01}]},
                {"name": "pot halves", "changes": [{"kind": "pot_growth", "growth": -0.5}]},
                {
                    "name": "floor above cap",
                    "changes": [
                        {"kind": "pace_of_change", "rule_id": "pace", "floor_growth_share": 0.5}
                    ],
                },
                {
                    "name": "no such segment",
                    "changes": [{"kind": "demand_growth", "segment_id": "x", "growth": 0.1}],
                },
                {"name": "also fine", "changes": []},
            ],
        }
    )
    summary = run_batch(spec, store_dir=tmp_path)
    assert summary.complete
    runs = read_table(tmp_path, "runs").set_index("run_name")
    assert runs.loc["fine", "status"] == "optimal" and runs.loc["also fine", "status"] == "optimal"
    assert runs.loc["pot halves", "status"] == "infeasible"
    assert "cannot all hold" in runs.loc["pot halves", "reason"]
    assert runs.loc["floor above cap", "status"] == "invalid"
    assert "cap_growth_share is below floor_growth_share" in runs.loc["floor above cap", "reason"]
    assert runs.loc["no such segment", "status"] == "invalid"
    assert summary.failed == 3


def test_an_invalid_base_scenario_is_an_error_before_anything_runs(tmp_path: Path) -> None:
    bad = json.loads(TINY.read_text())
    bad["providers"][0]["place_ids"] = ["nowhere"]
    spec = BatchSpec.model_validate({"base": bad, "runs": [{"name": "x"}]})
    with pytest.raises(ScenarioInvalid):
        run_batch(spec, store_dir=tmp_path)


def test_cancel_stops_between_runs_and_a_rerun_completes(tmp_path: Path) -> None:
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 3:
            cancel.set()

    summary = run_batch(tiny_spec(), store_dir=tmp_path, progress=progress, cancel=cancel)
    assert summary.cancelled and not summary.complete
    assert 3 <= summary.solved < 12
    assert not (tmp_path / "CANCEL").exists()
    rest = run_batch(tiny_spec(), store_dir=tmp_path)
    assert rest.skipped == summary.solved and rest.complete


def test_full_results_keep_each_run_and_a_rerun_adds_missing_ones(tmp_path: Path) -> None:
    run_batch(tiny_spec(), store_dir=tmp_path)
    assert not list((tmp_path / "results").glob("*.json"))
    summary = run_batch(tiny_spec(), store_dir=tmp_path, full_results=True)
    assert summary.solved == 12  # results were asked for now: the runs are solved again
    results = list((tmp_path / "results").glob("*.json"))
    assert len(results) == 12
    document = json.loads(results[0].read_text())
    assert document["status"] == "optimal" and document["providers"]


def test_store_writes_atomically_and_ignores_partial_files(tmp_path: Path) -> None:
    store = RunStore(tmp_path).ensure()
    (store.runs_dir / ".abc.json.123.tmp").write_text("{partial")
    assert store.finished_ids() == set()
    atomic_write(store.runs_dir / "x.json", "{}")
    assert store.finished_ids() == {"x"}
    assert not list(store.runs_dir.glob("*.tmp"))[1:]  # only the planted partial file is left
    store.request_cancel()
    assert store.cancel_requested()
    store.clear_cancel()
    assert not store.cancel_requested()
