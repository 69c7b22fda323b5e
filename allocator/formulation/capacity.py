"""Capacity and viability: provider totals, capacity caps, and the fixed costs a funded provider must get (a binary per provider with fixed costs)."""

from __future__ import annotations

import numpy as np

from allocator.formulation.builder import INF, Expr
from allocator.formulation.context import (
    PENCE_PER_UNIT,
    BuildContext,
    Cells,
    Flows,
    Schemes,
    Switches,
    Totals,
    soft_spec,
    sp_scale_rows,
    sp_sum_rows,
    to_units,
)
from allocator.formulation.index import Labels
from allocator.types import FloatArray, RowFamily
from models import (
    PaceForm,
    PaymentKind,
    UnitLevel,
)


def build_viability_columns(ctx: BuildContext) -> Switches:
    fixed = ctx.a.provider_fixed_costs_pence
    providers = np.flatnonzero(fixed > 0)
    labels = Labels.of(provider_id=np.array(ctx.a.provider_ids, dtype=object)[providers])
    return Switches(providers, ctx.b.add_columns("provider.funded", labels, 0.0, 1.0, integer=True))


def build_totals(ctx: BuildContext, cells: Cells, schemes: Schemes) -> Totals:
    a, b = ctx.a, ctx.b
    provider = a.cells[0]
    n_cells = a.num_cells
    n_schemes = len(ctx.scenario.schemes)
    cells_local = np.arange(n_cells)
    schemes_local = np.arange(n_schemes)
    num_p = len(a.provider_ids)
    provider_total = b.selector(cells.cols, cells_local, 1.0, num_p, provider) + b.selector(
        schemes.cols, schemes_local, schemes.cost, num_p, schemes.provider
    )
    provider_total = Expr(provider_total.matrix, to_units(cells.pass_through_pence))
    num_places = len(a.place_ids)
    place = b.selector(cells.cols, cells_local, 1.0, num_places, a.cell_place) + b.selector(
        schemes.cols, schemes_local, schemes.cost, num_places, schemes.place
    )
    # A scheme serves its place; its neighbourhoods share it by weighted population.
    nb_share = a.neighbourhood_wp / np.where(a.place_wp > 0, a.place_wp, 1.0)[a.neighbourhood_place]
    sch_idx, nb_idx = np.nonzero(schemes.place[:, None] == a.neighbourhood_place[None, :])
    # Neighbourhoods share each cell of their place by weighted capitation.
    cell, neighbourhood, share = a.cell_neighbourhoods
    nbhd = b.selector(
        cells.cols, cell, share, len(a.neighbourhood_ids), neighbourhood
    ) + b.selector(
        schemes.cols,
        sch_idx.astype(np.int64),
        schemes.cost[sch_idx] * nb_share[nb_idx],
        len(a.neighbourhood_ids),
        nb_idx.astype(np.int64),
    )
    system_of_place = sp_sum_rows(place, a.place_system, len(a.system_ids))
    unit_total = {
        UnitLevel.PLACE: place,
        UnitLevel.NEIGHBOURHOOD: nbhd,
        UnitLevel.SYSTEM: system_of_place,
    }
    return Totals(provider_total, unit_total)


def provider_reach_pence(ctx: BuildContext, totals: Totals, flows: Flows) -> FloatArray:
    """The most each provider can receive: its pass-through plus every funder that may fund it.

    A provider's budget beyond pass-through is the money flowing to it, and each funder's
    flows sum to what it allocates, so this bounds the budget in every feasible point; so
    do its hard payment and pace-of-change ceilings (the smallest is kept). In elastic
    mode every rule may be breached, so there is no such bound (infinite).
    """
    num_p = len(ctx.a.provider_ids)
    if ctx.elastic:
        return np.full(num_p, np.inf)
    allocated = np.array(
        [
            ctx.pot.pooled_by_funder_pence[f] - ctx.pot.reserve_by_funder_pence[f]
            for f in ctx.a.funder_ids
        ],
        dtype=np.float64,
    )
    reaches = np.zeros((len(ctx.a.funder_ids), num_p), dtype=np.bool_)
    reaches[flows.funder, flows.provider] = True
    pass_through = totals.provider.constant * PENCE_PER_UNIT
    reach: FloatArray = pass_through + allocated @ reaches
    return np.minimum(reach, _rule_ceilings_pence(ctx))


def _rule_ceilings_pence(ctx: BuildContext) -> FloatArray:
    """Each provider's tightest hard ceiling from its payment and pace-of-change rules (inf if none).

    Mirrors `payments.build_payments` (a block contract fixes the total, an activity
    contract caps it at price × volume) and `pace_of_change.build_pace_of_change` (a
    provider-level cap on growth, for providers not paid a block).
    """
    s = ctx.scenario
    ceiling = np.full(len(s.providers), np.inf)
    block = np.zeros(len(s.providers), dtype=np.bool_)
    for k, p in enumerate(s.providers):
        pay = p.payment
        small = pay.kind in (PaymentKind.ACTIVITY, PaymentKind.BLENDED) and (
            p.baseline_pence < s.small_contract_threshold_pence
        )
        if pay.kind is PaymentKind.BLOCK or small:
            amount = getattr(pay, "amount_pence", None)
            ceiling[k] = float(p.baseline_pence if amount is None else amount)
            block[k] = True
        elif pay.kind is PaymentKind.ACTIVITY and pay.max_volume is not None:
            ceiling[k] = float(np.floor(pay.unit_price_pence * pay.max_volume))
    base = ctx.a.provider_baseline_pence.astype(np.float64)
    for rule in s.pace_of_change:
        if (
            rule.level is not UnitLevel.PROVIDER
            or soft_spec(rule) is not None
            or rule.form is not PaceForm.FLOOR_AND_CAP
            or rule.cap_growth_share is None
        ):
            continue
        chosen = (
            np.isin(ctx.a.provider_ids, rule.provider_ids)
            if rule.provider_ids
            else np.ones(len(s.providers), dtype=np.bool_)
        )
        cap = np.floor(base * (1.0 + rule.cap_growth_share) + 1e-6)
        ceiling = np.where(chosen & ~block, np.minimum(ceiling, cap), ceiling)
    return ceiling


def build_capacity_and_viability(
    ctx: BuildContext, totals: Totals, switches: Switches, flows: Flows
) -> None:
    a, b = ctx.a, ctx.b
    num_p = len(a.provider_ids)
    funded = b.selector(
        switches.cols,
        np.arange(switches.providers.size),
        1.0,
        num_p,
        switches.providers,
    )
    cap = a.provider_capacity_pence
    has_cap = np.isfinite(cap)
    is_binary = np.zeros(num_p, dtype=np.bool_)
    is_binary[switches.providers] = True
    # Budget <= capacity × funded (binary providers) or <= capacity. Without a capacity the
    # big-M is the most the provider can reach (not the whole pot: a 1e8 coefficient next to
    # 1s is what makes a solver call the model badly scaled).
    reach = np.minimum(provider_reach_pence(ctx, totals, flows), float(max(ctx.pot.total_pence, 1)))
    big = np.where(has_cap, cap, np.maximum(reach, 1.0))
    scaled = Expr(sp_scale_rows(funded.matrix, -to_units(big)), np.zeros(num_p))
    rows = np.flatnonzero(has_cap | is_binary)
    expr = (totals.provider + scaled)[rows]
    hi = np.where(is_binary[rows], 0.0, to_units(cap[rows]))
    ids = np.array(a.provider_ids, dtype=object)[rows]
    ctx.rows(
        RowFamily.CAPACITY,
        Labels.of(provider_id=ids),
        expr,
        -INF,
        hi,
        [f"capacity, {ctx.provider_name(p)}" for p in ids],
    )
    fixed = a.provider_fixed_costs_pence.astype(np.float64)
    scaled = Expr(sp_scale_rows(funded.matrix, -to_units(fixed)), np.zeros(num_p))
    rows = switches.providers
    ids = np.array(a.provider_ids, dtype=object)[rows]
    ctx.rows(
        RowFamily.VIABILITY,
        Labels.of(provider_id=ids),
        (totals.provider + scaled)[rows],
        0.0,
        INF,
        [f"viability (fixed costs), {ctx.provider_name(p)}" for p in ids],
    )
