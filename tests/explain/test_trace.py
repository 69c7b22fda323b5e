"""Trace one published figure: its parts, target, rules, the stage that fixed it, rounding."""

from __future__ import annotations

import itertools

import pytest

from allocator.explain.trace import FigureNotFound, trace_figure
from allocator.pipeline import solve_scenario
from models import Scenario
from models.results import AllocationResult
from tests.conftest import DATA, load


@pytest.fixture(scope="module")
def realistic() -> Scenario:
    return load(DATA / "realistic" / "realistic.json")


@pytest.fixture(scope="module")
def result(realistic: Scenario) -> AllocationResult:
    return solve_scenario(realistic)


def test_a_provider_budget_is_reproduced_from_its_parts(
    realistic: Scenario, result: AllocationResult
) -> None:
    provider = result.providers[0]
    trace = trace_figure(result, realistic, f"provider {provider.provider_id}")
    assert trace.published_pence == provider.budget_pence
    assert sum(trace.parts_pence.values()) == provider.budget_pence
    assert trace.solver_pence + trace.rounding_pence == pytest.approx(provider.budget_pence)
    assert abs(trace.rounding_pence) < 100  # rounding moves pennies, never pounds
    stages = [r.stage for r in trace.stage_ranges]
    assert stages == [s.stage for s in result.stages]
    assert trace.fixed_by_stage in stages
    # Each stage narrows the range the figure could take, and the published figure is in it.
    first = trace.stage_ranges[0]
    assert first.low_pence is not None and first.high_pence is not None
    assert first.low_pence - 1 <= provider.budget_pence <= first.high_pence + 1
    widths = [
        r.high_pence - r.low_pence
        for r in trace.stage_ranges
        if r.low_pence is not None and r.high_pence is not None
    ]
    assert all(later <= earlier + 100 for earlier, later in itertools.pairwise(widths))
    assert widths[0] > 100_000_000  # fairness alone leaves millions free to move


def test_a_place_is_traced_to_its_fair_share_target(
    realistic: Scenario, result: AllocationResult
) -> None:
    place = result.places[0]
    trace = trace_figure(result, realistic, f"place {place.unit_id}")
    system = sum(u.weighted_population for u in result.places)
    expected = place.weighted_population * result.pot.capitated_pence / system
    assert trace.target_pence == place.target_pence
    assert trace.target_pence == pytest.approx(expected, abs=100)
    assert trace.distance_from_target_pence == place.allocation_pence - place.target_pence
    assert sum(trace.parts_pence.values()) == place.allocation_pence
    binding = {(r.block, r.unit_id) for r in result.rules if r.binding}
    assert all((b.block, place.unit_id) in binding for b in trace.binding_rules)


def test_an_unknown_figure_names_the_known_ones(
    realistic: Scenario, result: AllocationResult
) -> None:
    with pytest.raises(FigureNotFound, match="the providers are: NTH"):
        trace_figure(result, realistic, "provider Nowhere")
    with pytest.raises(FigureNotFound, match="provider ID"):
        trace_figure(result, realistic, "budget of NTH")
