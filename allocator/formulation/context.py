"""Shared state of one build, and the small helpers every build step uses.

Money in the program is in millions of pounds (`PENCE_PER_UNIT`). A national pot is then
about 1e5 and a neighbourhood's target about 1, next to the share coefficients (about 1)
of the fairness rows, so a solver's absolute tolerance of 1e-7 (10p) means the same thing
on every row. In £ thousands the right-hand sides reached 1e8 and a 1e-7 tolerance was
1e-15 relative: HiGHS then reported a fixed-integer fairness LP "optimal" 78% above its
true optimum at national size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from allocator.domain.arrays import ScenarioArrays
from allocator.domain.pot import pot_breakdown
from allocator.domain.targets import LevelTargets, compute_targets
from allocator.errors import Issue
from allocator.formulation.builder import Expr, ProgramBuilder, SoftSpec, as_csr
from allocator.formulation.index import Block, Labels
from allocator.types import FloatArray, IntArray, RowFamily, Stage
from models import (
    Scenario,
    UnitLevel,
)
from models.funding import SoftRule

if TYPE_CHECKING:
    import pandas as pd

PENCE_PER_UNIT = 100_000_000  # the program counts money in £ millions
# Elastic mode: £1 of breach of any hard rule costs 1; leaving pooled money unspent costs more,
# so the diagnosis prefers relaxing the rules that stop it being spent.
ELASTIC = SoftSpec(1.0, stage=Stage.ELASTIC)
# Conservation rows: "over" is money the pool lacks (raise the pot), "under" money it cannot spend.
ELASTIC_POOL = SoftSpec(10.0, stage=Stage.ELASTIC, over_penalty=1.0)


def is_rule_block(name: str) -> bool:
    """Whether a row block holds rules a user set (not accounting identities or stage machinery)."""
    return RowFamily.of(name).is_rule


def to_units(pence: FloatArray | IntArray | float) -> FloatArray:
    return np.asarray(pence, dtype=np.float64) / PENCE_PER_UNIT


def soft_spec(rule: SoftRule) -> SoftSpec | None:
    # penalty_per_gbp is in value units per £; the program counts £ millions.
    return None if rule.hard else SoftSpec(rule.penalty_per_gbp * (PENCE_PER_UNIT / 100))


class BuildContext:
    """What the build steps share: the scenario, its arrays, the builder and the blocks added so far."""

    def __init__(self, scenario: Scenario, elastic: bool = False, headroom: bool = True) -> None:
        self.scenario = scenario
        self.elastic = elastic
        # Rounding headroom (minimum spends, entitlements): off in the elastic diagnosis and
        # in the re-solve of a scenario that the headroom alone makes infeasible.
        self.headroom = headroom and not elastic
        self.a = ScenarioArrays.from_scenario(scenario)
        self.pot = pot_breakdown(scenario)
        self.targets = compute_targets(self.a, self.pot.capitated_pence)
        self.b = ProgramBuilder()
        self.rule_names: dict[str, list[str]] = {}
        self.issues: list[Issue] = []
        self.provider_at = {pid: k for k, pid in enumerate(self.a.provider_ids)}
        self.segment_at = {sid: k for k, sid in enumerate(self.a.segment_ids)}
        self.place_at = {pid: k for k, pid in enumerate(self.a.place_ids)}
        self.funder_at = {fid: k for k, fid in enumerate(self.a.funder_ids)}
        self.kind_of = np.array(self.a.provider_kind)

    def rows(
        self,
        name: str,
        labels: Labels | pd.DataFrame,
        expr: Expr,
        lo: FloatArray | float,
        hi: FloatArray | float,
        names: list[str] | None,
        soft: SoftSpec | None = None,
    ) -> None:
        if self.elastic and soft is None:
            if is_rule_block(name):
                soft = ELASTIC
            elif name == RowFamily.CONSERVATION_FUNDER:
                soft = ELASTIC_POOL
        block = self.b.add_rows(name, labels, expr, lo, hi, soft)
        if block is not None and names is not None:
            self.rule_names[name] = names

    def level_targets(self, level: UnitLevel) -> LevelTargets:
        return {
            UnitLevel.SYSTEM: self.targets.systems,
            UnitLevel.PLACE: self.targets.places,
            UnitLevel.NEIGHBOURHOOD: self.targets.neighbourhoods,
        }[level]

    def neighbourhood_margin(self) -> FloatArray:
        """Pence of rounding headroom per neighbourhood (one per cell it shares)."""
        _, neighbourhood, _ = self.a.cell_neighbourhoods
        return np.bincount(neighbourhood, minlength=len(self.a.neighbourhood_ids)).astype(
            np.float64
        )

    def provider_name(self, provider_id: str) -> str:
        provider = self.scenario.providers[self.provider_at[provider_id]]
        return provider.name or provider.provider_id

    def system_name(self, system_id: str) -> str:
        system = next(x for x in self.scenario.systems if x.system_id == system_id)
        return system.name or system.system_id

    def place_name(self, place_id: str) -> str:
        place = self.scenario.places[self.place_at[place_id]]
        return place.name or place.place_id


@dataclass(frozen=True)
class Cells:
    """The allocation columns, one per (provider, place, segment) cell, and last year's money.

    ``baseline_pence`` is each cell's share of its provider's baseline less pass-through,
    spread by weighted population; ``pass_through_pence`` is per provider.
    """

    cols: Block
    pass_through_pence: IntArray
    baseline_pence: FloatArray


@dataclass(frozen=True)
class Schemes:
    """The whole-or-nothing scheme columns (units bought) and where each scheme sits."""

    cols: Block
    provider: IntArray
    segment: IntArray
    place: IntArray
    cost: FloatArray  # solver units per unit


@dataclass(frozen=True)
class Flows:
    """Funder -> (provider, segment) columns, only where the funder's ring-fences allow."""

    cols: Block
    funder: IntArray
    provider: IntArray
    segment: IntArray


@dataclass(frozen=True)
class Switches:
    """The viability binaries: one per provider with fixed costs (1 = funded at all)."""

    providers: IntArray
    cols: Block


@dataclass(frozen=True)
class Totals:
    """Each provider's budget (pass-through as a constant) and each unit's allocation."""

    provider: Expr
    unit: dict[UnitLevel, Expr]


def sp_scale_rows(matrix: sp.csr_array, factors: FloatArray) -> sp.csr_array:
    return as_csr(sp.diags_array(factors) @ matrix)


def sp_sum_rows(expr: Expr, group: IntArray, num_groups: int) -> Expr:
    agg = sp.csr_array(
        (np.ones(group.size), (group, np.arange(group.size))), shape=(num_groups, group.size)
    )
    return Expr(as_csr(agg @ expr.matrix), agg @ expr.constant)


def pass_through_items(ctx: BuildContext) -> tuple[IntArray, IntArray, IntArray]:
    """Every funder's pass-through items: provider, segment (-1 for any) and pence."""
    items = [item for funder in ctx.scenario.funders for item in funder.pass_through]
    provider = np.array([ctx.provider_at[item.provider_id] for item in items], dtype=np.int64)
    segment = np.array(
        [-1 if item.segment_id is None else ctx.segment_at[item.segment_id] for item in items],
        dtype=np.int64,
    )
    pence = np.array([item.amount_pence for item in items], dtype=np.int64)
    return provider, segment, pence
