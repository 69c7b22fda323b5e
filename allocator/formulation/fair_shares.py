"""Fair-share bands: each place or neighbourhood within a band of its target (hard or soft)."""

from __future__ import annotations

import numpy as np

from allocator.formulation.context import (
    BuildContext,
    Totals,
    soft_spec,
    to_units,
)
from allocator.formulation.index import Labels
from allocator.types import RowFamily
from models import (
    FairShareForm,
    UnitLevel,
)


def build_fair_shares(ctx: BuildContext, totals: Totals) -> None:
    for rule in ctx.scenario.fair_shares:
        if rule.form is not FairShareForm.BAND:
            continue
        assert rule.band_share is not None
        level_targets = ctx.level_targets(rule.level)
        target = level_targets.target_pence.astype(np.float64)
        expr = totals.unit[rule.level]
        margin = 0.0 if rule.level is not UnitLevel.NEIGHBOURHOOD else ctx.neighbourhood_margin()
        lo = np.ceil(target * (1.0 - rule.band_share)) + margin
        hi = np.floor(target * (1.0 + rule.band_share)) - margin
        ids = level_targets.ids
        ctx.rows(
            RowFamily.FAIR_SHARE_BAND.block(rule.rule_id),
            Labels.of(unit_id=ids, rule_id=rule.rule_id),
            expr,
            to_units(lo),
            to_units(hi),
            [f"fair-share band ±{rule.band_share:.1%} ({rule.level.value}), {u}" for u in ids],
            soft_spec(rule),
        )
