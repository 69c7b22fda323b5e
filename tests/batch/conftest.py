"""Shared fixtures of the batch tests: specs on the tiny and realistic examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from allocator.batch import BatchSpec, RunStore, load_spec
from tests.conftest import DATA

TINY = DATA / "tiny" / "tiny.json"
REALISTIC = DATA / "realistic" / "realistic.json"
REALISTIC_200 = DATA / "batches" / "realistic-200.yaml"

Allocation = dict[str, Any]


def tiny_spec(**overrides: Any) -> BatchSpec:
    """A 12-run grid on the tiny example (an LP: fast), base given by absolute path."""
    doc: dict[str, Any] = {
        "name": "tiny-grid",
        "base": str(TINY),
        "grid": [
            {"name": "pot_growth", "change": {"kind": "pot_growth"}, "values": [0.0, 0.01, 0.02]},
            {
                "name": "frail_demand",
                "change": {"kind": "demand_growth", "segment_id": "frail"},
                "values": [0.0, 0.02],
            },
            {
                "name": "floor",
                "change": {"kind": "pace_of_change", "rule_id": "pace"},
                "field": "floor_growth_share",
                "values": [0.0, 0.01],
            },
        ],
        "options": {"chunk_size": 4},
    }
    doc.update(overrides)
    return BatchSpec.model_validate(doc)


def allocations(store_dir: Path) -> dict[str, Allocation]:
    """Every recorded run's status, provider budgets and place allocations, by run id."""
    store = RunStore(store_dir)
    out: dict[str, Allocation] = {}
    for run_id in sorted(store.finished_ids()):
        record = store.load(run_id)
        out[run_id] = {
            "status": record.status,
            "providers": {p.provider_id: p.budget_pence for p in record.providers},
            "places": {u.place_id: u.allocation_pence for u in record.places},
        }
    return out


@pytest.fixture(scope="session")
def realistic_200() -> BatchSpec:
    return load_spec(REALISTIC_200)
