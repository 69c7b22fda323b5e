"""Reuse between runs: exact mode is a cold solve; warm mode is equally optimal and leak-free."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from allocator.backends.interface import SolveOptions
from allocator.batch import RunStore, apply_changes, expand_runs, resolve_base, run_batch
from allocator.batch.reuse import ExactSolver, WarmSolver
from allocator.formulation.formulate import formulate
from allocator.pipeline import solve_scenario
from allocator.publish.recheck import reconciliation_problems, rule_problems
from allocator.stages.sequence import solve_sequence
from models.results import AllocationResult
from tests.batch.conftest import allocations, tiny_spec

OPTIONS = SolveOptions(mip_gap=1e-6)


def _formulations(**overrides: object) -> list:  # type: ignore[type-arg]
    spec = tiny_spec(**overrides)
    base = resolve_base(spec)
    return [
        formulate(apply_changes(base, r.changes)) for r in expand_runs(spec, base.content_hash())
    ]


def test_exact_batch_equals_cold_solves_to_the_penny(tmp_path: Path) -> None:
    spec = tiny_spec()
    run_batch(spec, store_dir=tmp_path)
    got = allocations(tmp_path)
    base = resolve_base(spec)
    for run in expand_runs(spec, base.content_hash()):
        cold = solve_scenario(apply_changes(base, run.changes), explain=False)
        assert got[run.run_id]["providers"] == {
            p.provider_id: p.budget_pence for p in cold.providers
        }
        assert got[run.run_id]["places"] == {u.unit_id: u.allocation_pence for u in cold.places}


def test_identical_programs_are_solved_once() -> None:
    formulation = _formulations()[0]
    solver = ExactSolver("highs", OPTIONS)
    first = solver.solve(formulation)
    again = solver.solve(formulate(formulation.scenario))
    assert again is first
    assert solver.stats.take() == {
        "runs": 2,
        "cache_hits": 1,
        "in_place_updates": 0,
        "warm_rebuilds": 0,
        "cold_builds": 1,
    }
    cold = solve_sequence(formulation, "highs", OPTIONS)
    assert first.final.x is not None and cold.final.x is not None
    assert np.array_equal(first.final.x, cold.final.x)


def test_warm_solver_is_as_optimal_as_cold_and_never_leaks_rows() -> None:
    formulations = _formulations()
    solver = WarmSolver("highs", OPTIONS)
    base_rows = formulations[0].program.num_rows
    for f in formulations:
        warm = solver.solve(f)
        cold = solve_sequence(f, "highs", OPTIONS)
        assert [s.stage for s in warm.stages] == [s.stage for s in cold.stages]
        for w, c in zip(warm.stages, cold.stages, strict=True):
            assert w.solution.objective is not None and c.solution.objective is not None
            assert w.solution.objective == pytest.approx(c.solution.objective, rel=1e-6, abs=1e-6)
        # Each stage's session holds the base rows plus that stage's held rows, no more
        # (the tie-break, last, is solved from scratch and keeps no session).
        assert cold.stages[-1].stage == "tie_break"
        assert solver.stage_rows() == {k: base_rows + k for k in range(len(cold.stages) - 1)}
    stats = solver.stats.take()
    assert stats["runs"] == len(formulations)
    assert stats["in_place_updates"] > 0  # pace-floor neighbours differ only in bounds
    assert stats["warm_rebuilds"] > 0  # pot neighbours differ in coefficients (targets)


def test_warm_batch_publishes_valid_equally_good_allocations(tmp_path: Path) -> None:
    spec = tiny_spec(options={"reuse": "warm", "chunk_size": 12})
    summary = run_batch(spec, store_dir=tmp_path, full_results=True)
    assert summary.statuses == {"optimal": 12}
    assert summary.reuse["in_place_updates"] > 0
    base = resolve_base(spec)
    store = RunStore(tmp_path)
    for run in expand_runs(spec, base.content_hash()):
        scenario = apply_changes(base, run.changes)
        warm = AllocationResult.model_validate_json(store.result_path(run.run_id).read_text())
        assert reconciliation_problems(scenario, warm) == []
        assert rule_problems(scenario, warm) == []
        cold = solve_scenario(scenario, explain=False)
        for w, c in zip(warm.stages, cold.stages, strict=True):
            assert w.objective == pytest.approx(c.objective, rel=1e-6, abs=1e-3)
