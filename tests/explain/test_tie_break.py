"""The tie-break stage: one published allocation whatever the path (docs/uniqueness.md).

Before the tie-break, HiGHS and OR-Tools published allocations of the realistic example
that differed by up to £50m in a figure (money moved between providers at no cost in any
stage), and warm-started batch runs differed from cold ones by up to £8m. The tie-break
makes warm and cold runs publish the same pennies, and takes the difference between
backends down to solver noise (a few pounds).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from allocator.batch import apply_changes, expand_runs, load_spec, resolve_base
from allocator.batch.reuse import WarmSolver
from allocator.explain.verify import published_pennies
from allocator.formulation.formulate import formulate
from allocator.pipeline import solve_options, solve_scenario
from allocator.stages import sequence
from allocator.stages.sequence import stage_sequence
from allocator.stages.tie_break import column_keys, held_bound, tie_break_objective
from allocator.types import Stage
from models import Scenario
from models.results import AllocationResult
from tests.batch.conftest import REALISTIC_200
from tests.conftest import DATA, load

# What solver noise can still move a published figure by (the rows in share units let a
# feasibility tolerance of 1e-7 stand for pounds); ties that are not noise move millions.
NOISE_PENCE = 1_000


def _largest_difference(a: AllocationResult, b: AllocationResult) -> int:
    ours, theirs = published_pennies(a), published_pennies(b)
    return max(abs(ours.get(k, 0) - theirs.get(k, 0)) for k in ours.keys() | theirs.keys())


@pytest.fixture(scope="module")
def realistic() -> Scenario:
    return load(DATA / "realistic" / "realistic.json")


def test_tie_break_is_the_last_stage_and_weighs_every_cell_and_flow(realistic: Scenario) -> None:
    f = formulate(realistic)
    sequence = stage_sequence(f)
    assert [s for s, _ in sequence][-2:] == [Stage.STABILITY, Stage.TIE_BREAK]
    c = tie_break_objective(f)
    keys = column_keys(f.program)
    assert len(set(keys)) == len(keys) == f.program.num_cols  # a factor of its own per column
    assert (c >= 0).all() and (f.program.col_lo >= 0).all()  # so the stage is bounded
    assert (c[f.program.cols["funding"].positions] > 0).all()
    up = c[f.program.cols["stability.up"].positions]
    assert ((up >= 1.0) & (up < 2.0)).all()
    assert np.unique(up).size == up.size  # generic: no two cells weigh the same
    # The weights follow the ids, not the positions: the same cell weighs the same in a
    # scenario whose providers are listed in another order.
    shuffled = realistic.model_copy(update={"providers": list(reversed(realistic.providers))})
    g = formulate(shuffled)
    weight = dict(zip(keys, c, strict=True))
    assert all(
        weight[k] == v for k, v in zip(column_keys(g.program), tie_break_objective(g), strict=True)
    )


def test_held_bound_is_within_the_tolerance_and_ignores_noise() -> None:
    for optimum in (0.0159, 37831.52, -296032.43, 545548.058):
        slack = 1e-7 * max(1.0, abs(optimum))
        held = held_bound(optimum, 1e-7)
        assert optimum + slack / 2 < held <= optimum + 2 * slack
        grid = 2.0 ** math.floor(math.log2(slack))
        assert held / grid == round(held / grid)
        # Optima a little apart (one solver against another) hold the same bound.
        nudged = [held_bound(optimum + d * slack * 1e-4, 1e-7) for d in (-1, 1)]
        assert held in nudged


def test_tie_break_keeps_every_earlier_optimum(
    realistic: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = solve_scenario(realistic, explain=False)
    original = sequence.stage_sequence
    monkeypatch.setattr(sequence, "stage_sequence", lambda f: original(f)[:-1])
    before = solve_scenario(realistic, explain=False)
    assert [s.stage for s in result.stages] == [*[s.stage for s in before.stages], "tie_break"]
    for mine, theirs in zip(result.stages, before.stages, strict=False):
        assert mine.objective == pytest.approx(theirs.objective, rel=2e-7, abs=1e-6), mine.stage
    # ...while it does pick one of the equally good allocations: not the one found before.
    assert _largest_difference(result, before) > 100_000


@pytest.mark.parametrize("backend", ["ortools"])
def test_backends_publish_the_same_allocation_up_to_noise(
    realistic: Scenario, backend: str
) -> None:
    pytest.importorskip(backend)
    highs = solve_scenario(realistic, backend="highs", explain=False)
    other = solve_scenario(realistic, backend=backend, explain=False)
    assert highs.status == other.status == "optimal"
    assert _largest_difference(highs, other) <= NOISE_PENCE


def test_warm_batch_runs_publish_the_same_pennies_as_cold_runs() -> None:
    spec = load_spec(REALISTIC_200)
    base = resolve_base(spec)
    runs = list(expand_runs(spec, base.content_hash()))[:12]
    warm = WarmSolver("highs", solve_options(base))
    compared = 0
    for run in runs:
        scenario = apply_changes(base, run.changes)
        cold = solve_scenario(scenario, explain=False)
        warmed = solve_scenario(scenario, explain=False, sequence=warm.solve)
        assert warmed.status == cold.status
        if cold.status == "optimal":
            compared += 1
            assert published_pennies(warmed) == published_pennies(cold), run.run_id
    assert compared >= 5
    # A MIP sweep publishes from the same fixed-integer LP chain as a cold solve: its
    # warm sessions serve only the LP stages of LP scenarios (counted in test_reuse.py).
    assert warm.stats.take()["runs"] == len(runs)
