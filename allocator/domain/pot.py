"""Level 1, the pool: what the funders bring, what passes through, the reserve, the capitated pot.

pooled = total funding − pass-through; reserve = share × pooled (rounded half up to the
penny, reading the share as the decimal the user wrote) or a fixed amount; capitated pot =
pooled − reserve. The reserve is split between funders in proportion to their pooled
money by largest remainder, so the funders' parts add up to the reserve exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from allocator.domain.rounding import largest_remainder
from models import ContingencyReserve, Scenario


@dataclass(frozen=True)
class PotBreakdown:
    """The pool in exact pence; ``total = pass_through + reserve + capitated``."""

    total_pence: int
    pass_through_pence: int
    pooled_pence: int
    reserve_pence: int
    capitated_pence: int
    reserve_by_funder_pence: dict[str, int]
    pooled_by_funder_pence: dict[str, int]


def reserve_pence(reserve: ContingencyReserve, pooled_pence: int) -> int:
    """The contingency reserve held back from ``pooled_pence``.

    >>> reserve_pence(ContingencyReserve(share=0.02), 1_200_000_000)
    24000000
    >>> reserve_pence(ContingencyReserve(share=0.015), 100)  # 1.5p rounds half up
    2
    >>> reserve_pence(ContingencyReserve(), 5)
    0
    """
    if reserve.amount_pence is not None:
        return reserve.amount_pence
    if reserve.share is None:
        return 0
    exact = Decimal(repr(reserve.share)) * pooled_pence
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def scenario_reserve_pence(scenario: Scenario) -> int:
    """A scenario's contingency reserve: its amount, or its share of pooled money (half up).

    Pooled money is every funder's amount less what it passes through.
    """
    pooled = sum(
        f.amount_pence - sum(p.amount_pence for p in f.pass_through) for f in scenario.funders
    )
    return reserve_pence(scenario.reserve, pooled)


def pot_breakdown(scenario: Scenario) -> PotBreakdown:
    """Split the funders' money into pass-through, reserve and the capitated pot.

    Raises ValueError when a funder passes through more than it brings or the reserve is
    larger than the pooled money (validation reports both, located, before this runs).
    """
    pooled_by_funder: dict[str, int] = {}
    pass_through = 0
    for funder in scenario.funders:
        passed = sum(item.amount_pence for item in funder.pass_through)
        if passed > funder.amount_pence:
            raise ValueError(
                f"funder {funder.funder_id} passes through more than it brings "
                f"({passed} > {funder.amount_pence} pence)"
            )
        pass_through += passed
        pooled_by_funder[funder.funder_id] = (
            pooled_by_funder.get(funder.funder_id, 0) + funder.amount_pence - passed
        )
    total = scenario.total_funding_pence()
    pooled = total - pass_through
    reserve = reserve_pence(scenario.reserve, pooled)
    if reserve > pooled:
        raise ValueError(
            f"the reserve ({reserve} pence) is larger than the pooled money ({pooled})"
        )
    ids = list(pooled_by_funder)
    parts = largest_remainder(reserve, [float(pooled_by_funder[f]) for f in ids])
    return PotBreakdown(
        total_pence=total,
        pass_through_pence=pass_through,
        pooled_pence=pooled,
        reserve_pence=reserve,
        capitated_pence=pooled - reserve,
        reserve_by_funder_pence={f: int(p) for f, p in zip(ids, parts, strict=True)},
        pooled_by_funder_pence=pooled_by_funder,
    )
