"""Risk-share agreement arithmetic: split each variance between the provider and the pool.

Variance ``v = actual cost − budget`` in integer pence (positive: overspend). For an
overspend, the bands of the agreement are laid end to end from zero: the provider bears
``provider_share`` of the part of the overspend inside each band, rounded to the penny
(halves away from zero, exact integer arithmetic, shares read to nine decimal places).
Beyond the last bounded band the pool bears it all; an unbounded last band runs for
ever. Underspend bands give, the same way, the provider's retained share of a gain.
Then the caps: the provider's loss is at most ``loss_cap_pence`` and its retained gain
at most ``gain_cap_pence``. The pool's part is ``v − provider`` for every draw, so the
two always add up to the variance exactly.

Agreements are compiled once to padded arrays (:class:`BandTable`: one row per provider,
one column per band); :func:`share_variance` then works on a whole ``(draws, providers)``
array: one vectorised pass per band over blocks of draws sized to stay in cache (no
Python loop over draws or providers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from allocator.riskshare.scaling import CHUNK_ELEMENTS, SHARE_SCALE, share_to_ppb
from allocator.types import IntArray, NumArray
from models.enums import RiskShareProfile
from models.risk import RiskShareAgreement, VarianceBand

UNBOUNDED_PENCE = 2**62
"""Width standing for an unbounded band, and the cap standing for "no cap"."""

PROVIDER_BEARS_ALL = RiskShareAgreement(
    agreement_id="provider-bears-all",
    name="No agreement: the provider bears its whole variance",
    overspend_bands=(VarianceBand(provider_share=1.0),),
    underspend_bands=(VarianceBand(provider_share=1.0),),
)
"""What a provider without an agreement is held to (organisation-level breakeven)."""


@dataclass(frozen=True, slots=True)
class BandTable:
    """Agreements as padded int64 arrays; row ``k`` applies to column ``k`` of the variances.

    ``*_start_pence`` is where each band begins (the sum of the widths before it),
    ``*_width_pence`` its width (:data:`UNBOUNDED_PENCE` when unbounded, 0 for padding),
    ``*_share_ppb`` the provider's share in parts per billion. Caps without a limit hold
    :data:`UNBOUNDED_PENCE`. A table of one row applies to every column.
    """

    over_start_pence: IntArray
    over_width_pence: IntArray
    over_share_ppb: IntArray
    under_start_pence: IntArray
    under_width_pence: IntArray
    under_share_ppb: IntArray
    loss_cap_pence: IntArray
    gain_cap_pence: IntArray

    @property
    def rows(self) -> int:
        return int(self.loss_cap_pence.shape[0])


def _compile_side(
    sides: Sequence[Sequence[VarianceBand]],
) -> tuple[IntArray, IntArray, IntArray]:
    depth = max((len(bands) for bands in sides), default=0)
    start = np.zeros((len(sides), depth), dtype=np.int64)
    width = np.zeros((len(sides), depth), dtype=np.int64)
    share = np.zeros((len(sides), depth), dtype=np.int64)
    for k, bands in enumerate(sides):
        edge = 0
        for j, band in enumerate(bands):
            w = UNBOUNDED_PENCE if band.width_pence is None else band.width_pence
            start[k, j], width[k, j], share[k, j] = edge, w, share_to_ppb(band.provider_share)
            edge = min(edge + w, UNBOUNDED_PENCE)
    return start, width, share


def compile_agreements(agreements: Sequence[RiskShareAgreement]) -> BandTable:
    """Compile agreements (one per provider column) to a :class:`BandTable`.

    A ``pooled_pro_rata`` agreement compiles to no bands: the provider keeps nothing and
    the whole variance goes to the pool's side, which :mod:`allocator.riskshare.pooled`
    then splits between the partners.
    """
    banded = [a.profile is RiskShareProfile.BANDS for a in agreements]
    over = _compile_side(
        [a.overspend_bands if b else () for a, b in zip(agreements, banded, strict=True)]
    )
    under = _compile_side(
        [a.underspend_bands if b else () for a, b in zip(agreements, banded, strict=True)]
    )

    def cap(value: int | None) -> int:
        return UNBOUNDED_PENCE if value is None else value

    return BandTable(
        *over,
        *under,
        loss_cap_pence=np.array([cap(a.loss_cap_pence) for a in agreements], dtype=np.int64),
        gain_cap_pence=np.array([cap(a.gain_cap_pence) for a in agreements], dtype=np.int64),
    )


_INT64_ROOM = 2.0**62  # products below this cannot overflow int64 after rounding terms


def _banded_part(
    magnitude: IntArray, side: tuple[IntArray, IntArray, IntArray], work: list[IntArray]
) -> None:
    """``work[0]`` = Σ over bands of round(share × part of ``magnitude`` in the band).

    ``magnitude`` is non-negative; ``side`` is (start, width, share ppb). With the band's
    shares over every column reduced to ``a / d`` (``d`` = 10⁹ / their common divisor with
    10⁹, so 50% is 1/2), each part is ``floor((2 × part × a + d) / (2d))``: round half up,
    exactly. Done directly when ``2 × part × a`` cannot leave int64 (checked per band on
    the largest part possible in this chunk), else on ``part = hi × d + lo`` so that no
    intermediate does. Writes into the preallocated ``work`` buffers.
    """
    total, inside, hi, tmp = work
    start, width, share = side
    total[...] = 0
    largest = magnitude.max(axis=0, initial=0)
    for j in range(start.shape[1]):
        if not share[:, j].any():
            continue  # a band the provider has no share in adds nothing
        common = int(np.gcd.reduce(share[:, j], initial=SHARE_SCALE))
        whole, twice = SHARE_SCALE // common, 2 * (share[:, j] // common)
        np.subtract(magnitude, start[:, j], out=inside)
        np.maximum(inside, 0, out=inside)
        np.minimum(inside, width[:, j], out=inside)
        if whole == 1:  # every column bears 100% or 0% of this band: no rounding
            np.multiply(inside, twice // 2, out=inside)
            total += inside
            continue
        reach = np.minimum(width[:, j], largest).astype(np.float64)
        if float((reach * twice).max(initial=0.0)) < _INT64_ROOM:
            np.multiply(inside, twice, out=inside)
        else:
            np.floor_divide(inside, whole, out=hi)
            np.multiply(hi, whole, out=tmp)
            np.subtract(inside, tmp, out=inside)
            np.multiply(inside, twice, out=inside)
            np.multiply(hi, twice // 2, out=hi)
            total += hi
        np.add(inside, whole, out=inside)
        np.floor_divide(inside, 2 * whole, out=inside)
        total += inside


def share_variance(variance_pence: NumArray, table: BandTable) -> tuple[IntArray, IntArray]:
    """Split variances ``(draws, providers)`` (or ``(draws,)``) under compiled agreements.

    A one-dimensional variance is one provider's draws (the table must have one row).
    Returns ``(provider_pence, pool_pence)`` of the variance's shape, signed like the
    variance: a positive provider part is a loss it bears, a negative one a gain it keeps.
    ``provider + pool == variance`` exactly, elementwise. Rows are processed in chunks
    small enough to stay in cache, one pass per band.
    """
    given = np.asarray(variance_pence, dtype=np.int64)
    v = given.reshape(-1, 1) if given.ndim == 1 else given
    if v.ndim != 2 or table.rows not in (1, v.shape[1]):
        raise ValueError(f"variance of shape {given.shape} does not fit {table.rows} agreements")
    over = (table.over_start_pence, table.over_width_pence, table.over_share_ppb)
    under = (table.under_start_pence, table.under_width_pence, table.under_share_ppb)
    provider = np.empty_like(v)
    pool = np.empty_like(v)
    rows = max(1, CHUNK_ELEMENTS // max(1, v.shape[1]))
    buffers = [np.empty((min(rows, v.shape[0]), v.shape[1]), dtype=np.int64) for _ in range(6)]
    for first in range(0, v.shape[0], rows):
        x = v[first : first + rows]
        magnitude, gain, *work = (b[: x.shape[0]] for b in buffers)
        np.maximum(x, 0, out=magnitude)
        _banded_part(magnitude, over, work)
        loss = np.minimum(work[0], table.loss_cap_pence, out=work[0])
        np.negative(x, out=magnitude)
        np.maximum(magnitude, 0, out=magnitude)
        _banded_part(magnitude, under, [gain, *work[1:]])
        np.minimum(gain, table.gain_cap_pence, out=gain)
        mine = provider[first : first + rows]
        np.subtract(loss, gain, out=mine)
        np.subtract(x, mine, out=pool[first : first + rows])
    return provider.reshape(given.shape), pool.reshape(given.shape)


def provider_share(
    variance_pence: NumArray, agreement: RiskShareAgreement
) -> tuple[IntArray, IntArray]:
    """Split variances (any shape) under one agreement: ``(provider_pence, pool_pence)``.

    >>> from models.risk import VarianceBand
    >>> corridor = RiskShareAgreement(
    ...     agreement_id="c", overspend_bands=(VarianceBand(provider_share=0.5),)
    ... )
    >>> [p.tolist() for p in provider_share(np.array([120_000_000, 7, -100]), corridor)]
    [[60000000, 4, 0], [60000000, 3, -100]]
    """
    v = np.asarray(variance_pence, dtype=np.int64)
    provider, pool = share_variance(v.reshape(-1, 1), compile_agreements([agreement]))
    return provider.reshape(v.shape), pool.reshape(v.shape)
