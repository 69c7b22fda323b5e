"""Each stage's own figure for the published allocation, after rounding to pence.

A stage reports the optimum the solver reached; the published allocation is that point
rounded to whole pence, so its own figures (largest shortfall, sum of shortfalls, value,
change from baseline) can differ by a few pence. These are recomputed from the published
figures of the result, not from the solver's values.
"""

from __future__ import annotations

import numpy as np

from allocator.formulation.formulate import PENCE_PER_UNIT, Formulation
from allocator.publish.pence_plan import PencePlan
from allocator.types import Stage
from models import FairShareForm, UnitLevel
from models.results import AllocationResult, StageReport


def _fairness_levels(f: Formulation) -> list[UnitLevel]:
    s = f.scenario
    levels = [r.level for r in s.fair_shares if r.form is FairShareForm.CONVERGE]
    return list(dict.fromkeys(levels or [s.objective.fairness_level]))


def published_figures(
    f: Formulation, plan: PencePlan, result: AllocationResult
) -> dict[str, float]:
    """The published allocation's figure for every stage that has one, in the stage's unit."""
    units = {
        UnitLevel.SYSTEM: result.systems,
        UnitLevel.PLACE: result.places,
        UnitLevel.NEIGHBOURHOOD: result.neighbourhoods,
    }
    largest, total = 0.0, 0
    for level in _fairness_levels(f):
        for u in units[level]:
            if u.target_pence > 0:
                short = max(0, u.target_pence - (u.allocation_pence or 0))
                largest = max(largest, short / u.target_pence)
                total += short
    figures = {
        Stage.FAIRNESS_MAX.value: largest,
        Stage.FAIRNESS_SUM.value: total / 100,
        Stage.VALUE.value: result.value_total,
    }
    rows = f.program.rows
    if "stability.cell" in rows:
        baseline = f.program.row_lo[rows["stability.cell"].positions] * PENCE_PER_UNIT
        figures[Stage.STABILITY.value] = float(np.abs(plan.cell_pence - baseline).sum()) / 100
    return figures


def with_published_figures(
    f: Formulation, plan: PencePlan | None, result: AllocationResult
) -> AllocationResult:
    """The result with each stage report's ``published`` figure filled in."""
    if plan is None:
        return result
    figures = published_figures(f, plan, result)
    stages: list[StageReport] = [
        s.model_copy(update={"published": figures.get(s.stage)}) for s in result.stages
    ]
    return result.model_copy(update={"stages": stages})
