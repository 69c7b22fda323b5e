"""The baseline: the same model written the way a typical PuLP user writes it.

Dicts of `LpVariable`s, loops over the Scenario's providers, places and segments, and
one `lpSum` per row, from the Scenario itself (never from our matrices). It mirrors
every column and row family of `allocator/formulation/` (read `formulate.py` for the
order): cells, funder flows under ring-fences, conservation per funder and per
(provider, segment), capacity and viability (binaries), payments, pace of change,
minimum spends, fair-share bands, fairness shortfalls, value-curve pieces, stability
deviations, schemes and soft-rule slacks, with the WEIGHTED objective of
`allocator.stages.sequence.stage_sequence`. Money is in £ millions, as in the formulation, so
the objectives can be compared directly.

Only the published fair-share targets and the pot come from the library
(`allocator.domain.targets`, `allocator.domain.pot`): they are the domain's definitions, in exact pence,
and any user would call them rather than re-derive the largest-remainder rounding.
A ranged row (lo <= expr <= hi, both finite) becomes two PuLP constraints, as PuLP has
no ranged rows; the model is otherwise row for row the same.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pulp

from allocator.domain.arrays import ScenarioArrays
from allocator.domain.pot import pot_breakdown
from allocator.domain.targets import compute_targets
from models import FairShareForm, ObjectiveKind, ObjectiveStage, PaceForm, PaymentKind, Scenario
from models import UnitLevel as Level

UNIT = 100_000_000  # pence per solver unit: the program counts £ millions
Key = tuple[int, ...]


def u(pence: float) -> float:
    return pence / UNIT


@dataclass
class RowwiseModel:
    """A built PuLP problem and what the benchmark reports about it."""

    prob: pulp.LpProblem
    build_s: float
    num_rows: int
    num_cols: int
    integer_cols: int


@dataclass
class _Rows:
    """Adds rows to the problem, soft ones with penalised breach columns (as `add_rows`)."""

    prob: pulp.LpProblem
    soft_terms: list[Any] = field(default_factory=list)
    count: int = 0

    def add(self, name: str, expr: Any, lo: float | None, hi: float | None, soft: Any) -> None:
        penalty = None if soft is None or soft.hard else soft.penalty_per_gbp * (UNIT / 100)
        if penalty is not None:
            if lo is not None:
                under = pulp.LpVariable(f"{name}_under", lowBound=0)
                self.soft_terms.append(penalty * under)
                expr = expr + under
            if hi is not None:
                over = pulp.LpVariable(f"{name}_over", lowBound=0)
                self.soft_terms.append(penalty * over)
                expr = expr - over
        if lo is not None and hi is not None and lo == hi:
            self.prob += (expr == lo, name)
        else:
            if lo is not None:
                self.prob += (expr >= lo, f"{name}_lo" if hi is not None else name)
            if hi is not None:
                self.prob += (expr <= hi, f"{name}_hi" if lo is not None else name)
        self.count += 1


def build_rowwise(scenario: Scenario) -> RowwiseModel:
    """Build the weighted model of ``scenario`` in PuLP, row by row; times itself."""
    started = time.perf_counter()
    s = scenario
    prob = pulp.LpProblem("allocation", pulp.LpMinimize)
    rows = _Rows(prob)
    pot = pot_breakdown(s)
    targets = compute_targets(ScenarioArrays.from_scenario(s), pot.capitated_pence)

    # Data: positions, weighted populations, who serves what --------------------------------
    segs = [g.segment_id for g in s.segments]
    places = [p.place_id for p in s.places]
    seg_at = {g: i for i, g in enumerate(segs)}
    place_at = {p: i for i, p in enumerate(places)}
    hood_at = {n.neighbourhood_id: i for i, n in enumerate(s.neighbourhoods)}
    prov_at = {p.provider_id: k for k, p in enumerate(s.providers)}
    hood_place = [place_at[n.place_id] for n in s.neighbourhoods]
    system_at = {y.system_id: i for i, y in enumerate(s.systems)}
    place_system = [system_at[p.system_id] for p in s.places]
    weight = [g.cost_weight for g in s.segments]
    adjust = [1.0] * len(s.neighbourhoods)
    for factor in s.local_adjustments:
        adjust[hood_at[factor.neighbourhood_id]] *= factor.factor
    heads: dict[Key, float] = defaultdict(float)
    for pop in s.populations:
        heads[hood_at[pop.neighbourhood_id], seg_at[pop.segment_id]] += pop.headcount
    wp = {key: h * weight[key[1]] * adjust[key[0]] for key, h in heads.items()}
    place_seg_wp: dict[Key, float] = defaultdict(float)
    place_heads: dict[Key, float] = defaultdict(float)
    hood_wp = [0.0] * len(s.neighbourhoods)
    for (n, g), value in wp.items():
        place_seg_wp[hood_place[n], g] += value
        place_heads[hood_place[n], g] += heads[n, g]
        hood_wp[n] += value
    place_wp = [0.0] * len(places)
    for n, pl in enumerate(hood_place):
        place_wp[pl] += hood_wp[n]
    kind = [p.kind.value for p in s.providers]
    serves_seg = [{seg_at[g] for g in p.segment_ids} for p in s.providers]
    pass_through = [0] * len(s.providers)
    for funder in s.funders:
        for item in funder.pass_through:
            pass_through[prov_at[item.provider_id]] += item.amount_pence

    # Columns: cells, schemes, funder flows, viability switches ------------------------------
    cells: list[Key] = []  # (provider, place, segment)
    for k, p in enumerate(s.providers):
        served = {place_at[x] for x in p.place_ids}
        for pl in range(len(places)):
            if pl in served:
                cells += [(k, pl, g) for g in range(len(segs)) if g in serves_seg[k]]
    cells = [c for c in cells if place_seg_wp.get((c[1], c[2]), 0.0) > 0]
    alloc = pulp.LpVariable.dicts("alloc", cells, lowBound=0)
    cells_of_provider: dict[int, list[Key]] = defaultdict(list)
    cells_of_place: dict[int, list[Key]] = defaultdict(list)
    cells_of_ps: dict[Key, list[Key]] = defaultdict(list)
    for c in cells:
        cells_of_provider[c[0]].append(c)
        cells_of_place[c[1]].append(c)
        cells_of_ps[c[0], c[2]].append(c)
    provider_wp = {
        k: sum(place_seg_wp[c[1], c[2]] for c in cs) for k, cs in cells_of_provider.items()
    }
    cell_base = {}
    for c in cells:
        own = max(s.providers[c[0]].baseline_pence - pass_through[c[0]], 0)
        cell_base[c] = own * place_seg_wp[c[1], c[2]] / (provider_wp[c[0]] or 1.0)

    schemes = list(enumerate(s.schemes))
    units = [
        pulp.LpVariable(f"scheme_{j}", x.min_units, x.max_units, pulp.LpInteger) for j, x in schemes
    ]
    value_terms = [-x.value_per_unit * units[j] for j, x in schemes]
    scheme_cost = [u(x.cost_per_unit_pence) for _, x in schemes]

    fences: dict[str, list[Any]] = defaultdict(list)
    for fence in s.ring_fences:
        fences[fence.funder_id].append(fence)
    flows: list[Key] = []  # (funder, provider, segment)
    for fi, funder in enumerate(s.funders):
        for k, p in enumerate(s.providers):
            for g in range(len(segs)):
                if g not in serves_seg[k]:
                    continue
                if funder.funder_id in fences and not any(
                    (not f.segment_ids or segs[g] in f.segment_ids)
                    and (
                        not (f.provider_kinds or f.provider_ids)
                        or p.kind in f.provider_kinds
                        or p.provider_id in f.provider_ids
                    )
                    for f in fences[funder.funder_id]
                ):
                    continue
                flows.append((fi, k, g))
    flow = pulp.LpVariable.dicts("flow", flows, lowBound=0)
    funded = {
        k: pulp.LpVariable(f"funded_{k}", cat=pulp.LpBinary)
        for k, p in enumerate(s.providers)
        if p.fixed_costs_pence > 0
    }

    # Totals of providers, places, neighbourhoods and systems --------------------------------
    schemes_of_provider: dict[int, list[int]] = defaultdict(list)
    schemes_of_place: dict[int, list[int]] = defaultdict(list)
    schemes_of_ps: dict[Key, list[int]] = defaultdict(list)
    for j, x in schemes:
        schemes_of_provider[prov_at[x.provider_id]].append(j)
        schemes_of_place[place_at[x.place_id]].append(j)
        schemes_of_ps[prov_at[x.provider_id], seg_at[x.segment_id]].append(j)

    @cache  # each total is built once and reused, as a careful PuLP user would
    def provider_total(k: int) -> Any:
        return (
            pulp.lpSum(alloc[c] for c in cells_of_provider[k])
            + pulp.lpSum(scheme_cost[j] * units[j] for j in schemes_of_provider[k])
            + u(pass_through[k])
        )

    @cache
    def place_total(pl: int) -> Any:
        return pulp.lpSum(alloc[c] for c in cells_of_place[pl]) + pulp.lpSum(
            scheme_cost[j] * units[j] for j in schemes_of_place[pl]
        )

    @cache
    def hood_total(n: int) -> Any:
        pl = hood_place[n]
        share = {
            g: wp.get((n, g), 0.0) / place_seg_wp[pl, g]
            for g in range(len(segs))
            if place_seg_wp.get((pl, g), 0) > 0
        }
        nb_share = hood_wp[n] / (place_wp[pl] or 1.0)
        return pulp.lpSum(share[c[2]] * alloc[c] for c in cells_of_place[pl]) + pulp.lpSum(
            scheme_cost[j] * nb_share * units[j] for j in schemes_of_place[pl]
        )

    @cache
    def system_total(y: int) -> Any:
        return pulp.lpSum(place_total(pl) for pl in range(len(places)) if place_system[pl] == y)

    unit_total = {
        Level.PLACE: place_total,
        Level.NEIGHBOURHOOD: hood_total,
        Level.SYSTEM: system_total,
    }
    level_targets = {
        Level.SYSTEM: targets.systems,
        Level.PLACE: targets.places,
        Level.NEIGHBOURHOOD: targets.neighbourhoods,
    }

    # Conservation: per funder, and per (provider, segment) ----------------------------------
    flows_of_funder: dict[int, list[Key]] = defaultdict(list)
    flows_of_provider: dict[int, list[Key]] = defaultdict(list)
    flows_of_ps: dict[Key, list[Key]] = defaultdict(list)
    for f in flows:
        flows_of_funder[f[0]].append(f)
        flows_of_provider[f[1]].append(f)
        flows_of_ps[f[1], f[2]].append(f)
    for fi, funder in enumerate(s.funders):
        fid = funder.funder_id
        allocated = u(pot.pooled_by_funder_pence[fid] - pot.reserve_by_funder_pence[fid])
        expr = pulp.lpSum(flow[f] for f in flows_of_funder[fi])
        rows.add(f"conservation_funder_{fi}", expr, allocated, allocated, None)
    for k, g in sorted(set(cells_of_ps) | set(schemes_of_ps)):
        expr = (
            pulp.lpSum(flow[f] for f in flows_of_ps[k, g])
            - pulp.lpSum(alloc[c] for c in cells_of_ps[k, g])
            - pulp.lpSum(scheme_cost[j] * units[j] for j in schemes_of_ps[k, g])
        )
        rows.add(f"conservation_ps_{k}_{g}", expr, 0.0, 0.0, None)

    # Capacity, viability, payment mechanisms -----------------------------------------------
    # Without a capacity, a funded provider's big-M is the most it can reach: its pass-through
    # plus what every funder that may fund it allocates.
    reach = {k: pass_through[k] for k in range(len(s.providers))}
    for fi, funder in enumerate(s.funders):
        fid = funder.funder_id
        allocated = pot.pooled_by_funder_pence[fid] - pot.reserve_by_funder_pence[fid]
        for k in {f[1] for f in flows_of_funder[fi]}:
            reach[k] += allocated
    for k, p in enumerate(s.providers):
        if k in funded:
            big = (
                p.capacity_pence
                if p.capacity_pence is not None
                else max(min(reach[k], pot.total_pence), 1)
            )
            rows.add(f"capacity_{k}", provider_total(k) - u(big) * funded[k], None, 0.0, None)
        elif p.capacity_pence is not None:
            rows.add(f"capacity_{k}", provider_total(k), None, u(p.capacity_pence), None)
    for k, var in funded.items():
        fixed = u(s.providers[k].fixed_costs_pence)
        rows.add(f"viability_{k}", provider_total(k) - fixed * var, 0.0, None, None)
    block: set[int] = set()
    for k, p in enumerate(s.providers):
        pay = p.payment
        small = (
            pay.kind in (PaymentKind.ACTIVITY, PaymentKind.BLENDED)
            and p.baseline_pence < s.small_contract_threshold_pence
        )
        if pay.kind is PaymentKind.BLOCK or small:
            amount = getattr(pay, "amount_pence", None)
            amount = u(p.baseline_pence if amount is None else amount)
            rows.add(f"payment_block_{k}", provider_total(k), amount, amount, None)
            block.add(k)
        elif pay.kind is PaymentKind.ACTIVITY and pay.max_volume is not None:
            ceiling = u(math.floor(pay.unit_price_pence * pay.max_volume))
            rows.add(f"payment_activity_{k}", provider_total(k), None, ceiling, None)
        elif pay.kind is PaymentKind.BLENDED:
            rows.add(f"payment_blended_{k}", provider_total(k), u(pay.fixed_pence), None, None)

    # Pace of change ---------------------------------------------------------------------------
    derived = [0.0] * len(places)
    for c in cells:
        derived[c[1]] += cell_base[c]
    place_base = [
        p.baseline_pence if p.baseline_pence is not None else derived[i]
        for i, p in enumerate(s.places)
    ]
    place_target = [float(t) for t in targets.places.target_pence]
    for rule in s.pace_of_change:
        units_of_rule: list[tuple[str, Any, int, float, float | None]]
        if rule.level is Level.PROVIDER:
            units_of_rule = [
                (f"p{k}", provider_total, k, float(p.baseline_pence), None)
                for k, p in enumerate(s.providers)
                if (not rule.provider_ids or p.provider_id in rule.provider_ids) and k not in block
            ]
        else:
            units_of_rule = [
                (f"pl{i}", place_total, i, float(place_base[i]), place_target[i])
                for i in range(len(places))
            ]
        for tag, total, i, base, target in units_of_rule:
            over = True
            if target is not None and rule.cap_over_target_share is not None:
                over = (base - target) / target > rule.cap_over_target_share
            lower: int | None = None
            if rule.floor_growth_share is not None:
                lower = math.ceil(base * (1.0 + rule.floor_growth_share) - 1e-6)
            upper: int | None = None
            if rule.form is PaceForm.FLOOR_AND_CAP and rule.cap_growth_share is not None and over:
                upper = math.floor(base * (1.0 + rule.cap_growth_share) + 1e-6)
            if rule.form is PaceForm.CONVERGENCE and target is not None and base > target:
                assert rule.convergence_share is not None
                upper = math.floor(base - rule.convergence_share * (base - target) + 1e-6)
                lower = None
            if rule.below_target_band_share is not None and target is not None:
                lift = math.ceil(target * (1.0 - rule.below_target_band_share))
                if base < lift:
                    lower = lift if lower is None else max(lower, lift)
            if lower is not None:
                rows.add(f"pace_floor_{rule.rule_id}_{tag}", total(i), u(lower), None, rule)
            if upper is not None:
                rows.add(f"pace_cap_{rule.rule_id}_{tag}", total(i), None, u(upper), rule)

    # Minimum spends -----------------------------------------------------------------------------
    for spend in s.minimum_spends:

        def prov_ok(k: int, rule: Any = spend) -> bool:
            if not (rule.provider_kinds or rule.provider_ids):
                return True
            p = s.providers[k]
            return p.kind in rule.provider_kinds or p.provider_id in rule.provider_ids

        def seg_ok(g: int, rule: Any = spend) -> bool:
            return not rule.segment_ids or segs[g] in rule.segment_ids

        chosen = [k for k in range(len(s.providers)) if prov_ok(k)]
        if spend.funder_ids:
            funder_ok = [f.funder_id in spend.funder_ids for f in s.funders]
            expr = pulp.lpSum(
                flow[f]
                for k in chosen
                for f in flows_of_provider[k]
                if funder_ok[f[0]] and seg_ok(f[2])
            )
        else:
            in_place = [not spend.place_ids or x in spend.place_ids for x in places]
            passed = sum(
                item.amount_pence
                for funder in s.funders
                for item in funder.pass_through
                if prov_ok(prov_at[item.provider_id])
                and (item.segment_id is None or seg_ok(seg_at[item.segment_id]))
                and not spend.place_ids
            )
            expr = (
                pulp.lpSum(
                    alloc[c]
                    for k in chosen
                    for c in cells_of_provider[k]
                    if seg_ok(c[2]) and in_place[c[1]]
                )
                + pulp.lpSum(
                    scheme_cost[j] * units[j]
                    for j, x in schemes
                    if prov_ok(prov_at[x.provider_id])
                    and seg_ok(seg_at[x.segment_id])
                    and in_place[place_at[x.place_id]]
                )
                + u(passed)
            )
        rows.add(f"minspend_{spend.rule_id}", expr, u(spend.required_pence(s.funders)), None, spend)

    # Fair-share bands ---------------------------------------------------------------------------
    for band in s.fair_shares:
        if band.form is not FairShareForm.BAND:
            continue
        assert band.band_share is not None
        hood_level = band.level is Level.NEIGHBOURHOOD
        for i, target in enumerate(level_targets[band.level].target_pence):
            margin = len(cells_of_place[hood_place[i]]) if hood_level else 0
            lo = math.ceil(target * (1.0 - band.band_share)) + margin
            hi = math.floor(target * (1.0 + band.band_share)) - margin
            rows.add(f"fairshare_{band.rule_id}_{i}", unit_total[band.level](i), u(lo), u(hi), band)

    # Fairness stages: largest shortfall and per-unit shortfalls ---------------------------------
    fair_terms: list[Any] = []
    objective = s.objective
    lexicographic = objective.kind is ObjectiveKind.LEXICOGRAPHIC
    if ObjectiveStage.FAIRNESS in objective.stages or not lexicographic:
        levels = [r.level for r in s.fair_shares if r.form is FairShareForm.CONVERGE]
        levels = list(dict.fromkeys(levels or [objective.fairness_level]))
        largest = pulp.LpVariable("max_shortfall", lowBound=0)
        for level in levels:
            for i, target in enumerate(level_targets[level].target_pence):
                if target <= 0:
                    continue
                t = u(float(target))
                total = unit_total[level](i)
                rows.add(f"fairness_max_{level.value}_{i}", total + t * largest, t, None, None)
                short = pulp.LpVariable(f"shortfall_{level.value}_{i}", lowBound=0)
                fair_terms.append(short)
                rows.add(f"fairness_sum_{level.value}_{i}", total + short, t, None, None)

    # Value curves: concave pieces per (place, segment, provider kind) ----------------------------
    groups: list[tuple[int, int, str, list[Any]]] = []
    for ci, curve in enumerate(s.value_curves):
        g = seg_at[curve.segment_id]
        points = [(0, 0.0)] + [(p.spend_per_head_pence, p.value_per_head) for p in curve.points]
        steps = [
            (b[0] - a[0], (b[1] - a[1]) / (b[0] - a[0]))
            for a, b in itertools.pairwise(points)
            if b[0] - a[0] > 0
        ]
        for pl in range(len(places)):
            people = place_heads.get((pl, g), 0.0)
            if people <= 0:
                continue
            pieces = []
            for q, (width, slope) in enumerate(steps):
                piece = pulp.LpVariable(f"piece_{ci}_{pl}_{q}", 0, u(width * people))
                value_terms.append(-slope * UNIT * piece)
                pieces.append(piece)
            groups.append((pl, g, curve.provider_kind.value, pieces))
    feeds = {(pl, g, kd): gi for gi, (pl, g, kd, _) in enumerate(groups)}  # the last curve wins
    for gi, (pl, g, kd, pieces) in enumerate(groups):
        last = feeds[pl, g, kd] == gi
        fed = [c for c in cells_of_place[pl] if last and c[2] == g and kind[c[0]] == kd]
        expr = pulp.lpSum(pieces) - pulp.lpSum(alloc[c] for c in fed)
        rows.add(f"value_link_{gi}", expr, None, 0.0, None)

    # Stability: up and down deviations from last year, cell by cell ------------------------------
    up = pulp.LpVariable.dicts("up", cells, lowBound=0)
    down = pulp.LpVariable.dicts("down", cells, lowBound=0)
    for c in cells:
        b = u(cell_base[c])
        rows.add(f"stability_{c[0]}_{c[1]}_{c[2]}", alloc[c] - up[c] + down[c], b, b, None)

    # The weighted objective (`stage_sequence`): soft + fairness + value + stability -------------
    w = objective.weights
    prob += (
        pulp.lpSum(rows.soft_terms)
        + w.fairness_per_gbp_shortfall * (UNIT / 100) * pulp.lpSum(fair_terms)
        + w.value * pulp.lpSum(value_terms)
        + w.stability_per_gbp_change * (UNIT / 100) * pulp.lpSum([*up.values(), *down.values()])
    )
    build_s = time.perf_counter() - started
    variables = prob.variables()
    return RowwiseModel(
        prob=prob,
        build_s=build_s,
        num_rows=len(prob.constraints),
        num_cols=len(variables),
        integer_cols=sum(v.cat == pulp.LpInteger for v in variables),
    )
