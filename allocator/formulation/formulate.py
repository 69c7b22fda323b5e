"""Scenario -> `Formulation`: the one solver-neutral program plus what maps it back.

The build is a list of small `build_*` steps (pool, share, rules, fairness, value,
stability), each adding one family of columns or rows to the `ProgramBuilder`.
Money in the program is in thousands of pounds (`PENCE_PER_UNIT`), which keeps the
coefficients of national scenarios well scaled while a solver tolerance of 1e-7 is
still a hundredth of a penny.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocator.arrays import ScenarioArrays
from allocator.errors import Issue, ScenarioInvalid
from allocator.formulation.builder import INF, Expr, ProgramBuilder, SoftSpec
from allocator.formulation.program import LinearProgram
from allocator.pool import PotBreakdown, pot_breakdown
from allocator.targets import LevelTargets, Targets, compute_targets
from allocator.types import FloatArray, IntArray
from models import (
    FairShareForm,
    ObjectiveStage,
    PaceForm,
    PaymentKind,
    Scenario,
    UnitLevel,
)
from models.funding import SoftRule

PENCE_PER_UNIT = 100_000  # the program counts money in £ thousands
# Row blocks that are accounting identities or stage machinery, not rules a user set.
INTERNAL_PREFIXES = ("conservation.", "stability.", "value.", "fairness.")
# Elastic mode: £1 of breach of any hard rule costs 1; leaving pooled money unspent costs more,
# so the diagnosis prefers relaxing the rules that stop it being spent.
ELASTIC = SoftSpec(1.0, stage="elastic")
# Conservation rows: "over" is money the pool lacks (raise the pot), "under" money it cannot spend.
ELASTIC_POOL = SoftSpec(10.0, stage="elastic", over_penalty=1.0)


def is_rule_block(name: str) -> bool:
    return not name.startswith(INTERNAL_PREFIXES)


LEVELS = (UnitLevel.SYSTEM, UnitLevel.PLACE, UnitLevel.NEIGHBOURHOOD)


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


def _to_units(pence: FloatArray | IntArray | float) -> FloatArray:
    return np.asarray(pence, dtype=np.float64) / PENCE_PER_UNIT


def _soft(rule: SoftRule) -> SoftSpec | None:
    # penalty_per_gbp is in value units per £; the program counts £ thousands.
    return None if rule.hard else SoftSpec(rule.penalty_per_gbp * 1000.0)


class _Build:
    """Holds the shared state of one build; each method adds one rule family."""

    def __init__(self, scenario: Scenario, elastic: bool = False) -> None:
        self.s = scenario
        self.elastic = elastic
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

    # -- columns ------------------------------------------------------------------------

    def cells(self) -> None:
        a = self.a
        provider, place, segment = a.cells
        labels = pd.DataFrame(
            {
                "provider_id": np.array(a.provider_ids, dtype=object)[provider],
                "place_id": np.array(a.place_ids, dtype=object)[place],
                "segment_id": np.array(a.segment_ids, dtype=object)[segment],
            }
        )
        self.alloc = self.b.add_columns("alloc", labels)
        # Last year's budget less pass-through, spread over the provider's cells by need.
        self.pass_through = np.zeros(len(a.provider_ids), dtype=np.int64)
        for funder in self.s.funders:
            for item in funder.pass_through:
                self.pass_through[self.provider_at[item.provider_id]] += item.amount_pence
        base = np.maximum(a.provider_baseline_pence - self.pass_through, 0).astype(np.float64)
        wp = a.cell_wp
        provider_wp = np.bincount(provider, weights=wp, minlength=len(a.provider_ids))
        self.cell_baseline = (
            base[provider] * wp / np.where(provider_wp[provider] > 0, provider_wp[provider], 1.0)
        )

    def schemes(self) -> None:
        schemes = self.s.schemes
        labels = pd.DataFrame({"scheme_id": [j.scheme_id for j in schemes]})
        self.scheme_cols = self.b.add_columns(
            "scheme.units",
            labels,
            lo=np.array([0 if self.elastic else j.min_units for j in schemes], dtype=np.float64),
            hi=np.array([j.max_units for j in schemes], dtype=np.float64),
            integer=True,
        )
        self.scheme_provider = np.array(
            [self.provider_at[j.provider_id] for j in schemes], dtype=np.int64
        )
        self.scheme_segment = np.array(
            [self.segment_at[j.segment_id] for j in schemes], dtype=np.int64
        )
        self.scheme_place = np.array([self.place_at[j.place_id] for j in schemes], dtype=np.int64)
        self.scheme_cost = _to_units(
            np.array([j.cost_per_unit_pence for j in schemes], dtype=np.float64)
        )
        self.b.add_objective(
            "value",
            self.scheme_cols.start + np.arange(len(schemes)),
            -np.array([j.value_per_unit for j in schemes], dtype=np.float64),
        )

    def required_schemes(self) -> None:
        """Elastic mode only: required schemes become rows that may be breached."""
        if not self.elastic:
            return
        required = np.array(
            [k for k, j in enumerate(self.s.schemes) if j.min_units > 0], dtype=np.int64
        )
        expr = self.b.selector(
            self.scheme_cols, required, 1.0, required.size, np.arange(required.size)
        )
        ids = [self.s.schemes[k].scheme_id for k in required]
        self._rows(
            "scheme.required",
            pd.DataFrame({"scheme_id": ids}),
            expr,
            np.array([self.s.schemes[k].min_units for k in required], dtype=np.float64),
            INF,
            [f"required scheme {i}" for i in ids],
            SoftSpec(
                float(np.mean(self.scheme_cost[required])) if required.size else 1.0, "elastic"
            ),
        )

    def funding(self) -> None:
        """Funder -> (provider, segment) flows, only where the funder's ring-fences allow."""
        a = self.a
        served = a.provider_serves_segment  # (providers, segments)
        eligible = np.broadcast_to(served, (len(a.funder_ids), *served.shape)).copy()
        fences: dict[str, list[np.ndarray]] = {}
        for fence in self.s.ring_fences:
            allowed = served.copy()
            if fence.segment_ids:
                seg_ok = np.isin(a.segment_ids, fence.segment_ids)
                allowed &= seg_ok[None, :]
            if fence.provider_kinds or fence.provider_ids:
                prov_ok = np.isin(self.kind_of, [k.value for k in fence.provider_kinds]) | np.isin(
                    a.provider_ids, fence.provider_ids
                )
                allowed &= prov_ok[:, None]
            fences.setdefault(fence.funder_id, []).append(allowed)
        for funder_id, allowed_list in fences.items():
            eligible[self.funder_at[funder_id]] = np.logical_or.reduce(allowed_list)
        funder, provider, segment = np.nonzero(eligible)
        self.flow = (funder.astype(np.int64), provider.astype(np.int64), segment.astype(np.int64))
        labels = pd.DataFrame(
            {
                "funder_id": np.array(a.funder_ids, dtype=object)[funder],
                "provider_id": np.array(a.provider_ids, dtype=object)[provider],
                "segment_id": np.array(a.segment_ids, dtype=object)[segment],
            }
        )
        self.funding_cols = self.b.add_columns("funding", labels)

    def viability_columns(self) -> None:
        fixed = self.a.provider_fixed_costs_pence
        self.binary_providers = np.flatnonzero(fixed > 0)
        labels = pd.DataFrame(
            {"provider_id": np.array(self.a.provider_ids, dtype=object)[self.binary_providers]}
        )
        self.funded_cols = self.b.add_columns("provider.funded", labels, 0.0, 1.0, integer=True)

    # -- expressions --------------------------------------------------------------------

    def expressions(self) -> None:
        a, b = self.a, self.b
        provider = a.cells[0]
        n_cells = a.num_cells
        n_schemes = len(self.s.schemes)
        cells_local = np.arange(n_cells)
        schemes_local = np.arange(n_schemes)
        num_p = len(a.provider_ids)
        self.provider_total = b.selector(
            self.alloc, cells_local, 1.0, num_p, provider
        ) + b.selector(
            self.scheme_cols, schemes_local, self.scheme_cost, num_p, self.scheme_provider
        )
        self.provider_total = Expr(self.provider_total.matrix, _to_units(self.pass_through))
        num_places = len(a.place_ids)
        place = b.selector(self.alloc, cells_local, 1.0, num_places, a.cell_place) + b.selector(
            self.scheme_cols, schemes_local, self.scheme_cost, num_places, self.scheme_place
        )
        # A scheme serves its place; its neighbourhoods share it by weighted population.
        nb_share = (
            a.neighbourhood_wp / np.where(a.place_wp > 0, a.place_wp, 1.0)[a.neighbourhood_place]
        )
        sch_idx, nb_idx = np.nonzero(self.scheme_place[:, None] == a.neighbourhood_place[None, :])
        # Neighbourhoods share each cell of their place by weighted capitation.
        cell, neighbourhood, share = a.cell_neighbourhoods
        nbhd = b.selector(
            self.alloc, cell, share, len(a.neighbourhood_ids), neighbourhood
        ) + b.selector(
            self.scheme_cols,
            sch_idx.astype(np.int64),
            self.scheme_cost[sch_idx] * nb_share[nb_idx],
            len(a.neighbourhood_ids),
            nb_idx.astype(np.int64),
        )
        system_of_place = sp_sum_rows(place, a.place_system, len(a.system_ids))
        self.unit_total = {
            UnitLevel.PLACE: place,
            UnitLevel.NEIGHBOURHOOD: nbhd,
            UnitLevel.SYSTEM: system_of_place,
        }

    # -- rows ---------------------------------------------------------------------------

    def conservation(self) -> None:
        a, b = self.a, self.b
        funder, provider, segment = self.flow
        n_f = len(a.funder_ids)
        allocated = np.array(
            [
                self.pot.pooled_by_funder_pence[f] - self.pot.reserve_by_funder_pence[f]
                for f in a.funder_ids
            ],
            dtype=np.float64,
        )
        expr = b.selector(self.funding_cols, np.arange(funder.size), 1.0, n_f, funder)
        self._rows(
            "conservation.funder",
            pd.DataFrame({"funder_id": a.funder_ids}),
            expr,
            _to_units(allocated),
            _to_units(allocated),
            [f"conservation of funder {f}" for f in a.funder_ids],
        )
        # Each (provider, segment): money in from funders = cells + schemes.
        n_s = len(a.segment_ids)
        key_flow = provider * n_s + segment
        c_provider, _, c_segment = a.cells
        key_cell = c_provider * n_s + c_segment
        key_scheme = self.scheme_provider * n_s + self.scheme_segment
        keys = np.unique(np.concatenate([key_cell, key_scheme]))
        pos = np.searchsorted(keys, key_flow)
        in_keys = (pos < keys.size) & (keys[np.minimum(pos, keys.size - 1)] == key_flow)
        m = keys.size
        expr = (
            b.selector(self.funding_cols, np.flatnonzero(in_keys), 1.0, m, pos[in_keys])
            + b.selector(
                self.alloc, np.arange(key_cell.size), -1.0, m, np.searchsorted(keys, key_cell)
            )
            + b.selector(
                self.scheme_cols,
                np.arange(key_scheme.size),
                -self.scheme_cost,
                m,
                np.searchsorted(keys, key_scheme),
            )
        )
        labels = pd.DataFrame(
            {
                "provider_id": np.array(a.provider_ids, dtype=object)[keys // n_s],
                "segment_id": np.array(a.segment_ids, dtype=object)[keys % n_s],
            }
        )
        self._rows(
            "conservation.provider_segment",
            labels,
            expr,
            0.0,
            0.0,
            [
                f"funding of {p} for {s}"
                for p, s in zip(labels.provider_id, labels.segment_id, strict=True)
            ],
        )

    def capacity_and_viability(self) -> None:
        a, b = self.a, self.b
        num_p = len(a.provider_ids)
        funded = b.selector(
            self.funded_cols,
            np.arange(self.binary_providers.size),
            1.0,
            num_p,
            self.binary_providers,
        )
        cap = a.provider_capacity_pence
        has_cap = np.isfinite(cap)
        is_binary = np.zeros(num_p, dtype=np.bool_)
        is_binary[self.binary_providers] = True
        # Budget <= capacity × funded (binary providers) or <= capacity.
        big = np.where(has_cap, cap, np.maximum(self.pot.total_pence, 1))
        scaled = Expr(sp_scale_rows(funded.matrix, -_to_units(big)), np.zeros(num_p))
        rows = np.flatnonzero(has_cap | is_binary)
        expr = (self.provider_total + scaled)[rows]
        hi = np.where(is_binary[rows], 0.0, _to_units(cap[rows]))
        ids = np.array(a.provider_ids, dtype=object)[rows]
        self._rows(
            "capacity.provider",
            pd.DataFrame({"provider_id": ids}),
            expr,
            -INF,
            hi,
            [f"capacity, {self._pname(p)}" for p in ids],
        )
        fixed = a.provider_fixed_costs_pence.astype(np.float64)
        scaled = Expr(sp_scale_rows(funded.matrix, -_to_units(fixed)), np.zeros(num_p))
        rows = self.binary_providers
        ids = np.array(a.provider_ids, dtype=object)[rows]
        self._rows(
            "viability.provider",
            pd.DataFrame({"provider_id": ids}),
            (self.provider_total + scaled)[rows],
            0.0,
            INF,
            [f"viability (fixed costs), {self._pname(p)}" for p in ids],
        )

    def payments(self) -> None:
        threshold = self.s.small_contract_threshold_pence
        block_rows: list[int] = []
        block_amount: list[float] = []
        act_rows: list[int] = []
        act_max: list[float] = []
        blend_rows: list[int] = []
        blend_fixed: list[float] = []
        for k, p in enumerate(self.s.providers):
            pay = p.payment
            small = (
                pay.kind in (PaymentKind.ACTIVITY, PaymentKind.BLENDED)
                and p.baseline_pence < threshold
            )
            if pay.kind is PaymentKind.BLOCK or small:
                amount = getattr(pay, "amount_pence", None)
                block_rows.append(k)
                block_amount.append(float(p.baseline_pence if amount is None else amount))
            elif pay.kind is PaymentKind.ACTIVITY and pay.max_volume is not None:
                act_rows.append(k)
                act_max.append(np.floor(pay.unit_price_pence * pay.max_volume))
            elif pay.kind is PaymentKind.BLENDED:
                blend_rows.append(k)
                blend_fixed.append(float(pay.fixed_pence))
        self.block_providers = np.array(block_rows, dtype=np.int64)
        for name, rows, lo, hi, text in (
            ("payment.block", block_rows, block_amount, block_amount, "block contract"),
            (
                "payment.activity",
                act_rows,
                [-INF] * len(act_rows),
                act_max,
                "activity ceiling (price × max volume)",
            ),
            (
                "payment.blended",
                blend_rows,
                blend_fixed,
                [INF] * len(blend_rows),
                "blended payment fixed part",
            ),
        ):
            idx = np.array(rows, dtype=np.int64)
            ids = np.array(self.a.provider_ids, dtype=object)[idx]
            self._rows(
                name,
                pd.DataFrame({"provider_id": ids}),
                self.provider_total[idx],
                _to_units(np.array(lo)),
                _to_units(np.array(hi)),
                [f"{text}, {self._pname(p)}" for p in ids],
            )

    def pace_of_change(self) -> None:
        a = self.a
        base_prov = a.provider_baseline_pence.astype(np.float64)
        place_base = np.array(
            [p.baseline_pence if p.baseline_pence is not None else np.nan for p in self.s.places]
        )
        derived = np.bincount(a.cell_place, weights=self.cell_baseline, minlength=len(a.place_ids))
        self.place_baseline = np.where(np.isnan(place_base), derived, place_base)
        place_target = self.targets.places.target_pence.astype(np.float64)
        not_block = np.ones(len(a.provider_ids), dtype=np.bool_)
        not_block[self.block_providers] = False
        for rule in self.s.pace_of_change:
            soft = _soft(rule)
            label = rule.name or rule.rule_id
            if rule.level is UnitLevel.PROVIDER:
                chosen = (
                    np.isin(a.provider_ids, rule.provider_ids)
                    if rule.provider_ids
                    else np.ones(len(a.provider_ids), bool)
                )
                idx = np.flatnonzero(chosen & not_block)
                ids = np.array(a.provider_ids, dtype=object)[idx]
                expr, base, names = (
                    self.provider_total[idx],
                    base_prov[idx],
                    [self._pname(p) for p in ids],
                )
                over = np.ones(idx.size, dtype=np.bool_)
                target = None
            else:
                idx = np.arange(len(a.place_ids))
                ids = np.array(a.place_ids, dtype=object)
                expr, base, names = (
                    self.unit_total[UnitLevel.PLACE],
                    self.place_baseline,
                    [self._place_name(p) for p in ids],
                )
                target = place_target
                over = (
                    (base - target) / target > rule.cap_over_target_share
                    if rule.cap_over_target_share is not None
                    else np.ones(idx.size, dtype=np.bool_)
                )
            labels = pd.DataFrame({"unit_id": ids, "rule_id": rule.rule_id})
            lower = np.full(idx.size, -INF)
            if rule.floor_growth_share is not None:
                lower = np.ceil(base * (1.0 + rule.floor_growth_share) - 1e-6)
            upper = np.full(idx.size, INF)
            if rule.form is PaceForm.FLOOR_AND_CAP and rule.cap_growth_share is not None:
                upper = np.where(over, np.floor(base * (1.0 + rule.cap_growth_share) + 1e-6), INF)
            if rule.form is PaceForm.CONVERGENCE and target is not None:
                assert rule.convergence_share is not None
                excess = base - target
                upper = np.where(
                    excess > 0, np.floor(base - rule.convergence_share * excess + 1e-6), INF
                )
                lower = np.where(excess > 0, -INF, lower)
            if rule.below_target_band_share is not None and target is not None:
                lift = np.ceil(target * (1.0 - rule.below_target_band_share))
                lower = np.where(base < lift, np.maximum(lower, lift), lower)
            keep = np.isfinite(lower)
            self._rows(
                f"pace.floor.{rule.rule_id}",
                labels[keep],
                expr[np.flatnonzero(keep)],
                _to_units(lower[keep]),
                INF,
                [
                    f"pace-of-change floor ({label}), {n}"
                    for n, k in zip(names, keep, strict=True)
                    if k
                ],
                soft,
            )
            keep = np.isfinite(upper)
            self._rows(
                f"pace.cap.{rule.rule_id}",
                labels[keep],
                expr[np.flatnonzero(keep)],
                -INF,
                _to_units(upper[keep]),
                [
                    f"pace-of-change cap ({label}), {n}"
                    for n, k in zip(names, keep, strict=True)
                    if k
                ],
                soft,
            )

    def minimum_spends(self) -> None:
        a, b = self.a, self.b
        c_provider, _, c_segment = a.cells
        for rule in self.s.minimum_spends:
            prov_ok = np.ones(len(a.provider_ids), dtype=np.bool_)
            if rule.provider_kinds or rule.provider_ids:
                prov_ok = np.isin(self.kind_of, [k.value for k in rule.provider_kinds]) | np.isin(
                    a.provider_ids, rule.provider_ids
                )
            seg_ok = (
                np.isin(a.segment_ids, rule.segment_ids)
                if rule.segment_ids
                else np.ones(len(a.segment_ids), bool)
            )
            place_ok = (
                np.isin(a.place_ids, rule.place_ids)
                if rule.place_ids
                else np.ones(len(a.place_ids), bool)
            )
            if rule.funder_ids:
                if rule.place_ids:
                    raise ScenarioInvalid(
                        "minimum spend cannot filter by both funder and place",
                        [
                            Issue(
                                ("minimum_spends", rule.rule_id),
                                "give funder_ids or place_ids, not both",
                            )
                        ],
                    )
                funder, provider, segment = self.flow
                sel = np.flatnonzero(
                    np.isin(np.array(a.funder_ids)[funder], rule.funder_ids)
                    & prov_ok[provider]
                    & seg_ok[segment]
                )
                expr = b.selector(
                    self.funding_cols, sel, 1.0, 1, np.zeros(sel.size, dtype=np.int64)
                )
            else:
                cells = np.flatnonzero(
                    prov_ok[c_provider] & seg_ok[c_segment] & place_ok[a.cell_place]
                )
                sch = np.flatnonzero(
                    prov_ok[self.scheme_provider]
                    & seg_ok[self.scheme_segment]
                    & place_ok[self.scheme_place]
                )
                expr = b.selector(
                    self.alloc, cells, 1.0, 1, np.zeros(cells.size, dtype=np.int64)
                ) + b.selector(
                    self.scheme_cols,
                    sch,
                    self.scheme_cost[sch],
                    1,
                    np.zeros(sch.size, dtype=np.int64),
                )
                passthrough = sum(
                    item.amount_pence
                    for funder in self.s.funders
                    for item in funder.pass_through
                    if prov_ok[self.provider_at[item.provider_id]]
                    and (item.segment_id is None or seg_ok[self.segment_at[item.segment_id]])
                    and not rule.place_ids
                )
                expr = Expr(expr.matrix, _to_units(np.array([passthrough], dtype=np.float64)))
            self._rows(
                f"minspend.{rule.rule_id}",
                pd.DataFrame({"rule_id": [rule.rule_id]}),
                expr,
                _to_units(float(rule.required_pence())),
                INF,
                [f"minimum spend: {rule.name or rule.rule_id}"],
                _soft(rule),
            )

    def fair_shares(self) -> None:
        for rule in self.s.fair_shares:
            if rule.form is not FairShareForm.BAND:
                continue
            assert rule.band_share is not None
            level_targets = self._level_targets(rule.level)
            target = level_targets.target_pence.astype(np.float64)
            expr = self.unit_total[rule.level]
            margin = (
                0.0 if rule.level is not UnitLevel.NEIGHBOURHOOD else self._neighbourhood_margin()
            )
            lo = np.ceil(target * (1.0 - rule.band_share)) + margin
            hi = np.floor(target * (1.0 + rule.band_share)) - margin
            ids = level_targets.ids
            self._rows(
                f"fairshare.band.{rule.rule_id}",
                pd.DataFrame({"unit_id": ids, "rule_id": rule.rule_id}),
                expr,
                _to_units(lo),
                _to_units(hi),
                [f"fair-share band ±{rule.band_share:.1%} ({rule.level.value}), {u}" for u in ids],
                _soft(rule),
            )

    def fairness(self) -> None:
        """Largest relative shortfall m and per-unit shortfalls s for the fairness stages."""
        b = self.b
        levels = [r.level for r in self.s.fair_shares if r.form is FairShareForm.CONVERGE]
        levels = list(dict.fromkeys(levels or [self.s.objective.fairness_level]))
        self.fairness_units: list[tuple[UnitLevel, IntArray]] = []
        if (
            ObjectiveStage.FAIRNESS not in self.s.objective.stages
            and self.s.objective.kind.value == "lexicographic"
        ):
            return
        m = b.add_columns(
            "fairness.max_shortfall", pd.DataFrame({"name": ["largest shortfall"]}), 0.0, INF
        )
        b.add_objective("fairness_max", np.array([m.start]), 1.0)
        for level in levels:
            tgt = self._level_targets(level)
            units = np.flatnonzero(tgt.target_pence > 0)
            self.fairness_units.append((level, units))
            target = _to_units(tgt.target_pence[units].astype(np.float64))
            ids = np.array(tgt.ids, dtype=object)[units]
            labels = pd.DataFrame({"level": level.value, "unit_id": ids})
            expr = self.unit_total[level][units]
            m_expr = b.selector(
                m, np.zeros(units.size, dtype=np.int64), target, units.size, np.arange(units.size)
            )
            self._rows(
                f"fairness.max.{level.value}",
                labels,
                expr + m_expr,
                target,
                INF,
                [f"largest shortfall bound, {u}" for u in ids],
            )
            s = b.add_columns(f"fairness.shortfall.{level.value}", labels, 0.0, INF)
            b.add_objective("fairness_sum", s.start + np.arange(s.size), 1.0)
            s_expr = b.selector(s, np.arange(units.size), 1.0, units.size, np.arange(units.size))
            self._rows(
                f"fairness.sum.{level.value}",
                labels,
                expr.padded(b.num_cols) + s_expr,
                target,
                INF,
                [f"shortfall below target, {u}" for u in ids],
            )

    def value_curves(self) -> None:
        """Concave piecewise-linear value per (place, segment, provider kind), pieces filled in order."""
        a, b = self.a, self.b
        if not self.s.value_curves:
            return
        place_heads = np.zeros((len(a.place_ids), len(a.segment_ids)))
        np.add.at(place_heads, a.neighbourhood_place, a.headcount)
        c_provider, _, c_segment = a.cells
        rows: list[tuple[int, int, str]] = []
        piece_group: list[int] = []
        widths: list[float] = []
        slopes: list[float] = []
        for curve in self.s.value_curves:
            s_idx = self.segment_at[curve.segment_id]
            spend = np.array([0] + [p.spend_per_head_pence for p in curve.points], dtype=np.float64)
            value = np.array([0.0] + [p.value_per_head for p in curve.points])
            d_spend, d_value = np.diff(spend), np.diff(value)
            ok = d_spend > 0
            for place in np.flatnonzero(place_heads[:, s_idx] > 0):
                g = len(rows)
                rows.append((int(place), s_idx, curve.provider_kind.value))
                heads = place_heads[place, s_idx]
                piece_group += [g] * int(ok.sum())
                widths += list(_to_units(d_spend[ok] * heads))
                slopes += list(d_value[ok] / d_spend[ok] * PENCE_PER_UNIT)
        if not rows:
            return
        group_place = np.array([r[0] for r in rows])
        group_segment = np.array([r[1] for r in rows])
        group_kind = np.array([r[2] for r in rows], dtype=object)
        labels = pd.DataFrame(
            {
                "place_id": np.array(a.place_ids, dtype=object)[group_place],
                "segment_id": np.array(a.segment_ids, dtype=object)[group_segment],
                "provider_kind": group_kind,
            }
        )
        pg = np.array(piece_group, dtype=np.int64)
        pieces = b.add_columns(
            "value.piece", labels.iloc[pg].reset_index(drop=True), 0.0, np.array(widths)
        )
        b.add_objective("value", pieces.start + np.arange(pieces.size), -np.array(slopes))
        # Cells feeding each group.
        kinds = sorted(set(self.kind_of))
        kind_code = np.searchsorted(kinds, self.kind_of)
        n_s, n_k = len(a.segment_ids), len(kinds)
        lookup = np.full(len(a.place_ids) * n_s * n_k, -1, dtype=np.int64)
        group_kind_ids = np.array([r[2] for r in rows])
        group_kind = np.searchsorted(kinds, group_kind_ids)
        known = np.isin(group_kind_ids, kinds)
        groups = np.flatnonzero(known)
        lookup[(group_place[groups] * n_s + group_segment[groups]) * n_k + group_kind[groups]] = (
            groups
        )
        cell_group = lookup[(a.cell_place * n_s + c_segment) * n_k + kind_code[c_provider]]
        fed = np.flatnonzero(cell_group >= 0)
        expr = b.selector(pieces, np.arange(pieces.size), 1.0, len(rows), pg) + b.selector(
            self.alloc, fed, -1.0, len(rows), cell_group[fed]
        )
        self.value_groups = labels
        self._rows(
            "value.link",
            labels,
            expr,
            -INF,
            0.0,
            [
                f"value curve {s} × {k} in {p}"
                for p, s, k in zip(
                    labels.place_id, labels.segment_id, labels.provider_kind, strict=True
                )
            ],
        )

    def stability(self) -> None:
        b = self.b
        n = self.a.num_cells
        labels = b.cols["alloc"].labels
        up = b.add_columns("stability.up", labels)
        down = b.add_columns("stability.down", labels)
        b.add_objective("stability", up.start + np.arange(n), 1.0)
        b.add_objective("stability", down.start + np.arange(n), 1.0)
        local = np.arange(n)
        expr = (
            b.selector(self.alloc, local, 1.0, n, local)
            + b.selector(up, local, -1.0, n, local)
            + b.selector(down, local, 1.0, n, local)
        )
        self._rows(
            "stability.cell",
            labels,
            expr,
            _to_units(self.cell_baseline),
            _to_units(self.cell_baseline),
            None,
        )

    # -- helpers ------------------------------------------------------------------------

    def _rows(
        self,
        name: str,
        labels: pd.DataFrame,
        expr: Expr,
        lo: FloatArray | float,
        hi: FloatArray | float,
        names: list[str] | None,
        soft: SoftSpec | None = None,
    ) -> None:
        if self.elastic and soft is None:
            if is_rule_block(name):
                soft = ELASTIC
            elif name == "conservation.funder":
                soft = ELASTIC_POOL
        block = self.b.add_rows(name, labels.reset_index(drop=True), expr, lo, hi, soft)
        if block is not None and names is not None:
            self.rule_names[name] = names

    def _level_targets(self, level: UnitLevel) -> LevelTargets:
        return {
            UnitLevel.SYSTEM: self.targets.systems,
            UnitLevel.PLACE: self.targets.places,
            UnitLevel.NEIGHBOURHOOD: self.targets.neighbourhoods,
        }[level]

    def _neighbourhood_margin(self) -> FloatArray:
        """Pence of rounding headroom per neighbourhood (one per cell it shares)."""
        _, neighbourhood, _ = self.a.cell_neighbourhoods
        return np.bincount(neighbourhood, minlength=len(self.a.neighbourhood_ids)).astype(
            np.float64
        )

    def _pname(self, provider_id: str) -> str:
        provider = self.s.providers[self.provider_at[provider_id]]
        return provider.name or provider.provider_id

    def _place_name(self, place_id: str) -> str:
        place = self.s.places[self.place_at[place_id]]
        return place.name or place.place_id


def sp_scale_rows(matrix: sp.csr_array, factors: FloatArray) -> sp.csr_array:
    return sp.csr_array(sp.diags_array(factors) @ matrix)


def sp_sum_rows(expr: Expr, group: IntArray, num_groups: int) -> Expr:
    agg = sp.csr_array(
        (np.ones(group.size), (group, np.arange(group.size))), shape=(num_groups, group.size)
    )
    return Expr(sp.csr_array(agg @ expr.matrix), agg @ expr.constant)


def formulate(scenario: Scenario, *, elastic: bool = False) -> Formulation:
    """Build the program and stage objectives of a (valid) scenario.

    ``elastic`` turns every hard rule into a soft one whose breach (in £) is the
    objective of the stage "elastic": the least change that makes the rules consistent.
    """
    build = _Build(scenario, elastic)
    build.cells()
    build.schemes()
    build.required_schemes()
    build.funding()
    build.viability_columns()
    build.expressions()
    build.conservation()
    build.capacity_and_viability()
    build.payments()
    build.pace_of_change()
    build.minimum_spends()
    build.fair_shares()
    build.fairness()
    build.value_curves()
    build.stability()
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
    )
