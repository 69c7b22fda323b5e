"""Scenario -> `Formulation`: the one solver-neutral program plus what maps it back.

The build is a list of small `build_*` steps, one module per rule family: `funding`
(cells, funder flows under ring-fences, conservation), `schemes`, `capacity` (provider
totals, capacity and viability), `payments`, `pace_of_change`, `minimum_spends`,
`fair_shares` (bands), `fairness` (max-min on distance from target), `value` and
`stability`; `context` holds what they share. `docs/rules.md` maps every rule to its step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np

from allocator.domain.arrays import ScenarioArrays
from allocator.domain.pot import PotBreakdown
from allocator.domain.targets import Targets
from allocator.formulation import (
    capacity,
    entitlements,
    fair_shares,
    fairness,
    funding,
    minimum_spends,
    pace_of_change,
    payments,
    schemes,
    stability,
    value,
)
from allocator.formulation.builder import BuilderMark, BuilderTail, Expr, ProgramBuilder
from allocator.formulation.context import (
    ELASTIC,
    PENCE_PER_UNIT,
    BuildContext,
    Cells,
    Flows,
    Schemes,
    Switches,
    Totals,
    is_rule_block,
)
from allocator.formulation.entitlements import Lapses
from allocator.formulation.program import LinearProgram
from allocator.types import FloatArray, IntArray, Stage
from models import (
    Scenario,
    UnitLevel,
)

Extension: TypeAlias = Callable[[BuildContext, Totals], None]
"""Adds more columns and rows to a build (before the program is assembled), given the totals."""


@dataclass
class Formulation:
    """The program, each stage's objective, and the maps back to the domain."""

    scenario: Scenario
    arrays: ScenarioArrays
    pot: PotBreakdown
    targets: Targets
    program: LinearProgram
    objectives: dict[Stage, FloatArray]
    fairness_units: list[tuple[UnitLevel, IntArray]]
    provider_total: Expr  # solver units, pass-through included as a constant
    unit_total: dict[UnitLevel, Expr]
    place_baseline_pence: FloatArray
    pass_through_pence: IntArray  # per provider
    scheme_provider: IntArray
    scheme_segment: IntArray
    scheme_place: IntArray
    rule_names: dict[str, list[str]] = field(default_factory=dict)  # row block -> names per row
    extension: Extension | None = None  # what `formulate` was extended with (re-used by re-builds)
    # The first steps of the build, which funders' amounts do not touch: re-used by the
    # re-builds with one funder's amount moved (`formulate(..., reuse=...)`).
    prefix: BuildPrefix | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class BuildPrefix:
    """A build after its first steps (cells, schemes, funder flows, viability switches,
    totals, lapse columns): none of them reads a funder's amount, the pot or the targets."""

    scenario: Scenario
    elastic: bool
    headroom: bool
    builder: ProgramBuilder
    mark: BuilderMark
    rule_names: dict[str, list[str]]
    parts: tuple[Cells, Schemes, Flows, Switches, Totals, Lapses]
    # The last steps (value curves, stability) read only the cells: what they added, and
    # their rules' names, taken as they are by a re-build that reached the same point.
    tail: BuilderTail
    tail_names: dict[str, list[str]]

    def fits(self, scenario: Scenario, elastic: bool, headroom: bool) -> bool:
        """Whether ``scenario`` is this prefix's scenario with only funders' amounts moved.

        Every other field must be the very same object (as `model_copy` leaves them),
        and each funder the same but for its amount.
        """
        base = self.scenario
        if (elastic, headroom) != (self.elastic, self.headroom):
            return False
        if any(
            getattr(scenario, name) is not getattr(base, name)
            for name in type(base).model_fields
            if name != "funders"
        ):
            return False
        return len(scenario.funders) == len(base.funders) and all(
            mine.model_copy(update={"amount_pence": theirs.amount_pence}) == theirs
            for mine, theirs in zip(scenario.funders, base.funders, strict=True)
        )


def formulate(
    scenario: Scenario,
    *,
    elastic: bool = False,
    extend: Extension | None = None,
    headroom: bool = True,
    reuse: BuildPrefix | None = None,
) -> Formulation:
    """Build the program and stage objectives of a (valid) scenario.

    ``elastic`` turns every hard rule into a soft one whose breach (in £) is the
    objective of the stage "elastic": the least change that makes the rules consistent.
    ``extend`` is called last with the build and the totals, to add rule families that are not part of
    the scenario (e.g. CVaR limits over sampled outturns, `allocator.riskaware.aware`).
    ``reuse`` is another build's prefix: taken as it is when this scenario differs from
    that one only in funders' amounts (`BuildPrefix.fits`), so the program is the same as
    a build from scratch, array for array.
    """
    build = BuildContext(scenario, elastic, headroom)
    reused = reuse is not None and reuse.fits(scenario, elastic, build.headroom)
    if reuse is not None and reused:
        build.b = reuse.builder.upto(reuse.mark)
        build.rule_names = dict(reuse.rule_names)
        cells, scheme_cols, flows, switches, totals, lapses = reuse.parts
    else:
        cells = funding.build_cells(build)
        scheme_cols = schemes.build_schemes(build)
        schemes.build_required_schemes(build, scheme_cols)
        flows = funding.build_funding(build)
        switches = capacity.build_viability_columns(build)
        totals = capacity.build_totals(build, cells, scheme_cols)
        lapses = entitlements.build_lapse_columns(build)
    parts = (cells, scheme_cols, flows, switches, totals, lapses)
    mark = build.b.mark()  # a copy of the lists up to here: the later steps' rows are not kept
    prefix_builder, prefix_names = build.b.upto(mark), dict(build.rule_names)
    funding.build_conservation(build, cells, scheme_cols, flows, lapses.by_funder(build))
    entitlements.build_entitlements(build, cells, flows, lapses)
    capacity.build_capacity_and_viability(build, totals, switches, flows)
    block_providers = payments.build_payments(build, totals)
    place_baseline = pace_of_change.build_pace_of_change(build, cells, totals, block_providers)
    minimum_spends.build_minimum_spends(build, cells, scheme_cols, flows)
    fair_shares.build_fair_shares(build, totals)
    fairness_units = fairness.build_fairness(build, totals)
    before, names_before = build.b.mark(), set(build.rule_names)
    if reuse is not None and reused and before == reuse.tail.start:
        build.b.append(reuse.tail)
        build.rule_names.update(reuse.tail_names)
    else:
        value.build_value_curves(build, cells)
        stability.build_stability(build, cells)
    prefix = BuildPrefix(
        scenario,
        elastic,
        build.headroom,
        prefix_builder,
        mark,
        prefix_names,
        parts,
        build.b.since(before),
        {k: v for k, v in build.rule_names.items() if k not in names_before},
    )
    if extend is not None:
        extend(build, totals)
    program = build.b.build()
    stages = (Stage.ELASTIC, Stage.SOFT, Stage.FAIRNESS_MAX, Stage.FAIRNESS_SUM, Stage.VALUE)
    objectives = {stage: build.b.objective_vector(stage) for stage in (*stages, Stage.STABILITY)}
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
        fairness_units=fairness_units,
        provider_total=totals.provider.padded(n),
        unit_total={k: v.padded(n) for k, v in totals.unit.items()},
        place_baseline_pence=place_baseline,
        pass_through_pence=cells.pass_through_pence,
        scheme_provider=scheme_cols.provider,
        scheme_segment=scheme_cols.segment,
        scheme_place=scheme_cols.place,
        rule_names=build.rule_names,
        extension=extend,
        prefix=prefix,
    )


__all__ = [
    "ELASTIC",
    "PENCE_PER_UNIT",
    "Extension",
    "Formulation",
    "formulate",
    "is_rule_block",
]
