"""Use-it-or-lose-it entitlements (e.g. the additional roles reimbursement scheme).

Each entitlement gets a lapse column (0 to its amount): what is not claimed. The funder's
conservation row becomes flows + lapsed = its pooled money less its reserve share, and one
row per neighbourhood holds what its entitlements claim (amount − lapse) within its eligible
spend: its share of the cells in its place that the funders' ring-fences allow. Lapse is a
last resort: it is priced first, in the soft stage, at `LAPSE_PENALTY_PER_GBP` per £, far
above any soft rule's default penalty, so money that can be spent within the hard rules is
spent before the fairness, value and stability stages are solved (and the stability and
tie-break stages price it too, so they do not lapse the soft stage's hold slack).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.formulation.builder import INF, Expr
from allocator.formulation.context import PENCE_PER_UNIT, BuildContext, Cells, Flows, to_units
from allocator.formulation.index import Block, Labels
from allocator.types import IntArray, RowFamily, Stage

LAPSE_PENALTY_PER_GBP = 1_000.0
"""Soft-stage price of £1 lapsed, in value units (soft rules default to 1 per £)."""


@dataclass(frozen=True)
class Lapses:
    """The lapse columns, one per entitlement, with each one's funder and neighbourhood."""

    cols: Block | None
    funder: IntArray
    neighbourhood: IntArray
    amount_pence: IntArray

    def by_funder(self, ctx: BuildContext) -> Expr:
        """Each funder's lapsed money (one row per funder), in solver units."""
        n_f = len(ctx.a.funder_ids)
        if self.cols is None:
            return ctx.b.zero(n_f)
        return ctx.b.selector(self.cols, np.arange(self.funder.size), 1.0, n_f, self.funder)


def build_lapse_columns(ctx: BuildContext) -> Lapses:
    """One lapse column per entitlement, bounded by its amount and priced in the soft stage."""
    rules = ctx.scenario.entitlements
    nb_at = {n: k for k, n in enumerate(ctx.a.neighbourhood_ids)}
    funder = np.array([ctx.funder_at[e.funder_id] for e in rules], dtype=np.int64)
    neighbourhood = np.array([nb_at[e.neighbourhood_id] for e in rules], dtype=np.int64)
    amount = np.array([e.amount_pence for e in rules], dtype=np.int64)
    if not rules:
        return Lapses(None, funder, neighbourhood, amount)
    cols = ctx.b.add_columns(
        "entitlement.lapse",
        Labels.of(entitlement_id=[e.entitlement_id for e in rules]),
        0.0,
        to_units(amount.astype(np.float64)),
    )
    price = LAPSE_PENALTY_PER_GBP * (PENCE_PER_UNIT / 100)
    at = cols.start + np.arange(cols.size)
    ctx.b.add_objective(Stage.SOFT, at, price)
    # Later stages may use the soft optimum's hold slack; a lapsed £ costs the stability
    # stage more than the £ of change it could save, so that slack is not lapsed either.
    ctx.b.add_objective(Stage.STABILITY, at, 2.0)
    return Lapses(cols, funder, neighbourhood, amount)


def build_entitlements(ctx: BuildContext, cells: Cells, flows: Flows, lapses: Lapses) -> None:
    """Per neighbourhood with entitlements: Σ (amount − lapse) <= its eligible spend.

    A cell is eligible for an entitlement when the entitlement's funder may fund the cell's
    provider and segment (its funding column exists); the neighbourhood's part of the cell
    is its fixed share by weighted population, as published.
    """
    if lapses.cols is None:
        return
    a, b = ctx.a, ctx.b
    n_s = len(a.segment_ids)
    c_provider, _, c_segment = a.cells
    share_cell, share_nb, share = a.cell_neighbourhoods
    units = np.unique(lapses.neighbourhood)
    row_of = np.full(len(a.neighbourhood_ids), -1, dtype=np.int64)
    row_of[units] = np.arange(units.size)
    # Pairs (neighbourhood row, cell share) eligible for any entitlement of that neighbourhood.
    fundable = set(
        zip(flows.funder.tolist(), (flows.provider * n_s + flows.segment).tolist(), strict=False)
    )
    entitled = {(int(n), int(f)) for n, f in zip(lapses.neighbourhood, lapses.funder, strict=True)}
    funders_of: dict[int, list[int]] = {}
    for n, f in sorted(entitled):
        funders_of.setdefault(n, []).append(f)
    key = (c_provider * n_s + c_segment)[share_cell]
    keep = np.array(
        [
            row_of[n] >= 0 and any((f, int(k)) in fundable for f in funders_of.get(int(n), []))
            for n, k in zip(share_nb.tolist(), key.tolist(), strict=True)
        ],
        dtype=np.bool_,
    )
    at = np.flatnonzero(keep)
    expr = b.selector(cells.cols, share_cell[at], share[at], units.size, row_of[share_nb[at]])
    expr = expr + b.selector(
        lapses.cols, np.arange(lapses.funder.size), 1.0, units.size, row_of[lapses.neighbourhood]
    )
    claimed = np.bincount(
        row_of[lapses.neighbourhood], weights=lapses.amount_pence, minlength=units.size
    )
    # Publishing rounds each of the k neighbourhood shares of eligible cells by less than a
    # penny, so the row is held k − 1 pence above (as minimum spends are) to keep the
    # published claims within the published eligible spend.
    shares = np.bincount(row_of[share_nb[at]], minlength=units.size)
    headroom = np.maximum(shares - 1, 0) if ctx.headroom else np.zeros(units.size)
    ids = np.array(a.neighbourhood_ids, dtype=object)[units]
    ctx.rows(
        RowFamily.ENTITLEMENT.block(),
        Labels.of(neighbourhood_id=ids),
        expr,
        to_units(claimed + headroom),
        INF,
        [f"entitlements of neighbourhood {n} (what is not claimed lapses)" for n in ids],
    )
