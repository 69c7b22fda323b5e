"""Risk measures on a sample of losses (pence; positive is bad), exactly on the sample.

* **VaR** at level α is the ``⌈nα⌉``-th smallest loss: the smallest amount the loss
  stays at or below with probability at least α on the sample.
* **CVaR** is the Rockafellar–Uryasev estimator ``VaR + Σ (L − VaR)⁺ / (n(1 − α))``: the
  mean of the worst ``n(1 − α)`` draws, the draw at the VaR counting for the fraction
  ``⌈nα⌉ − nα`` it contributes (the fractional-atom correction).
* **Standard errors**: of the mean, ``s/√n``; of CVaR, the asymptotic
  ``√(Var((L − VaR)⁺) / n) / (1 − α)``. Both assume independent draws.

``nα`` is taken from the level as written (decimal), so 95% of 1,000 draws is 950 exactly.
Along axis 0: a sample ``(draws,)`` gives scalars, ``(draws, columns)`` one per column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from allocator.riskshare.scaling import CHUNK_ELEMENTS
from allocator.types import BoolArray, FloatArray, IntArray, NumArray
from models.enums import BreakevenLevel


@dataclass(frozen=True, slots=True)
class TailMeasures:
    """Per column: mean, VaR, CVaR and P(loss > 0), with standard errors (pence)."""

    level: float
    mean: FloatArray
    mean_se: FloatArray
    var: IntArray
    cvar: FloatArray
    cvar_se: FloatArray
    prob_loss: FloatArray


@dataclass(frozen=True, slots=True)
class ReserveMeasures:
    """The pool's call on its contingency reserve (pence, probabilities 0–1)."""

    reserve_pence: int
    confidence: float
    expected_call: float
    expected_call_se: float
    expected_shortfall: float
    prob_exceeds: float
    reserve_needed: int


def _tail_count(draws: int, level: float) -> tuple[int, float]:
    """``(⌈nα⌉, n(1 − α))`` with α read as the decimal it was written as."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")
    n_alpha = Decimal(repr(level)) * draws
    return max(1, math.ceil(n_alpha)), float(draws - n_alpha)


def tail_draws(draws: int, level: float) -> float:
    """``n(1 − α)``: how many draws the CVaR at ``level`` averages (α read as written).

    >>> tail_draws(500, 0.95)
    25.0
    """
    return _tail_count(draws, level)[1]


def _as_losses(losses: NumArray) -> IntArray:
    x = np.asarray(losses, dtype=np.int64)
    if x.ndim not in (1, 2) or x.shape[0] == 0:
        raise ValueError("losses must be (draws,) or (draws, columns) with at least one draw")
    return x


def value_at_risk(losses: NumArray, level: float = 0.95) -> IntArray:
    """The ``⌈nα⌉``-th smallest loss per column (an order statistic, so whole pence).

    >>> value_at_risk(np.arange(1, 101), 0.95).tolist()
    95
    """
    x = _as_losses(losses)
    k, _ = _tail_count(x.shape[0], level)
    var: IntArray = np.partition(x, k - 1, axis=0)[k - 1]
    return var


def conditional_value_at_risk(
    losses: NumArray, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """CVaR (Rockafellar–Uryasev, on the sample) and its asymptotic standard error.

    >>> cvar, _ = conditional_value_at_risk(np.arange(1, 101), 0.95)
    >>> float(cvar)  # mean of the worst five: 96..100
    98.0
    >>> float(conditional_value_at_risk(np.arange(1, 11), 0.75)[0])  # (0.5·8 + 9 + 10)/2.5
    9.2
    """
    x = _as_losses(losses)
    _, tail = _tail_count(x.shape[0], level)
    var = value_at_risk(x, level)
    excess = np.maximum(x - var, 0)
    cvar: FloatArray = var + excess.sum(axis=0) / tail
    spread = excess.std(axis=0, ddof=1) if x.shape[0] > 1 else np.zeros_like(cvar)
    se: FloatArray = spread / math.sqrt(x.shape[0]) / (tail / x.shape[0])
    return cvar, se


def mean_and_se(values: NumArray) -> tuple[FloatArray, FloatArray]:
    """Sample mean and its standard error ``s/√n`` per column."""
    x = np.asarray(values, dtype=np.float64)
    mean: FloatArray = x.mean(axis=0)
    spread = x.std(axis=0, ddof=1) if x.shape[0] > 1 else np.zeros_like(mean)
    se: FloatArray = spread / math.sqrt(x.shape[0])
    return mean, se


def tail_measures(losses: NumArray, level: float = 0.95) -> TailMeasures:
    """Mean, VaR, CVaR, their standard errors and P(loss > 0) of each column.

    Wide samples are measured a block of columns at a time, so the temporaries stay small
    (at least 32 columns, so each row's slice fills whole cache lines).
    """
    x = _as_losses(losses)
    if x.ndim == 1:
        blocks = [x]
    else:
        width = max(32, CHUNK_ELEMENTS // x.shape[0])
        blocks = [x[:, first : first + width] for first in range(0, x.shape[1], width)]
    parts: list[tuple[FloatArray, ...]] = []
    for block in blocks:
        mean, mean_se = mean_and_se(block)
        cvar, cvar_se = conditional_value_at_risk(block, level)
        positive: BoolArray = block > 0
        var = value_at_risk(block, level).astype(np.float64)
        parts.append((mean, mean_se, var, cvar, cvar_se, positive.mean(axis=0)))
    joined = [np.concatenate([np.atleast_1d(p[i]) for p in parts]) for i in range(6)]
    if x.ndim == 1:
        joined = [values.reshape(()) for values in joined]
    return TailMeasures(
        level=level,
        mean=joined[0],
        mean_se=joined[1],
        var=joined[2].astype(np.int64),
        cvar=joined[3],
        cvar_se=joined[4],
        prob_loss=joined[5],
    )


def pool_call(
    pool_pence: NumArray,
    breakeven: BreakevenLevel,
    units: NumArray | None = None,
) -> IntArray:
    """The pool's net call per draw from its shares ``(draws, providers)`` of variance.

    System breakeven: one organisation's underspend offsets another's overspend, so the
    call is Σ of the pool's shares. Organisation breakeven: each organisation (or each
    ``units`` group of columns, e.g. the providers of one pooled budget) is settled on
    its own, so the call is Σ over units of max(the pool's share in the unit, 0).
    """
    shares = np.asarray(pool_pence, dtype=np.int64)
    if breakeven is BreakevenLevel.SYSTEM:
        total: IntArray = shares.sum(axis=1)
        return total
    if units is not None:
        group = np.asarray(units, dtype=np.int64)
        order = np.argsort(group, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(group[order]) != 0])
        shares = np.add.reduceat(shares[:, order], starts, axis=1)
    settled: IntArray = np.maximum(shares, 0).sum(axis=1)
    return settled


def reserve_measures(
    call_pence: NumArray, reserve_pence: int, confidence: float
) -> ReserveMeasures:
    """Expected call E[max(call, 0)], P(call > reserve), E[max(call − reserve, 0)], and the
    reserve needed: the smallest amount the call stays within with probability ≥ confidence.
    """
    call = np.asarray(call_pence, dtype=np.int64).reshape(-1)
    positive = np.maximum(call, 0)
    expected, expected_se = mean_and_se(positive)
    return ReserveMeasures(
        reserve_pence=reserve_pence,
        confidence=confidence,
        expected_call=float(expected),
        expected_call_se=float(expected_se),
        expected_shortfall=float(np.maximum(call - reserve_pence, 0).mean()),
        prob_exceeds=float((call > reserve_pence).mean()),
        reserve_needed=int(value_at_risk(positive, confidence)),
    )
