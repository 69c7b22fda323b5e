"""Pooled budgets: a variance shared between partners in proportion to their contributions.

A pooled budget (a section 75 agreement between the NHS and a council, a better care
fund) shares its variance between the partners pro rata to what each put in, each
partner's share capped at its contribution. Pro rata, every partner reaches its cap at
the same point, when the variance equals the sum of the contributions; what lies beyond
is ``unallocated_pence``. Shares are whole pence by largest remainder (ties to the
earlier partner), so ``Σ partner shares + unallocated == variance`` exactly, per draw.
An underspend is split the same way, as negative shares (each partner's gain).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from allocator.riskshare.scaling import apportion
from allocator.types import IntArray, NumArray
from models.risk import PooledPartner


@dataclass(frozen=True, slots=True)
class PooledShares:
    """Partners' shares ``(draws, partners)`` and what no partner takes ``(draws,)``."""

    partner_pence: IntArray
    unallocated_pence: IntArray


def pooled_shares(
    variance_pence: NumArray, contributions_pence: NumArray | Sequence[int]
) -> PooledShares:
    """Share a pooled budget's variance ``(draws,)`` between partners by contribution.

    >>> out = pooled_shares(np.array([800_000_000, 5_000_000_000]), [3_000_000_000, 1_000_000_000])
    >>> out.partner_pence.tolist(), out.unallocated_pence.tolist()
    ([[600000000, 200000000], [3000000000, 1000000000]], [0, 1000000000])
    """
    v = np.asarray(variance_pence, dtype=np.int64).reshape(-1)
    weights = np.asarray(contributions_pence, dtype=np.int64).reshape(-1)
    if weights.size == 0 or int(weights.min()) < 0 or int(weights.sum()) <= 0:
        raise ValueError("a pooled budget needs partners with positive total contribution")
    magnitude = np.abs(v)
    shared = np.minimum(magnitude, int(weights.sum()))
    parts = apportion(shared, weights)
    sign = np.where(v < 0, -1, 1).astype(np.int64)
    return PooledShares(
        partner_pence=parts * sign[:, None], unallocated_pence=(magnitude - shared) * sign
    )


def partner_contributions(partners: Sequence[PooledPartner]) -> tuple[list[str], IntArray]:
    """Partners' funder ids and contributions (pence) as an array, in the given order."""
    ids = [p.funder_id for p in partners]
    return ids, np.array([p.contribution_pence for p in partners], dtype=np.int64)
