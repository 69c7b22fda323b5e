"""Fair-share targets (spec section 3).

Target of a unit = capitated pot × its weighted population ÷ the scenario's weighted
population. Targets are published in pence and apportioned top down by largest
remainder (systems from the pot, places from their system, neighbourhoods from their
place), so every level sums exactly to the level above and to the pot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.domain.arrays import ScenarioArrays
from allocator.domain.pot import pot_breakdown
from allocator.domain.rounding import largest_remainder, largest_remainder_by_group
from allocator.types import FloatArray, IntArray, NumArray, group_sum


@dataclass(frozen=True)
class LevelTargets:
    """Targets of one level (systems, places or neighbourhoods)."""

    ids: list[str]
    headcount: FloatArray
    weighted_population: FloatArray
    target_pence: IntArray

    @property
    def target_share(self) -> FloatArray:
        share: FloatArray = self.weighted_population / self.weighted_population.sum()
        return share

    @property
    def need_index(self) -> FloatArray:
        """Weighted population per head relative to the whole scenario (1.0 = average)."""
        overall = self.weighted_population.sum() / self.headcount.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            index: FloatArray = np.where(
                self.headcount > 0, self.weighted_population / self.headcount / overall, np.nan
            )
        return index

    def distance_from_target(self, allocation_pence: NumArray) -> FloatArray:
        """(allocation − target) ÷ target, per unit."""
        target = self.target_pence.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            distance: FloatArray = np.where(
                target > 0, (np.asarray(allocation_pence) - target) / target, np.nan
            )
        return distance


@dataclass(frozen=True)
class Targets:
    capitated_pot_pence: int
    systems: LevelTargets
    places: LevelTargets
    neighbourhoods: LevelTargets


def compute_targets(arrays: ScenarioArrays, capitated_pot_pence: int | None = None) -> Targets:
    """Fair-share targets of every system, place and neighbourhood, in exact pence."""
    pot = (
        pot_breakdown(arrays.scenario).capitated_pence
        if capitated_pot_pence is None
        else capitated_pot_pence
    )
    neighbourhood_heads = arrays.headcount.sum(axis=1)
    place_heads = group_sum(arrays.neighbourhood_place, neighbourhood_heads, len(arrays.place_ids))
    system_heads = group_sum(arrays.place_system, place_heads, len(arrays.system_ids))

    system_target = largest_remainder(pot, arrays.system_wp)
    place_target = largest_remainder_by_group(system_target, arrays.place_system, arrays.place_wp)
    neighbourhood_target = largest_remainder_by_group(
        place_target, arrays.neighbourhood_place, arrays.neighbourhood_wp
    )
    return Targets(
        capitated_pot_pence=pot,
        systems=LevelTargets(arrays.system_ids, system_heads, arrays.system_wp, system_target),
        places=LevelTargets(arrays.place_ids, place_heads, arrays.place_wp, place_target),
        neighbourhoods=LevelTargets(
            arrays.neighbourhood_ids,
            neighbourhood_heads,
            arrays.neighbourhood_wp,
            neighbourhood_target,
        ),
    )
