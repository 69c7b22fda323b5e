"""Checks of a solved `import-nhse` scenario on its published pence, worked out independently.

Used by `tests/rules/test_nhse_national.py` on a few systems; the same checks were run
once on the national scenario.
"""

from __future__ import annotations

from fractions import Fraction

from allocator.publish.recheck import reconciliation_problems, rule_problems
from models import Scenario
from models.results import AllocationResult


def stream_totals(scenario: Scenario, result: AllocationResult) -> dict[str, int]:
    """Published budgets by stream: the general-practice placeholders carry the PMC stream."""
    totals = {"NHS": 0, "NHS-PMC": 0}
    for provider in result.providers:
        stream = "NHS-PMC" if provider.provider_id.endswith("-gp") else "NHS"
        totals[stream] += provider.budget_pence
        # Each stream's money funds only its own providers (the ring-fences).
        others = [v for f, v in provider.by_funder_pence.items() if f != stream]
        assert all(v == 0 for v in others), provider.provider_id
    return totals


def convergence_outcomes(scenario: Scenario, result: AllocationResult) -> dict[str, str]:
    """Each system's allocation against the convergence rule, by hand in exact fractions.

    Over target: exactly ⌊b × (1 + floor) − κ × (b − t)⌋; otherwise at least ⌈b × (1 + floor)⌉.
    Returns 'held' or 'floor' per system; raises AssertionError on a miss.
    """
    (rule,) = scenario.pace_of_change
    kappa = Fraction(repr(rule.convergence_share))
    floor = Fraction(repr(rule.floor_growth_share or 0.0))
    baseline: dict[str, int] = {}
    for place in scenario.places:
        assert place.baseline_pence is not None
        baseline[place.system_id] = baseline.get(place.system_id, 0) + place.baseline_pence
    out: dict[str, str] = {}
    for line in result.systems:
        b, t, a = baseline[line.unit_id], line.target_pence, line.allocation_pence
        assert a is not None
        grown = b * (1 + floor)
        if b > t:
            expected = (grown - kappa * (b - t)).__floor__()
            assert a == expected, (line.unit_id, a, expected)
            out[line.unit_id] = "held"
        else:
            assert a >= grown.__ceil__(), (line.unit_id, a, grown)
            out[line.unit_id] = "floor"
    return out


def mental_health_margins(scenario: Scenario, result: AllocationResult) -> dict[str, int]:
    """NHS core money to each system's mental-health provider less ⌈baseline × (1 + growth)⌉."""
    budgets = {p.provider_id: p for p in result.providers}
    out: dict[str, int] = {}
    for rule in scenario.minimum_spends:
        system = rule.rule_id.removeprefix("mhis-")
        assert rule.baseline_pence is not None
        required = (rule.baseline_pence * (1 + Fraction(repr(rule.min_growth_share)))).__ceil__()
        nhs = budgets[f"{system}-mh"].by_funder_pence.get("NHS", 0)
        out[system] = nhs - required
        assert out[system] >= 0, (system, nhs, required)
    return out


def published_problems(scenario: Scenario, result: AllocationResult) -> list[str]:
    return reconciliation_problems(scenario, result) + rule_problems(scenario, result)
