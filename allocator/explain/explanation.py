"""Attach shadow prices to binding rules and build the allocation's `Explanation`."""

from __future__ import annotations

import numpy as np

from allocator.backends.interface import SolveOptions
from allocator.explain.shadow import (
    DualSet,
    pool_effects,
    row_relaxation_effects,
    stage_duals,
)
from allocator.formulation.formulate import PENCE_PER_UNIT, Formulation
from allocator.publish.rule_lines import RuleRow
from allocator.stages.sequence import SequenceOutcome
from allocator.types import RowFamily, Stage
from models.enums import REFERENCE_RATE_GBP
from models.results import Explanation, PoolMarginal, RuleLine, SchemeCost

GBP_PER_UNIT = PENCE_PER_UNIT / 100  # £ per solver unit


def _headline(duals: DualSet) -> str:
    names = [s.stage for s in duals.stages]
    for preferred in (Stage.VALUE, Stage.WEIGHTED, Stage.FAIRNESS_SUM):
        if preferred in names:
            return preferred
    return names[-1]


def explain(
    f: Formulation,
    outcome: SequenceOutcome,
    rows: list[RuleRow],
    backend: str,
    options: SolveOptions,
    *,
    with_pool: bool = True,
) -> tuple[Explanation | None, list[RuleLine]]:
    """Shadow prices of the binding rules, the value of £1 more per funder, scheme reduced costs."""
    duals = stage_duals(f, outcome, backend, options)
    lines = [r.line for r in rows]
    if duals is None:
        return None, lines
    headline = _headline(duals)
    h = duals.stage(headline)
    fair = duals.stage(Stage.FAIRNESS_SUM)
    assert h is not None
    m = f.program.num_rows
    row_idx = np.array([r.row for r in rows], dtype=np.int64)
    y_head = duals.stages[h].row_duals[row_idx] if rows else np.zeros(0)
    # Relax: lower an active lower bound, raise an active upper bound (equalities: the helpful way).
    direction = np.array(
        [
            -1.0
            if (r.at_lower and not r.at_upper) or (r.at_lower and r.at_upper and y > 0)
            else 1.0
            for r, y in zip(rows, y_head, strict=True)
        ]
    )
    effects = row_relaxation_effects(duals, m, row_idx, direction)
    value_per_gbp = -effects[h] / GBP_PER_UNIT
    fair_per_gbp = -effects[fair] if fair is not None else None
    baseline = {p.provider_id: p.baseline_pence for p in f.scenario.providers}
    unit = "value units per £" if headline in (Stage.VALUE, Stage.WEIGHTED) else f"{headline} per £"
    out_lines = []
    for k, r in enumerate(rows):
        pp = None
        if (
            RowFamily.of(r.line.block) in (RowFamily.PACE_FLOOR, RowFamily.PACE_CAP)
            and r.line.unit_id in baseline
        ):
            pp = float(value_per_gbp[k] * baseline[r.line.unit_id] / 100 / 100)
        out_lines.append(
            r.line.model_copy(
                update={
                    "shadow_price": float(value_per_gbp[k]),
                    "shadow_price_unit": unit,
                    "fairness_per_gbp": None if fair_per_gbp is None else float(fair_per_gbp[k]),
                    "value_per_percentage_point": pp,
                }
            )
        )
    pool = []
    if with_pool:
        for funder_id, eff in pool_effects(f, duals).items():
            pool.append(
                PoolMarginal(
                    funder_id=funder_id,
                    value_per_gbp=None if eff is None else float(-eff[h]),
                    fairness_per_gbp=None
                    if eff is None or fair is None
                    else float(-eff[fair] * GBP_PER_UNIT),
                )
            )
    explanation = Explanation(
        duals_from="lp with integer decisions fixed" if duals.fixed_integers else "lp",
        headline_stage=headline,
        value_unit=unit,
        pool=pool,
        schemes=_scheme_costs(f, duals, h),
        notes=_notes(duals),
    )
    return explanation, out_lines


def _scheme_costs(f: Formulation, duals: DualSet, h: int) -> list[SchemeCost]:
    schemes = f.scenario.schemes
    if not schemes:
        return []
    block = f.program.cols["scheme.units"]
    st = duals.stages[h]
    units = np.rint(st.x[block.positions])
    rate = (
        f.scenario.objective.gbp_per_value_unit
        or REFERENCE_RATE_GBP[f.scenario.objective.reference_rate]
    )
    out = []
    for k, scheme in enumerate(schemes):
        if units[k] > 0 or scheme.cost_per_unit_pence == 0:
            continue
        # Reduced cost of one more unit in the headline stage (objective = −value): value it would lack.
        needed = max(float(st.reduced_costs[block.start + k]), 0.0)
        per_gbp = needed / (scheme.cost_per_unit_pence / 100)
        out.append(
            SchemeCost(
                scheme_id=scheme.scheme_id,
                name=scheme.name,
                value_needed_per_unit=needed,
                value_needed_per_gbp=per_gbp,
                gbp_value_needed_per_gbp=per_gbp * rate,
            )
        )
    return out


def _notes(duals: DualSet) -> list[str]:
    notes = [
        "Shadow prices are read from the last stage that optimises value, with earlier stages' "
        "optima held; relaxing a rule may also move fairness first, and the figures include that."
    ]
    if duals.fixed_integers:
        notes.append(
            "This is a mixed-integer model: duals come from the linear program with the whole-or-nothing "
            "decisions (schemes, viability) fixed at their optimum."
        )
    return notes + duals.notes
