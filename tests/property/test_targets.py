"""Properties of fair-share targets on constructed scenarios (hypothesis).

Every level's targets sum exactly to the capitated pot, each unit's children sum exactly to
it, and each unit's target is within a penny of its exact share of its parent's target
(so within 1, 2 and 3 pence of pot × weighted-population share at system, place and
neighbourhood level).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.domain.arrays import ScenarioArrays
from allocator.domain.pot import pot_breakdown
from allocator.domain.targets import LevelTargets, compute_targets
from models import Scenario


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    segments = [
        {"segment_id": f"g{j}", "cost_weight": draw(st.floats(0.1, 50.0))}
        for j in range(draw(st.integers(1, 3)))
    ]
    systems, places, hoods, populations, adjustments = [], [], [], [], []
    for i in range(draw(st.integers(1, 3))):
        systems.append({"system_id": f"S{i}"})
        for p in range(draw(st.integers(1, 3))):
            place = f"S{i}P{p}"
            places.append({"place_id": place, "system_id": f"S{i}"})
            for n in range(draw(st.integers(1, 4))):
                hood = f"{place}N{n}"
                hoods.append({"neighbourhood_id": hood, "place_id": place})
                for seg in segments:
                    heads = draw(st.one_of(st.just(0.0), st.floats(1.0, 200_000.0)))
                    populations.append({"neighbourhood_id": hood, "segment_id": seg["segment_id"],
                                        "headcount": heads})  # fmt: skip
                for _ in range(draw(st.integers(0, 2))):
                    adjustments.append(
                        {"neighbourhood_id": hood, "factor": draw(st.floats(0.5, 2.0))}
                    )
    # Every system has people, so every level has something to share.
    for system in systems:
        first = next(h for h in hoods if h["place_id"].startswith(system["system_id"] + "P"))
        populations.append({"neighbourhood_id": first["neighbourhood_id"],
                            "segment_id": segments[0]["segment_id"], "headcount": 1.0})  # fmt: skip
    provider = {
        "provider_id": "K",
        "kind": "other",
        "place_ids": [p["place_id"] for p in places],
        "segment_ids": [s["segment_id"] for s in segments],
        "baseline_pence": 0,
    }
    funders: list[dict[str, Any]] = []
    for f in range(draw(st.integers(1, 3))):
        amount = draw(st.integers(0, 10**13))
        funder: dict[str, Any] = {"funder_id": f"F{f}", "amount_pence": amount}
        if draw(st.booleans()):
            funder["pass_through"] = [
                {"provider_id": "K", "amount_pence": draw(st.integers(0, amount // 2))}
            ]
        funders.append(funder)
    reserve = draw(st.one_of(st.just({}), st.builds(lambda s: {"share": s}, st.floats(0.0, 0.05))))
    return Scenario.model_validate({
        "scenario_id": "property", "systems": systems, "places": places, "neighbourhoods": hoods,
        "segments": segments, "populations": populations, "local_adjustments": adjustments,
        "funders": funders, "reserve": reserve, "providers": [provider],
    })  # fmt: skip


def _quota_error(level: LevelTargets, parent_total: np.ndarray, parent_of: np.ndarray) -> float:
    """Largest |target − parent's target × weight ÷ parent's weight| over units, in pence."""
    parent_wp = np.bincount(
        parent_of, weights=level.weighted_population, minlength=parent_total.size
    )
    safe = np.where(parent_wp > 0, parent_wp, 1.0)[parent_of]
    quota = parent_total[parent_of] * level.weighted_population / safe
    return float(np.abs(level.target_pence - quota).max())


@settings(max_examples=50, deadline=None)
@given(scenarios())
def test_targets_add_up_exactly_and_follow_weighted_population(scenario: Scenario) -> None:
    arrays = ScenarioArrays.from_scenario(scenario)
    targets = compute_targets(arrays)
    pot = pot_breakdown(scenario).capitated_pence
    assert targets.capitated_pot_pence == pot
    levels = (targets.systems, targets.places, targets.neighbourhoods)
    for level in levels:
        assert level.target_pence.dtype == np.int64
        assert int(level.target_pence.sum()) == pot
        assert (level.target_pence >= 0).all()
    # Children sum exactly to their parent.
    by_place = np.bincount(arrays.neighbourhood_place, weights=targets.neighbourhoods.target_pence,
                           minlength=len(arrays.place_ids))  # fmt: skip
    assert np.array_equal(by_place.astype(np.int64), targets.places.target_pence)
    by_system = np.bincount(arrays.place_system, weights=targets.places.target_pence,
                            minlength=len(arrays.system_ids))  # fmt: skip
    assert np.array_equal(by_system.astype(np.int64), targets.systems.target_pence)
    # Within a penny of each unit's exact share of its parent.
    tolerance = 1.0 + 1e-6 * max(pot, 1) / 1e9
    single = np.zeros(len(arrays.system_ids), dtype=np.int64)
    assert _quota_error(targets.systems, np.array([pot], dtype=float), single) < tolerance
    places_err = _quota_error(
        targets.places, targets.systems.target_pence.astype(float), arrays.place_system
    )
    assert places_err < tolerance
    hoods_err = _quota_error(
        targets.neighbourhoods,
        targets.places.target_pence.astype(float),
        arrays.neighbourhood_place,
    )
    assert hoods_err < tolerance
    # Hence within 1, 2, 3 pence of pot × share at system, place, neighbourhood level.
    for depth, level in enumerate(levels, start=1):
        exact = pot * level.weighted_population / level.weighted_population.sum()
        assert np.abs(level.target_pence - exact).max() < depth + 1e-6 * max(pot, 1) / 1e9
