"""Level 3: schemes, viability switches, provider and unit totals, capacity, payment mechanisms."""

from __future__ import annotations

import numpy as np

from allocator.formulation.builder import INF, Expr, SoftSpec
from allocator.formulation.context import (
    BuildContext,
    sp_scale_rows,
    sp_sum_rows,
    to_units,
)
from allocator.formulation.index import Labels
from models import (
    PaymentKind,
    UnitLevel,
)


def build_schemes(ctx: BuildContext) -> None:
    schemes = ctx.s.schemes
    labels = Labels.of(scheme_id=[j.scheme_id for j in schemes])
    ctx.scheme_cols = ctx.b.add_columns(
        "scheme.units",
        labels,
        lo=np.array([0 if ctx.elastic else j.min_units for j in schemes], dtype=np.float64),
        hi=np.array([j.max_units for j in schemes], dtype=np.float64),
        integer=True,
    )
    ctx.scheme_provider = np.array(
        [ctx.provider_at[j.provider_id] for j in schemes], dtype=np.int64
    )
    ctx.scheme_segment = np.array([ctx.segment_at[j.segment_id] for j in schemes], dtype=np.int64)
    ctx.scheme_place = np.array([ctx.place_at[j.place_id] for j in schemes], dtype=np.int64)
    ctx.scheme_cost = to_units(np.array([j.cost_per_unit_pence for j in schemes], dtype=np.float64))
    ctx.b.add_objective(
        "value",
        ctx.scheme_cols.start + np.arange(len(schemes)),
        -np.array([j.value_per_unit for j in schemes], dtype=np.float64),
    )


def build_required_schemes(ctx: BuildContext) -> None:
    """Elastic mode only: required schemes become rows that may be breached."""
    if not ctx.elastic:
        return
    required = np.array([k for k, j in enumerate(ctx.s.schemes) if j.min_units > 0], dtype=np.int64)
    expr = ctx.b.selector(ctx.scheme_cols, required, 1.0, required.size, np.arange(required.size))
    ids = [ctx.s.schemes[k].scheme_id for k in required]
    ctx.rows(
        "scheme.required",
        Labels.of(scheme_id=ids),
        expr,
        np.array([ctx.s.schemes[k].min_units for k in required], dtype=np.float64),
        INF,
        [f"required scheme {i}" for i in ids],
        SoftSpec(float(np.mean(ctx.scheme_cost[required])) if required.size else 1.0, "elastic"),
    )


def build_viability_columns(ctx: BuildContext) -> None:
    fixed = ctx.a.provider_fixed_costs_pence
    ctx.binary_providers = np.flatnonzero(fixed > 0)
    labels = Labels.of(provider_id=np.array(ctx.a.provider_ids, dtype=object)[ctx.binary_providers])
    ctx.funded_cols = ctx.b.add_columns("provider.funded", labels, 0.0, 1.0, integer=True)


def build_expressions(ctx: BuildContext) -> None:
    a, b = ctx.a, ctx.b
    provider = a.cells[0]
    n_cells = a.num_cells
    n_schemes = len(ctx.s.schemes)
    cells_local = np.arange(n_cells)
    schemes_local = np.arange(n_schemes)
    num_p = len(a.provider_ids)
    ctx.provider_total = b.selector(ctx.alloc, cells_local, 1.0, num_p, provider) + b.selector(
        ctx.scheme_cols, schemes_local, ctx.scheme_cost, num_p, ctx.scheme_provider
    )
    ctx.provider_total = Expr(ctx.provider_total.matrix, to_units(ctx.pass_through))
    num_places = len(a.place_ids)
    place = b.selector(ctx.alloc, cells_local, 1.0, num_places, a.cell_place) + b.selector(
        ctx.scheme_cols, schemes_local, ctx.scheme_cost, num_places, ctx.scheme_place
    )
    # A scheme serves its place; its neighbourhoods share it by weighted population.
    nb_share = a.neighbourhood_wp / np.where(a.place_wp > 0, a.place_wp, 1.0)[a.neighbourhood_place]
    sch_idx, nb_idx = np.nonzero(ctx.scheme_place[:, None] == a.neighbourhood_place[None, :])
    # Neighbourhoods share each cell of their place by weighted capitation.
    cell, neighbourhood, share = a.cell_neighbourhoods
    nbhd = b.selector(ctx.alloc, cell, share, len(a.neighbourhood_ids), neighbourhood) + b.selector(
        ctx.scheme_cols,
        sch_idx.astype(np.int64),
        ctx.scheme_cost[sch_idx] * nb_share[nb_idx],
        len(a.neighbourhood_ids),
        nb_idx.astype(np.int64),
    )
    system_of_place = sp_sum_rows(place, a.place_system, len(a.system_ids))
    ctx.unit_total = {
        UnitLevel.PLACE: place,
        UnitLevel.NEIGHBOURHOOD: nbhd,
        UnitLevel.SYSTEM: system_of_place,
    }


def build_capacity_and_viability(ctx: BuildContext) -> None:
    a, b = ctx.a, ctx.b
    num_p = len(a.provider_ids)
    funded = b.selector(
        ctx.funded_cols,
        np.arange(ctx.binary_providers.size),
        1.0,
        num_p,
        ctx.binary_providers,
    )
    cap = a.provider_capacity_pence
    has_cap = np.isfinite(cap)
    is_binary = np.zeros(num_p, dtype=np.bool_)
    is_binary[ctx.binary_providers] = True
    # Budget <= capacity × funded (binary providers) or <= capacity.
    big = np.where(has_cap, cap, np.maximum(ctx.pot.total_pence, 1))
    scaled = Expr(sp_scale_rows(funded.matrix, -to_units(big)), np.zeros(num_p))
    rows = np.flatnonzero(has_cap | is_binary)
    expr = (ctx.provider_total + scaled)[rows]
    hi = np.where(is_binary[rows], 0.0, to_units(cap[rows]))
    ids = np.array(a.provider_ids, dtype=object)[rows]
    ctx.rows(
        "capacity.provider",
        Labels.of(provider_id=ids),
        expr,
        -INF,
        hi,
        [f"capacity, {ctx.provider_name(p)}" for p in ids],
    )
    fixed = a.provider_fixed_costs_pence.astype(np.float64)
    scaled = Expr(sp_scale_rows(funded.matrix, -to_units(fixed)), np.zeros(num_p))
    rows = ctx.binary_providers
    ids = np.array(a.provider_ids, dtype=object)[rows]
    ctx.rows(
        "viability.provider",
        Labels.of(provider_id=ids),
        (ctx.provider_total + scaled)[rows],
        0.0,
        INF,
        [f"viability (fixed costs), {ctx.provider_name(p)}" for p in ids],
    )


def build_payments(ctx: BuildContext) -> None:
    threshold = ctx.s.small_contract_threshold_pence
    block_rows: list[int] = []
    block_amount: list[float] = []
    act_rows: list[int] = []
    act_max: list[float] = []
    blend_rows: list[int] = []
    blend_fixed: list[float] = []
    for k, p in enumerate(ctx.s.providers):
        pay = p.payment
        small = (
            pay.kind in (PaymentKind.ACTIVITY, PaymentKind.BLENDED) and p.baseline_pence < threshold
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
    ctx.block_providers = np.array(block_rows, dtype=np.int64)
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
        ids = np.array(ctx.a.provider_ids, dtype=object)[idx]
        ctx.rows(
            name,
            Labels.of(provider_id=ids),
            ctx.provider_total[idx],
            to_units(np.array(lo)),
            to_units(np.array(hi)),
            [f"{text}, {ctx.provider_name(p)}" for p in ids],
        )
