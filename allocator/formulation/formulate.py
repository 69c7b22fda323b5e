"""Scenario -> `Formulation`: the one solver-neutral program plus what maps it back.

The build is a list of small `build_*` steps, one rule family each, in the modules
`pool` (cells, funder flows, conservation), `share` (schemes, viability, capacity,
payments), `rules` (pace of change, minimum spends, fair-share bands), `fairness`,
`value` and `stability`; `context` holds what they share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np

from allocator.arrays import ScenarioArrays
from allocator.formulation import fairness, pool, rules, share, stability, value
from allocator.formulation.builder import Expr
from allocator.formulation.context import (
    ELASTIC,
    INTERNAL_PREFIXES,
    PENCE_PER_UNIT,
    BuildContext,
    is_rule_block,
)
from allocator.formulation.program import LinearProgram
from allocator.pool import PotBreakdown
from allocator.targets import Targets
from allocator.types import FloatArray, IntArray
from models import (
    Scenario,
    UnitLevel,
)

Extension: TypeAlias = Callable[[BuildContext], None]
"""Adds more columns and rows to a build (before the program is assembled)."""


@dataclass
class Formulation:
    """The program, each stage's objective, and the maps back to the domain."""

    scenario: Scenario
    arrays: ScenarioArrays
    pot: PotBreakdown
    targets: Targets
    program: LinearProgram
    objectives: dict[str, FloatArray]
    fairness_units: list[tuple[UnitLevel, IntArray]]
    provider_total: Expr  # solver units, pass-through included as a constant
    unit_total: dict[UnitLevel, Expr]
    cell_baseline_pence: FloatArray
    place_baseline_pence: FloatArray
    pass_through_pence: IntArray  # per provider
    scheme_provider: IntArray
    scheme_segment: IntArray
    scheme_place: IntArray
    rule_names: dict[str, list[str]] = field(default_factory=dict)  # row block -> names per row
    extension: Extension | None = None  # what `formulate` was extended with (re-used by re-builds)


def formulate(
    scenario: Scenario, *, elastic: bool = False, extend: Extension | None = None
) -> Formulation:
    """Build the program and stage objectives of a (valid) scenario.

    ``elastic`` turns every hard rule into a soft one whose breach (in £) is the
    objective of the stage "elastic": the least change that makes the rules consistent.
    ``extend`` is called last with the build, to add rule families that are not part of
    the scenario (e.g. CVaR limits over sampled outturns, `allocator.riskshare.aware`).
    """
    build = BuildContext(scenario, elastic)
    pool.build_cells(build)
    share.build_schemes(build)
    share.build_required_schemes(build)
    pool.build_funding(build)
    share.build_viability_columns(build)
    share.build_expressions(build)
    pool.build_conservation(build)
    share.build_capacity_and_viability(build)
    share.build_payments(build)
    rules.build_pace_of_change(build)
    rules.build_minimum_spends(build)
    rules.build_fair_shares(build)
    fairness.build_fairness(build)
    value.build_value_curves(build)
    stability.build_stability(build)
    if extend is not None:
        extend(build)
    program = build.b.build()
    stages = ("elastic", "soft", "fairness_max", "fairness_sum", "value", "stability")
    objectives = {stage: build.b.objective_vector(stage) for stage in stages}
    n = program.num_cols
    return Formulation(
        scenario=scenario,
        arrays=build.a,
        pot=build.pot,
        targets=build.targets,
        program=program,
        objectives={
            k: v[:n] if v.size >= n else np.pad(v, (0, n - v.size)) for k, v in objectives.items()
        },
        fairness_units=build.fairness_units,
        provider_total=build.provider_total.padded(n),
        unit_total={k: v.padded(n) for k, v in build.unit_total.items()},
        cell_baseline_pence=build.cell_baseline,
        place_baseline_pence=build.place_baseline,
        pass_through_pence=build.pass_through,
        scheme_provider=build.scheme_provider,
        scheme_segment=build.scheme_segment,
        scheme_place=build.scheme_place,
        rule_names=build.rule_names,
        extension=extend,
    )


__all__ = [
    "ELASTIC",
    "INTERNAL_PREFIXES",
    "PENCE_PER_UNIT",
    "Extension",
    "Formulation",
    "formulate",
    "is_rule_block",
]
