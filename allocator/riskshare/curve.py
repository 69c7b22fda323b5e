"""An agreement's sharing arithmetic as a continuous piecewise-linear curve, for the optimiser.

For the variance ``r`` left after the payment mechanism (pence, positive: overspend), the
provider's part ``f(r)`` under a banded agreement is continuous and piecewise linear with
``f(0) = 0``: its slope is the band's provider share, 0 beyond the last bounded band and
beyond a cap. (:mod:`~allocator.riskshare.agreements` rounds each band to the penny; the
curve is the same arithmetic before rounding, so the two differ by at most a penny a band.)
The pool's part ``r − f(r)`` is the curve with every slope ``s`` replaced by ``1 − s``.

A loss curve is convex where the slopes rise from left to right (on the overspend side:
shares that do not fall outwards, and no loss cap). Only then is ``CVaR(f(r))`` a convex
function of the budget, which linear constraints can hold exactly. Any curve splits into
``h1 − h2``, both convex: ``h1`` keeps the kinks where the slope rises, ``h2`` those where it
falls. :func:`majorant` replaces ``−h2`` by its tangent at a chosen point, which lies above
it, so ``h1 − tangent`` is a convex curve that is never below ``f`` and equals it at the
point (the convex–concave procedure).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from allocator.types import FloatArray, NumArray
from models.enums import RiskShareProfile
from models.risk import RiskShareAgreement, VarianceBand


@dataclass(frozen=True, slots=True)
class Curve:
    """``f(r) = m₀·r + Σ_k Δ_k·((r − b_k)⁺ − (−b_k)⁺)``: slopes between increasing breaks.

    ``slopes[0]`` applies left of ``breaks[0]``, ``slopes[k]`` between ``breaks[k-1]`` and
    ``breaks[k]``; ``f(0) = 0``.
    """

    breaks: FloatArray
    slopes: FloatArray

    def __post_init__(self) -> None:
        if self.slopes.shape != (self.breaks.size + 1,):
            raise ValueError("a curve needs one slope more than it has breaks")

    @property
    def kinks(self) -> FloatArray:
        """How much the slope changes at each break (positive: convex there)."""
        change: FloatArray = np.diff(self.slopes)
        return change

    @property
    def is_convex(self) -> bool:
        return bool(np.all(self.kinks >= 0.0))

    def __call__(self, r: NumArray | float) -> FloatArray:
        x = np.asarray(r, dtype=np.float64)
        out: FloatArray = self.slopes[0] * x
        for b, d in zip(self.breaks, self.kinks, strict=True):
            out = out + d * (np.maximum(x - b, 0.0) - max(-b, 0.0))
        return out

    def level_at(self, value: float) -> float:
        """The smallest ``r`` with ``f(r) ≥ value`` (``±inf`` when ``f`` never reaches it, or
        always does). ``f`` must not decrease (a provider's or the pool's part does not).

        >>> Curve(np.array([0.0, 10.0]), np.array([0.0, 1.0, 0.0])).level_at(4.0)
        4.0
        """
        points = self(self.breaks)
        if self.breaks.size == 0:
            slope = float(self.slopes[0])
            return value / slope if slope > 0 else (-math.inf if value <= 0 else math.inf)
        if value <= points[0]:
            return (
                float(self.breaks[0] - (points[0] - value) / self.slopes[0])
                if self.slopes[0] > 0
                else -math.inf
            )
        for k in range(1, self.breaks.size):
            if value <= points[k]:
                return float(self.breaks[k - 1] + (value - points[k - 1]) / self.slopes[k])
        last = float(self.slopes[-1])
        return float(self.breaks[-1] + (value - points[-1]) / last) if last > 0 else math.inf

    def complement(self) -> Curve:
        """The pool's part ``r − f(r)``."""
        return Curve(self.breaks, 1.0 - self.slopes)


def _normalised(breaks: Sequence[float], slopes: Sequence[float]) -> Curve:
    """Drop breaks of zero length and breaks where the slope does not change."""
    b, s = [*breaks], [*slopes]
    k = 0
    while k < len(b):
        if k + 1 < len(b) and b[k + 1] <= b[k]:  # an empty piece between two breaks
            del b[k + 1], s[k + 1]
        elif s[k] == s[k + 1]:
            del b[k], s[k + 1]
        else:
            k += 1
    return Curve(np.array(b, dtype=np.float64), np.array(s, dtype=np.float64))


def _side(bands: Sequence[VarianceBand], cap: int | None) -> tuple[list[float], list[float]]:
    """Pieces on one side, by magnitude from 0: (start of each piece, its slope)."""
    starts, slopes = [0.0], []
    edge, value = 0.0, 0.0
    limit = math.inf if cap is None else float(cap)
    for band in bands:
        width = math.inf if band.width_pence is None else float(band.width_pence)
        share = band.provider_share
        if share > 0.0 and cap is not None and value + share * width >= limit:
            slopes.append(share)
            starts.append(edge + (limit - value) / share)
            slopes.append(0.0)  # the cap is reached: the pool bears the rest
            return starts, slopes
        slopes.append(share)
        if math.isinf(width):
            return starts, slopes
        edge, value = edge + width, value + share * width
        starts.append(edge)
    slopes.append(0.0)  # beyond the last bounded band the pool bears it all
    return starts, slopes


def agreement_curve(agreement: RiskShareAgreement | None) -> Curve:
    """The provider's part of the remaining variance; no agreement: it bears it all.

    A pooled budget (``pooled_pro_rata``) leaves the provider nothing.

    >>> from models.risk import VarianceBand
    >>> corridor = RiskShareAgreement(
    ...     agreement_id="c",
    ...     overspend_bands=(VarianceBand(width_pence=100, provider_share=1.0),
    ...                      VarianceBand(provider_share=0.5)),
    ...     loss_cap_pence=150,
    ... )
    >>> curve = agreement_curve(corridor)
    >>> curve.breaks.tolist(), curve.slopes.tolist(), curve(np.array([-50, 120, 400])).tolist()
    ([0.0, 100.0, 200.0], [0.0, 1.0, 0.5, 0.0], [0.0, 110.0, 150.0])
    """
    if agreement is None:
        return Curve(np.zeros(0), np.ones(1))
    if agreement.profile is RiskShareProfile.POOLED_PRO_RATA:
        return Curve(np.zeros(0), np.zeros(1))
    over_starts, over_slopes = _side(agreement.overspend_bands, agreement.loss_cap_pence)
    under_starts, under_slopes = _side(agreement.underspend_bands, agreement.gain_cap_pence)
    breaks = [-m for m in reversed(under_starts[1:])] + [0.0] + over_starts[1:]
    slopes = [*reversed(under_slopes), *over_slopes]
    return _normalised(breaks, slopes)


@dataclass(frozen=True, slots=True)
class Lines:
    """Straight lines ``slope·r + intercept`` whose maximum is a convex curve."""

    slopes: FloatArray
    intercepts: FloatArray


def _pieces(breaks: FloatArray, slopes: FloatArray) -> Lines:
    """Each piece of ``m₀·r + Σ Δ_k((r − b_k)⁺ − (−b_k)⁺)`` extended to a whole line."""
    kinks = np.diff(slopes)
    # On piece i the constant term is Σ_{k<i} Δ_k·(−b_k) − Σ_all Δ_k·(−b_k)⁺.
    offset = -float(np.sum(kinks * np.maximum(-breaks, 0.0)))
    intercepts = offset + np.concatenate([[0.0], np.cumsum(-kinks * breaks)]) + 0.0  # no -0.0
    return Lines(slopes.astype(np.float64), intercepts.astype(np.float64))


def majorant(curve: Curve, at: NumArray) -> tuple[FloatArray, FloatArray]:
    """Lines, one set per point of ``at``, whose maximum is convex, ≥ the curve, = at the point.

    Returns ``(slopes, intercepts)`` of shape ``(lines, points)``. A point may be ``-inf``
    or ``inf``: the tangent of ``h2`` is then its first or last piece. For a convex curve
    the lines are its own pieces, whatever the points.

    >>> capped = Curve(np.array([0.0, 10.0]), np.array([0.0, 1.0, 0.0]))  # min(max(r, 0), 10)
    >>> slopes, intercepts = majorant(capped, np.array([-np.inf, 20.0]))
    >>> slopes.T.tolist(), intercepts.T.tolist()  # max(0, r); then max(10 − r, 10)
    ([[0.0, 1.0], [-1.0, 0.0]], [[0.0, 0.0], [10.0, 10.0]])
    """
    points = np.asarray(at, dtype=np.float64).reshape(-1)
    kinks = curve.kinks
    rising = kinks > 0.0
    convex = _pieces(
        curve.breaks[rising], curve.slopes[0] + np.concatenate([[0.0], np.cumsum(kinks[rising])])
    )
    falling = ~rising & (kinks < 0.0)
    if not falling.any():
        shape = (convex.slopes.size, points.size)
        return (
            np.broadcast_to(convex.slopes[:, None], shape).copy(),
            np.broadcast_to(convex.intercepts[:, None], shape).copy(),
        )
    concave_breaks = curve.breaks[falling]
    concave = _pieces(concave_breaks, np.concatenate([[0.0], np.cumsum(-kinks[falling])]))
    piece = np.searchsorted(concave_breaks, points, side="right")
    slopes: FloatArray = convex.slopes[:, None] - concave.slopes[piece][None, :]
    intercepts: FloatArray = convex.intercepts[:, None] - concave.intercepts[piece][None, :]
    return slopes, intercepts
