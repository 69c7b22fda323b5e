"""Pooled budgets shared pro rata to contributions, hand-worked to the penny."""

from __future__ import annotations

import numpy as np
import pytest

from allocator.riskshare.pooled import partner_contributions, pooled_shares
from allocator.riskshare.scaling import apportion
from models.risk import PooledPartner

M = 100_000_000  # £1m


def test_pro_rata_with_caps() -> None:
    # NHS £30m, council £10m: a 3:1 split.
    # Overspend £8m → £6m / £2m, nothing unallocated.
    # Overspend £50m → 3/4 × 50 = 37.5 > 30, so capped: £30m / £10m, £10m unallocated.
    # Underspend £8m → −£6m / −£2m.
    ids, contributions = partner_contributions(
        [
            PooledPartner(funder_id="NHS", contribution_pence=30 * M),
            PooledPartner(funder_id="LA", contribution_pence=10 * M),
        ]
    )
    out = pooled_shares(np.array([8 * M, 50 * M, -8 * M]), contributions)
    assert ids == ["NHS", "LA"]
    assert out.partner_pence.tolist() == [[6 * M, 2 * M], [30 * M, 10 * M], [-6 * M, -2 * M]]
    assert out.unallocated_pence.tolist() == [0, 10 * M, 0]


def test_largest_remainder_keeps_the_total() -> None:
    # 1p at 3:1 → 0.75p / 0.25p → the larger remainder gets the penny: [1, 0].
    # 10p in three equal parts → 3.33p each → the first (tie) gets the spare penny.
    # 5p at 1:1 → 2.5p / 2.5p → tie to the earlier partner: [3, 2].
    assert pooled_shares(np.array([1]), [3, 1]).partner_pence.tolist() == [[1, 0]]
    assert pooled_shares(np.array([10]), [100, 100, 100]).partner_pence.tolist() == [[4, 3, 3]]
    assert pooled_shares(np.array([5, -5]), [7, 7]).partner_pence.tolist() == [[3, 2], [-3, -2]]


def test_large_contributions_stay_exact() -> None:
    # Contributions near £10bn make total × weight overflow int64; the result is exact.
    weights = np.array([999_999_999_937, 123_456_789_011, 1])
    total = np.array([int(weights.sum()) - 17, 987_654_321_987])
    parts = apportion(total, weights)
    whole = int(weights.sum())
    for row, t in zip(parts.tolist(), total.tolist(), strict=True):
        assert sum(row) == t
        for part, w in zip(row, weights.tolist(), strict=True):
            assert t * w // whole <= part <= -(-t * w // whole)


def test_a_pooled_budget_needs_contributions() -> None:
    with pytest.raises(ValueError, match="positive total"):
        pooled_shares(np.array([5]), [0, 0])
    with pytest.raises(ValueError, match="positive total"):
        pooled_shares(np.array([5]), [])
