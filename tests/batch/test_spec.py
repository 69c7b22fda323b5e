"""The batch spec: its three forms, stable run ids, neighbour ordering, early errors."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from allocator.batch import BatchSpec, expand_runs, load_spec, resolve_base
from allocator.batch.spec import reflected_order, spec_items
from tests.batch.conftest import TINY, tiny_spec
from tests.conftest import DATA


def test_every_example_spec_loads_and_expands() -> None:
    for path in sorted((DATA / "batches").glob("*.yaml")):
        spec = load_spec(path)
        base = resolve_base(spec)
        runs = expand_runs(spec, base.content_hash())
        assert len(runs) == spec_items(spec) > 0, path.name
        assert sorted(r.index for r in runs) == list(range(len(runs)))


def test_relative_base_paths_start_at_the_spec_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "tiny.json").write_text(TINY.read_text())
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(
        json.dumps(
            {
                "base": "sub/tiny.json",
                "runs": [
                    {"name": "as is"},
                    {"name": "grow", "changes": [{"kind": "pot_growth", "growth": 0.01}]},
                ],
            }
        )
    )
    spec = load_spec(spec_path)
    assert spec.base_path() == tmp_path / "sub" / "tiny.json"
    assert resolve_base(spec).scenario_id == "tiny"


def test_grid_is_walked_so_neighbours_differ_in_one_axis_by_one_step() -> None:
    order = reflected_order([3, 2, 4])
    assert len(order) == len(set(order)) == 24
    for a, b in itertools.pairwise(order):
        assert sum(abs(x - y) for x, y in zip(a, b, strict=True)) == 1


def test_grid_runs_carry_parameters_and_the_spec_order() -> None:
    spec = tiny_spec()
    runs = expand_runs(spec, "hash")
    assert len(runs) == 12
    by_index = sorted(runs, key=lambda r: r.index)
    assert by_index[0].params == {"pot_growth": 0.0, "frail_demand": 0.0, "floor": 0.0}
    assert by_index[1].params == {"pot_growth": 0.0, "frail_demand": 0.0, "floor": 0.01}
    assert by_index[-1].params == {"pot_growth": 0.02, "frail_demand": 0.02, "floor": 0.01}
    assert [c.kind for c in by_index[5].changes] == [
        "pot_growth",
        "demand_growth",
        "pace_of_change",
    ]


def test_run_ids_are_stable_and_depend_on_base_changes_and_settings() -> None:
    a = {r.index: r.run_id for r in expand_runs(tiny_spec(), "hash-1")}
    assert a == {r.index: r.run_id for r in expand_runs(tiny_spec(), "hash-1")}
    assert len(set(a.values())) == 12
    assert a != {r.index: r.run_id for r in expand_runs(tiny_spec(), "hash-2")}
    warm = tiny_spec(options={"reuse": "warm"})
    assert a != {r.index: r.run_id for r in expand_runs(warm, "hash-1")}
    # Axis names and chunking are presentation: the same changes are the same run.
    renamed = tiny_spec(options={"chunk_size": 1})
    assert a == {r.index: r.run_id for r in expand_runs(renamed, "hash-1")}


def test_monte_carlo_draws_are_seeded_and_sorted_for_neighbours() -> None:
    doc = {
        "base": str(TINY),
        "monte_carlo": {
            "draws": 20,
            "seed": 7,
            "inputs": [
                {
                    "name": "pot_growth",
                    "change": {"kind": "pot_growth"},
                    "distribution": {"kind": "normal", "mean": 0.01, "sd": 0.01},
                },
                {
                    "name": "frail",
                    "change": {"kind": "demand_growth", "segment_id": "frail"},
                    "distribution": {"kind": "uniform", "low": 0.0, "high": 0.05},
                },
            ],
        },
    }
    runs = expand_runs(BatchSpec.model_validate(doc), "h")
    again = expand_runs(BatchSpec.model_validate(doc), "h")
    assert [r.params for r in runs] == [r.params for r in again]
    growths = [float(r.params["pot_growth"]) for r in runs]  # type: ignore[arg-type]
    assert growths == sorted(growths)
    assert sorted(int(r.params["draw"]) for r in runs) == list(range(20))  # type: ignore[arg-type]
    assert all(0.0 <= float(r.params["frail"]) <= 0.05 for r in runs)  # type: ignore[arg-type]
    other = expand_runs(
        BatchSpec.model_validate({**doc, "monte_carlo": {**doc["monte_carlo"], "seed": 8}}), "h"
    )
    assert [r.params for r in other] != [r.params for r in runs]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"base": "x.json"}, "exactly one of grid, runs or monte_carlo"),
        ({"base": "x.json", "runs": [], "grid": []}, "exactly one of grid, runs or monte_carlo"),
        (
            {
                "base": "x.json",
                "grid": [{"name": "g", "change": {"kind": "pot_growth"}, "values": [-2.0]}],
            },
            "does not make a valid change",
        ),
        (
            {
                "base": "x.json",
                "grid": [{"name": "status", "change": {"kind": "pot_growth"}, "values": [0.1]}],
            },
            "reserved",
        ),
        (
            {"base": "x.json", "runs": [{"name": "a", "changes": [{"kind": "teleport"}]}]},
            "teleport",
        ),
    ],
)
def test_bad_specs_fail_early_with_a_located_message(doc: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        BatchSpec.model_validate(doc)


def test_inline_base_scenario_is_accepted_as_the_api_would_send_it() -> None:
    doc = {"base": json.loads(TINY.read_text()), "runs": [{"name": "as is"}]}
    spec = BatchSpec.model_validate_json(json.dumps(doc))
    assert resolve_base(spec).scenario_id == "tiny"
    assert spec.base_path() is None
