"""Exact integer helpers for sharing money in pence: shares to the billionth, no floats.

A share (0–1) is read to nine decimal places as an integer number of parts per billion
(``ppb``), so every split below is exact integer arithmetic on int64 arrays: a part of
an amount is rounded to the penny with halves away from zero, and whatever one side does
not get the other side gets, so totals never break.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from allocator.types import IntArray, NumArray

SHARE_SCALE = 1_000_000_000
"""Parts per billion in a whole: shares are read to nine decimal places."""


def share_to_ppb(share: float) -> int:
    """A share as parts per billion, read as the decimal it was written as.

    >>> share_to_ppb(0.2), share_to_ppb(0.75), share_to_ppb(1.0)
    (200000000, 750000000, 1000000000)
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"a share must be between 0 and 1, got {share!r}")
    return int((Decimal(repr(share)) * SHARE_SCALE).to_integral_value())


CHUNK_ELEMENTS = 200_000
"""Elements per pass in the chunked kernels: temporaries stay in cache, not in new pages."""


def _scale_chunk(amount: IntArray, above: IntArray, below: IntArray) -> IntArray:
    ppb = np.where(amount >= 0, above, below)
    magnitude = np.abs(amount)
    hi = magnitude // SHARE_SCALE
    lo = magnitude - hi * SHARE_SCALE
    part: IntArray = hi * ppb + (2 * lo * ppb + SHARE_SCALE) // (2 * SHARE_SCALE)
    np.negative(part, out=part, where=amount < 0)
    return part


def scale_signed(
    amount_pence: NumArray, *, above_ppb: NumArray | int, below_ppb: NumArray | int
) -> IntArray:
    """``amount × share / 10⁹`` to the penny, halves away from zero, exactly; the share is
    ``above_ppb`` where the amount is ≥ 0 and ``below_ppb`` where it is negative.

    Both shares (0 to 10⁹) broadcast to the amount's shape. Splitting each amount as
    ``hi × 10⁹ + lo`` keeps every intermediate inside int64. Rows are done in chunks.

    >>> amounts = np.array([[10, -10], [5, -5]])
    >>> scale_signed(amounts, above_ppb=[500_000_000, 0], below_ppb=200_000_000).tolist()
    [[5, -2], [3, -1]]
    """
    amount = np.asarray(amount_pence, dtype=np.int64)
    above = np.broadcast_to(np.asarray(above_ppb, dtype=np.int64), amount.shape)
    below = np.broadcast_to(np.asarray(below_ppb, dtype=np.int64), amount.shape)
    if amount.ndim == 0 or amount.size <= CHUNK_ELEMENTS:
        return _scale_chunk(amount, above, below)
    out = np.empty_like(amount)
    rows = max(1, CHUNK_ELEMENTS * amount.shape[0] // amount.size)
    for first in range(0, amount.shape[0], rows):
        part = slice(first, first + rows)
        out[part] = _scale_chunk(amount[part], above[part], below[part])
    return out


def scale_half_away(amount_pence: NumArray, share_ppb: NumArray | int) -> IntArray:
    """``amount × share_ppb / 10⁹`` rounded to the penny, halves away from zero, exactly.

    >>> scale_half_away(np.array([5, -5, 3, 10**15]), 500_000_000).tolist()
    [3, -3, 2, 500000000000000]
    """
    return scale_signed(amount_pence, above_ppb=share_ppb, below_ppb=share_ppb)


def apportion(total_pence: NumArray, weights: NumArray) -> IntArray:
    """Split each non-negative total in proportion to integer weights, by largest remainder.

    ``total_pence`` has shape ``(n,)``, ``weights`` shape ``(m,)`` (non-negative int64, not
    all zero, sum below 3 × 10¹⁸); the result ``(n, m)`` sums along its last axis to the
    totals exactly. Each part is ``floor(total × w / W)`` plus one penny for the parts with
    the largest remainders (ties to the earlier weight). When ``total <= W`` no part
    exceeds its weight. The quotient is estimated in float64 and made exact with the
    remainder computed in wrapping int64 arithmetic (the true remainder is small).

    >>> apportion(np.array([10, 7]), np.array([1, 1, 1])).tolist()
    [[4, 3, 3], [3, 2, 2]]
    """
    total = np.asarray(total_pence, dtype=np.int64)
    w = np.asarray(weights, dtype=np.int64)
    whole = int(w.sum())
    if whole <= 0 or int(w.min(initial=0)) < 0:
        raise ValueError("weights must be non-negative and not all zero")
    if int(total.min(initial=0)) < 0 or int(total.max(initial=0)) >= 2**52:
        raise ValueError("totals must be non-negative and below 2**52 pence")
    t = total[:, None]
    quotient = np.floor(t.astype(np.float64) * (w / whole)).astype(np.int64)
    with np.errstate(over="ignore"):
        remainder = t * w - quotient * whole  # exact modulo 2**64, and truly small
    while True:  # the float estimate is off by at most a unit or two
        low = remainder < 0
        high = remainder >= whole
        if not (low.any() or high.any()):
            break
        quotient += high.astype(np.int64) - low.astype(np.int64)
        remainder += whole * (low.astype(np.int64) - high.astype(np.int64))
    leftover = total - quotient.sum(axis=1)
    order = np.argsort(-remainder, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(w.size)[None, :], axis=1)
    parts: IntArray = quotient + (rank < leftover[:, None]).astype(np.int64)
    return parts
