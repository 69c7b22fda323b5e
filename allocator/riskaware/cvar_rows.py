"""CVaR limits as linear rows over sampled outturns (Rockafellar–Uryasev), added to a build.

For a loss ``L_s`` on ``n`` equally likely draws, ``CVaR_α(L) ≤ A`` holds exactly when some
``t`` (the VaR) and excesses ``u_s ≥ 0`` with ``u_s ≥ L_s − t`` satisfy
``t + Σ u_s / (n(1 − α)) ≤ A``: one column per draw and limit, one row per draw and line of
the loss. The losses are convex piecewise-linear functions of the budgets (see :mod:`~allocator.riskshare.curve`): where an agreement's curve is not
convex the concave part is replaced by tangents, which overstate the loss, so the limit on
the sample still holds. For a provider the first tangents are taken, draw by draw, at the
outturn of the reference budgets but no further out than where its loss reaches the bound
(the tail has to end up there); for the pool at its far-right pieces (exact for overspends;
it is credited with none of an underspend it would share). Later rounds take them at each
draw's outturn under the previous solve's budgets (the convex–concave procedure: the
previous allocation stays feasible, so no round is worse than the one before).

Blocks: columns ``cvar.budget`` (each provider's budget, tied to its cells by the rows
``cvar.budget``), ``cvar.var`` (``t``), ``cvar.excess`` (``u``), ``cvar.pool_part`` (the
pool's part of a provider whose part has several lines) and ``cvar.unit_call`` (the call
of each settlement unit at organisation breakeven); the limits themselves are the rule
rows ``risk.cvar.provider`` ("CVaR limit, <provider>") and ``risk.cvar.pool``
("CVaR limit, pool reserve"), so explanations name them and price them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocator.formulation.builder import INF, Expr
from allocator.formulation.context import ELASTIC, PENCE_PER_UNIT, Totals
from allocator.riskaware.limits import POOL_BLOCK, PROVIDER_BLOCK, CvarLimit, RiskSample
from allocator.riskshare.curve import Curve, majorant
from allocator.riskshare.measures import tail_draws
from allocator.types import FloatArray, IntArray
from models.enums import BreakevenLevel

if TYPE_CHECKING:
    from allocator.formulation.context import BuildContext


@dataclass(slots=True)
class _Rows:
    """Triplets and lower bounds of one row block, gathered before the matrix is built."""

    count: int = 0
    rows: list[IntArray] = field(default_factory=list)
    cols: list[IntArray] = field(default_factory=list)
    coefs: list[FloatArray] = field(default_factory=list)
    lo: list[FloatArray] = field(default_factory=list)
    labels: list[pd.DataFrame] = field(default_factory=list)

    def add(self, lo: FloatArray, labels: pd.DataFrame) -> IntArray:
        """Reserve ``len(lo)`` rows; returns their positions in the block."""
        positions = self.count + np.arange(lo.size, dtype=np.int64)
        self.count += lo.size
        self.lo.append(lo.reshape(-1))
        self.labels.append(labels)
        return positions

    def enter(self, rows: IntArray, cols: IntArray, coefs: FloatArray | float) -> None:
        rows, cols = np.broadcast_arrays(rows, cols)
        self.rows.append(rows.reshape(-1))
        self.cols.append(cols.reshape(-1))
        self.coefs.append(np.broadcast_to(np.asarray(coefs, dtype=np.float64), rows.shape).ravel())

    def expr(self, num_cols: int) -> Expr:
        matrix = sp.csr_array(
            (np.concatenate(self.coefs), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.count, num_cols),
        )
        return Expr(matrix, np.zeros(self.count))


def _add(
    ctx: BuildContext,
    name: str,
    labels: pd.DataFrame,
    expr: Expr,
    lo: FloatArray | float,
    hi: FloatArray | float,
    names: list[str] | None = None,
) -> None:
    """Add a row block; a named rule (``names``) becomes elastic in an elastic build."""
    soft = ELASTIC if ctx.elastic and names is not None else None
    block = ctx.b.add_rows(name, labels.reset_index(drop=True), expr, lo, hi, soft)
    if block is not None and names is not None:
        ctx.rule_names[name] = names


def _lines(curve: Curve, at: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Lines of the curve's convex majorant per draw, intercepts in solver units."""
    slopes, intercepts = majorant(curve, at)
    return slopes, intercepts / PENCE_PER_UNIT


@dataclass(frozen=True, slots=True)
class CvarRows:
    """The limits to add and how: ``bounds_pence`` per limit (the appetite less any safety
    margin); ``around_pence`` the budgets to linearise concave parts at (None: the start)."""

    sample: RiskSample
    limits: tuple[CvarLimit, ...]
    level: float
    bounds_pence: FloatArray
    around_pence: FloatArray | None = None

    def bound(self, limit: CvarLimit) -> float:
        return float(self.bounds_pence[self.limits.index(limit)])

    def trivial(self, limit: CvarLimit) -> bool:
        """A provider whose part never exceeds the bound (a pooled budget, a loss cap within
        it) keeps the limit whatever its budget: it needs no rows."""
        if limit.column is None:
            return False
        return self.sample.curves[limit.column].level_at(self.bound(limit) + 1e-6) == math.inf

    def __call__(self, ctx: BuildContext, totals: Totals) -> None:
        build_cvar_limits(ctx, totals, self)


def _points(spec: CvarRows, column: int, first: float) -> FloatArray:
    """Where each draw's concave part is linearised, as remaining variance (pence).

    Refinements use the outturn at the last budgets. The first solve uses, per draw, the
    outturn at the reference budgets but no further right than ``first``: for a provider,
    the variance at which its loss reaches the bound (the tail has to end up there; a
    tangent further right would overstate the loss of every underspend draw); for the
    pool, ``inf`` (its far-right pieces, exact for overspends).
    """
    remaining = spec.sample.cost_pence[:, column] - spec.sample.volume_pence[:, column]
    if spec.around_pence is None:
        if first == math.inf:
            return np.full(remaining.shape[0], math.inf)
        at_reference = remaining - spec.sample.reference_pence[column]
        start: FloatArray = np.minimum(at_reference.astype(np.float64), first)
        return start
    point: FloatArray = remaining - spec.around_pence[column]
    return point


def build_cvar_limits(ctx: BuildContext, totals: Totals, spec: CvarRows) -> None:
    """Add the budget columns, the R-U columns and rows of every limit to the build."""
    sample = spec.sample
    if list(ctx.a.provider_ids) != sample.provider_ids:
        raise ValueError("the risk sample's providers are not the scenario's")
    limits = [m for m in spec.limits if not spec.trivial(m)]
    if not limits:
        return
    n, p_count = sample.draws, len(sample.provider_ids)
    tail = tail_draws(n, spec.level)
    unit = float(PENCE_PER_UNIT)
    remaining = (sample.cost_pence - sample.volume_pence) / unit  # r = remaining − budget
    volume = sample.volume_pence / unit
    ids = np.array(sample.provider_ids, dtype=object)
    draw_ids = np.arange(n)
    b = ctx.b
    budget = b.add_columns("cvar.budget", pd.DataFrame({"provider_id": ids}), -INF, INF)
    names = [m.name for m in limits]
    var = b.add_columns("cvar.var", pd.DataFrame({"limit": names}), -INF, INF)
    excess = b.add_columns(
        "cvar.excess",
        pd.DataFrame({"limit": np.repeat(names, n), "draw": np.tile(draw_ids, len(limits))}),
        0.0,
        INF,
    )

    # Pool lines per provider (only when the pool has a limit).
    pool_limit = next((j for j, m in enumerate(limits) if m.is_pool), None)
    pool_lines: list[tuple[FloatArray, FloatArray]] = []
    if pool_limit is not None:
        for k, curve in enumerate(sample.curves):
            pool_lines.append(_lines(curve.complement(), _points(spec, k, np.inf)))
    organisation = sample.breakeven is BreakevenLevel.ORGANISATION
    groups = [np.flatnonzero(sample.units == g) for g in np.unique(sample.units)]
    alone = {int(members[0]) for members in groups if members.size == 1}
    several = [
        k
        for k, (slopes, _) in enumerate(pool_lines)
        if slopes.shape[0] > 1 and not (organisation and k in alone)
    ]
    part = b.add_columns(
        "cvar.pool_part",
        pd.DataFrame(
            {"provider_id": np.repeat(ids[several], n), "draw": np.tile(draw_ids, len(several))}
        ),
        -INF,
        INF,
    )
    part_at = {k: part.start + j * n + draw_ids for j, k in enumerate(several)}
    unit_groups = groups if (organisation and pool_limit is not None) else []
    unit_call = b.add_columns(
        "cvar.unit_call",
        pd.DataFrame(
            {
                "unit": np.repeat(np.arange(len(unit_groups)), n),
                "draw": np.tile(draw_ids, len(unit_groups)),
            }
        ),
        0.0,
        INF,
    )

    # Budgets equal the provider totals (cells, schemes and pass-through).
    tie = b.selector(budget, np.arange(p_count), 1.0, p_count, np.arange(p_count))
    total = totals.provider.padded(b.num_cols)
    _add(
        ctx,
        "cvar.budget",
        pd.DataFrame({"provider_id": ids}),
        Expr(sp.csr_array(tie.padded(b.num_cols).matrix - total.matrix), -total.constant),
        0.0,
        0.0,
    )

    def excess_cols(j: int) -> IntArray:
        cols: IntArray = excess.start + j * n + draw_ids
        return cols

    # A provider's part: u_s + t + k·budget ≥ k·remaining_s + c, for every line.
    tails = _Rows()
    for j, limit in enumerate(limits):
        if limit.column is None:
            continue
        k = limit.column
        # First, tangents where the loss reaches the bound: exact where the tail must end up.
        start = sample.curves[k].level_at(spec.bound(limit))
        slopes, intercepts = _lines(sample.curves[k], _points(spec, k, start))
        lo = slopes * remaining[None, :, k] + intercepts
        rows = tails.add(lo, pd.DataFrame({"limit": np.repeat(limit.name, lo.size)}))
        rows = rows.reshape(slopes.shape)
        tails.enter(rows, excess_cols(j)[None, :], 1.0)
        tails.enter(rows, np.array(var.start + j), 1.0)
        tails.enter(rows, np.array(budget.start + k), slopes)
    if tails.count:
        _add(
            ctx,
            "cvar.tail.provider",
            pd.concat(tails.labels),
            tails.expr(b.num_cols),
            np.concatenate(tails.lo),
            INF,
        )

    if pool_limit is not None:
        _pool_rows(
            ctx,
            spec,
            pool_lines,
            several,
            part_at,
            unit_groups,
            unit_call.start,
            remaining,
            volume,
            excess_cols(pool_limit),
            var.start + pool_limit,
            budget.start,
        )

    # The limits: t + Σ u / (n(1 − α)) ≤ bound.
    for block, chosen, labels in (
        (PROVIDER_BLOCK, [j for j, m in enumerate(limits) if not m.is_pool], "provider_id"),
        (POOL_BLOCK, [] if pool_limit is None else [pool_limit], "limit"),
    ):
        if not chosen:
            continue
        rows_of = np.arange(len(chosen))
        limit_rows = _Rows()
        limit_rows.add(np.zeros(len(chosen)), pd.DataFrame())
        limit_rows.enter(rows_of, var.start + np.array(chosen), 1.0)
        for r, j in enumerate(chosen):
            limit_rows.enter(np.full(n, r), excess_cols(j), 1.0 / tail)
        bound = np.array([spec.bound(limits[j]) for j in chosen]) / unit
        label = pd.DataFrame(
            {
                labels: [
                    limits[j].provider_id if labels == "provider_id" else "pool reserve"
                    for j in chosen
                ]
            }
        )
        _add(
            ctx,
            block,
            label,
            limit_rows.expr(b.num_cols),
            -INF,
            bound,
            [limits[j].name for j in chosen],
        )


def _pool_rows(
    ctx: BuildContext,
    spec: CvarRows,
    pool_lines: list[tuple[FloatArray, FloatArray]],
    several: list[int],
    part_at: dict[int, IntArray],
    unit_groups: list[IntArray],
    unit_start: int,
    remaining: FloatArray,
    volume: FloatArray,
    excess: IntArray,
    var_col: int,
    budget_start: int,
) -> None:
    """The pool's call: ``u_s + t ≥ call_s`` with the call built from each provider's part."""
    b = ctx.b
    n = spec.sample.draws
    draw_ids = np.arange(n)
    parts = _Rows()
    for k in several:  # w_ks ≥ every line of the provider's pool part (volume payment included)
        slopes, intercepts = pool_lines[k]
        lo = slopes * remaining[None, :, k] + intercepts + volume[None, :, k]
        rows = parts.add(
            lo, pd.DataFrame({"provider_id": np.repeat(spec.sample.provider_ids[k], lo.size)})
        ).reshape(slopes.shape)
        parts.enter(rows, part_at[k][None, :], 1.0)
        parts.enter(rows, np.array(budget_start + k), slopes)
    if parts.count:
        _add(
            ctx,
            "cvar.pool_part",
            pd.concat(parts.labels),
            parts.expr(b.num_cols),
            np.concatenate(parts.lo),
            INF,
        )

    def add_members(rows: _Rows, at: IntArray, members: IntArray) -> FloatArray:
        """Enter ``−Σ part`` of the members on rows ``at`` (one per draw); returns the constant."""
        constant = np.zeros(n)
        for k in members:
            if k in part_at:
                rows.enter(at, part_at[k], -1.0)
                continue
            slopes, intercepts = pool_lines[k]
            rows.enter(at, np.array(budget_start + k), slopes[0])
            constant += slopes[0] * remaining[:, k] + intercepts[0] + volume[:, k]
        return constant

    calls = _Rows()
    tail_rows = _Rows()
    at = tail_rows.add(np.zeros(n), pd.DataFrame({"draw": draw_ids}))
    tail_rows.enter(at, excess, 1.0)
    tail_rows.enter(at, np.array(var_col), 1.0)
    if not unit_groups:  # system breakeven: the call is the sum of the pool's parts
        tail_rows.lo[0] = add_members(tail_rows, at, np.arange(len(pool_lines)))
    else:  # organisation breakeven: the call is Σ over units of max(unit's part, 0)
        for g, members in enumerate(unit_groups):
            cols = unit_start + g * n + draw_ids
            tail_rows.enter(at, cols, -1.0)
            if members.size == 1 and int(members[0]) not in part_at:
                k = int(members[0])
                slopes, intercepts = pool_lines[k]
                lo = slopes * remaining[None, :, k] + intercepts + volume[None, :, k]
                rows = calls.add(lo, pd.DataFrame({"unit": np.repeat(g, lo.size)})).reshape(
                    slopes.shape
                )
                calls.enter(rows, cols[None, :], 1.0)
                calls.enter(rows, np.array(budget_start + k), slopes)
                continue
            rows = calls.add(np.zeros(n), pd.DataFrame({"unit": np.repeat(g, n)}))
            calls.enter(rows, cols, 1.0)
            calls.lo[-1] = add_members(calls, rows, members)
        _add(
            ctx,
            "cvar.unit_call",
            pd.concat(calls.labels),
            calls.expr(b.num_cols),
            np.concatenate(calls.lo),
            INF,
        )
    _add(
        ctx, "cvar.tail.pool", tail_rows.labels[0], tail_rows.expr(b.num_cols), tail_rows.lo[0], INF
    )
