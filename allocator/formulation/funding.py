"""Level 1 and the cells: allocation columns, funder flows under ring-fences, conservation."""

from __future__ import annotations

import numpy as np

from allocator.formulation.builder import Expr
from allocator.formulation.context import (
    BuildContext,
    Cells,
    Flows,
    Schemes,
    to_units,
)
from allocator.formulation.index import Labels
from allocator.types import RowFamily


def build_cells(ctx: BuildContext) -> Cells:
    a = ctx.a
    provider, place, segment = a.cells
    labels = Labels.of(
        provider_id=np.array(a.provider_ids, dtype=object)[provider],
        place_id=np.array(a.place_ids, dtype=object)[place],
        segment_id=np.array(a.segment_ids, dtype=object)[segment],
    )
    cols = ctx.b.add_columns("alloc", labels)
    # Last year's budget less pass-through, spread over the provider's cells by need.
    pass_through = np.zeros(len(a.provider_ids), dtype=np.int64)
    for funder in ctx.scenario.funders:
        for item in funder.pass_through:
            pass_through[ctx.provider_at[item.provider_id]] += item.amount_pence
    base = np.maximum(a.provider_baseline_pence - pass_through, 0).astype(np.float64)
    wp = a.cell_wp
    provider_wp = np.bincount(provider, weights=wp, minlength=len(a.provider_ids))
    baseline = base[provider] * wp / np.where(provider_wp[provider] > 0, provider_wp[provider], 1.0)
    return Cells(cols, pass_through, baseline)


def build_funding(ctx: BuildContext) -> Flows:
    """Funder -> (provider, segment) flows, only where the funder's ring-fences allow."""
    a = ctx.a
    served = a.provider_serves_segment  # (providers, segments)
    eligible = np.broadcast_to(served, (len(a.funder_ids), *served.shape)).copy()
    fences: dict[str, list[np.ndarray]] = {}
    for fence in ctx.scenario.ring_fences:
        allowed = served.copy()
        if fence.segment_ids:
            seg_ok = np.isin(a.segment_ids, fence.segment_ids)
            allowed &= seg_ok[None, :]
        if fence.provider_kinds or fence.provider_ids:
            prov_ok = np.isin(ctx.kind_of, [k.value for k in fence.provider_kinds]) | np.isin(
                a.provider_ids, fence.provider_ids
            )
            allowed &= prov_ok[:, None]
        fences.setdefault(fence.funder_id, []).append(allowed)
    for funder_id, allowed_list in fences.items():
        eligible[ctx.funder_at[funder_id]] = np.logical_or.reduce(allowed_list)
    funder, provider, segment = np.nonzero(eligible)
    labels = Labels.of(
        funder_id=np.array(a.funder_ids, dtype=object)[funder],
        provider_id=np.array(a.provider_ids, dtype=object)[provider],
        segment_id=np.array(a.segment_ids, dtype=object)[segment],
    )
    cols = ctx.b.add_columns("funding", labels)
    return Flows(cols, funder.astype(np.int64), provider.astype(np.int64), segment.astype(np.int64))


def build_conservation(
    ctx: BuildContext, cells: Cells, schemes: Schemes, flows: Flows, lapsed: Expr | None = None
) -> None:
    """Each funder's flows (plus what its entitlements let lapse) = its pooled money less its
    reserve share; each (provider, segment)'s money in = its cells + schemes."""
    a, b = ctx.a, ctx.b
    funder, provider, segment = flows.funder, flows.provider, flows.segment
    n_f = len(a.funder_ids)
    allocated = np.array(
        [
            ctx.pot.pooled_by_funder_pence[f] - ctx.pot.reserve_by_funder_pence[f]
            for f in a.funder_ids
        ],
        dtype=np.float64,
    )
    expr = b.selector(flows.cols, np.arange(funder.size), 1.0, n_f, funder)
    if lapsed is not None:
        expr = expr + lapsed
    ctx.rows(
        RowFamily.CONSERVATION_FUNDER,
        Labels.of(funder_id=a.funder_ids),
        expr,
        to_units(allocated),
        to_units(allocated),
        [f"conservation of funder {f}" for f in a.funder_ids],
    )
    # Each (provider, segment): money in from funders = cells + schemes.
    n_s = len(a.segment_ids)
    key_flow = provider * n_s + segment
    c_provider, _, c_segment = a.cells
    key_cell = c_provider * n_s + c_segment
    key_scheme = schemes.provider * n_s + schemes.segment
    keys = np.unique(np.concatenate([key_cell, key_scheme]))
    pos = np.searchsorted(keys, key_flow)
    in_keys = (pos < keys.size) & (keys[np.minimum(pos, keys.size - 1)] == key_flow)
    m = keys.size
    expr = (
        b.selector(flows.cols, np.flatnonzero(in_keys), 1.0, m, pos[in_keys])
        + b.selector(cells.cols, np.arange(key_cell.size), -1.0, m, np.searchsorted(keys, key_cell))
        + b.selector(
            schemes.cols,
            np.arange(key_scheme.size),
            -schemes.cost,
            m,
            np.searchsorted(keys, key_scheme),
        )
    )
    provider_ids = np.array(a.provider_ids, dtype=object)[keys // n_s]
    segment_ids = np.array(a.segment_ids, dtype=object)[keys % n_s]
    ctx.rows(
        RowFamily.CONSERVATION_PROVIDER_SEGMENT,
        Labels.of(provider_id=provider_ids, segment_id=segment_ids),
        expr,
        0.0,
        0.0,
        [f"funding of {p} for {s}" for p, s in zip(provider_ids, segment_ids, strict=True)],
    )
