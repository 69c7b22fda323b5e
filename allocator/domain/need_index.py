"""Need indices relative to the whole scenario (England, for a national one) or to each unit's system.

Need index = (weighted population ÷ headcount) of the unit ÷ the same ratio of the
reference. `allocator.domain.targets.LevelTargets.need_index` is the whole-scenario view;
the parent view divides a place's or neighbourhood's ratio by its system's (a system's
parent is the whole scenario), as NHS England's place-based allocation tool shows them.
"""

from __future__ import annotations

import numpy as np

from allocator.domain.arrays import ScenarioArrays
from allocator.domain.targets import LevelTargets, Targets
from allocator.types import FloatArray


def _ratio(level: LevelTargets) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio: FloatArray = np.where(
            level.headcount > 0, level.weighted_population / level.headcount, np.nan
        )
    return ratio


def parent_need_index(arrays: ScenarioArrays, targets: Targets, level: str) -> FloatArray:
    """Need index of each unit of ``level`` (system, place, neighbourhood) relative to its system."""
    if level == "system":
        return targets.systems.need_index
    units, system_of = (
        (targets.places, arrays.place_system)
        if level == "place"
        else (targets.neighbourhoods, arrays.neighbourhood_system)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        index: FloatArray = _ratio(units) / _ratio(targets.systems)[system_of]
    return index
