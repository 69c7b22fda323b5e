"""Trace one published figure: its parts, target, rules, the stage that fixed it, rounding."""

from __future__ import annotations

import itertools

import pytest

from allocator.errors import AllocatorError
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


def test_a_neighbourhood_is_reproduced_from_its_providers(
    realistic: Scenario, result: AllocationResult
) -> None:
    unit = result.neighbourhoods[0]
    trace = trace_figure(result, realistic, f"neighbourhood {unit.unit_id}")
    assert trace.published_pence == unit.allocation_pence
    assert sum(trace.parts_pence.values()) == unit.allocation_pence
    by_provider = {c.provider_id: 0 for c in result.cells if c.neighbourhood_id == unit.unit_id}
    for c in result.cells:
        if c.neighbourhood_id == unit.unit_id:
            by_provider[c.provider_id] += c.budget_pence
    for provider, pence in by_provider.items():
        assert trace.parts_pence[f"provider {provider}"] == pence
    assert trace.target_pence == unit.target_pence
    assert abs(trace.rounding_pence) < 100


def test_a_cell_is_its_share_of_the_place_cell(
    realistic: Scenario, result: AllocationResult
) -> None:
    cell = max(result.cells, key=lambda c: c.budget_pence)
    name = f"cell {cell.provider_id}, {cell.neighbourhood_id}, {cell.segment_id}"
    trace = trace_figure(result, realistic, name)
    assert trace.published_pence == cell.budget_pence
    assert sum(trace.parts_pence.values()) == cell.budget_pence
    place = next(u for u in result.neighbourhoods if u.unit_id == cell.neighbourhood_id).parent_id
    whole = next(v for k, v in trace.parts_pence.items() if k.endswith(f"in place {place}"))
    provider = next(p for p in result.providers if p.provider_id == cell.provider_id)
    assert whole <= provider.by_segment_pence[cell.segment_id]
    assert abs(trace.rounding_pence) < 100
    assert trace.fixed_by_stage == "tie_break" or trace.fixed_by_stage in {
        s.stage for s in result.stages
    }


def test_a_flow_is_the_segment_money_less_the_other_sources(
    realistic: Scenario, result: AllocationResult
) -> None:
    flow = max(result.flows, key=lambda f: f.amount_pence)
    trace = trace_figure(
        result, realistic, f"flow {flow.funder_id} -> {flow.provider_id}/{flow.segment_id}"
    )
    assert trace.published_pence == flow.amount_pence
    assert sum(trace.parts_pence.values()) == flow.amount_pence
    provider = next(p for p in result.providers if p.provider_id == flow.provider_id)
    assert (
        trace.parts_pence[f"{flow.provider_id}'s {flow.segment_id} money"]
        == (provider.by_segment_pence[flow.segment_id])
    )
    assert abs(trace.rounding_pence) < 100


def test_finer_figures_name_what_is_wrong(realistic: Scenario, result: AllocationResult) -> None:
    with pytest.raises(AllocatorError, match="cell PROVIDER NEIGHBOURHOOD SEGMENT"):
        trace_figure(result, realistic, "cell NTH NB-Central")
    with pytest.raises(AllocatorError, match="the segments are"):
        trace_figure(result, realistic, "flow ICB NTH nosuch")
    with pytest.raises(AllocatorError, match="the neighbourhoods are: NB-Central"):
        trace_figure(result, realistic, "neighbourhood Nowhere")
