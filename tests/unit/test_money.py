"""Exact money: largest remainder, pounds and pence, and the pool breakdown."""

from __future__ import annotations

import doctest
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

import allocator.domain.money
import allocator.domain.pot
from allocator.domain.money import gbp_to_pence, pence_to_gbp_decimal, pence_to_gbp_str
from allocator.domain.pot import pot_breakdown
from allocator.domain.rounding import largest_remainder, largest_remainder_by_group
from models import Scenario


@pytest.mark.parametrize("module", [allocator.domain.money, allocator.domain.pot])
def test_doctests(module: Any) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_ties_go_to_the_lower_index() -> None:
    assert largest_remainder(2, [1, 1, 1]).tolist() == [1, 1, 0]
    assert largest_remainder(1, [1, 1, 1]).tolist() == [1, 0, 0]
    assert largest_remainder(5, [0.25, 0.25, 0.25, 0.25]).tolist() == [2, 1, 1, 1]


def test_exact_shares_are_not_disturbed() -> None:
    assert largest_remainder(10**15, [1.0, 3.0]).tolist() == [
        250_000_000_000_000,
        750_000_000_000_000,
    ]
    assert largest_remainder(100, [0.1, 0.2, 0.7]).tolist() == [10, 20, 70]


def test_large_totals_and_awkward_weights_stay_exact() -> None:
    weights = [1e-12, 3.3, 7e11, 0.1 + 0.2, 1.0]
    total = 10**15 - 7
    parts = largest_remainder(total, weights)
    assert parts.dtype == np.int64
    assert int(parts.sum()) == total
    exact = [Fraction(total) * Fraction(w) / sum(Fraction(x) for x in weights) for w in weights]
    assert all(abs(int(p) - e) < 1 for p, e in zip(parts, exact, strict=True))


def test_accepts_numpy_arrays_and_zero_weights() -> None:
    parts = largest_remainder(7, np.array([0.0, 2.0, 0.0, 5.0]))
    assert parts.tolist() == [0, 2, 0, 5]
    assert largest_remainder(0, np.zeros(3)).tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    ("total", "weights"),
    [
        (-1, [1.0]),
        (5, [0.0, 0.0]),
        (5, []),
        (5, [1.0, -1.0]),
        (5, [float("nan")]),
        (5, [[1.0]]),
        (2**62, [1.0]),
    ],
)
def test_invalid_inputs_raise(total: int, weights: Any) -> None:
    with pytest.raises(ValueError):
        largest_remainder(total, weights)


def test_pounds_and_pence() -> None:
    assert pence_to_gbp_str(123_456_789) == "£1,234,567.89"
    assert pence_to_gbp_str(-100) == "-£1.00"
    assert pence_to_gbp_str(np.int64(7)) == "£0.07"
    assert pence_to_gbp_decimal(5) == Decimal("0.05")
    assert gbp_to_pence(Decimal("12.30")) == 1230
    assert gbp_to_pence(7) == 700
    assert gbp_to_pence(0.29) == 29  # 0.29 * 100 is 28.999... in floats; read as typed
    assert gbp_to_pence(" £1,000.5 ") == 100_050
    for bad in ("abc", 1.234, "1.001", float("inf"), True):
        with pytest.raises(ValueError):
            gbp_to_pence(bad)


def _with(tiny: Scenario, **changes: Any) -> Scenario:
    return Scenario.model_validate({**tiny.model_dump(mode="json"), **changes})


def test_pot_of_the_tiny_example(tiny: Scenario) -> None:
    pot = pot_breakdown(tiny)
    assert pot.total_pence == 1_200_000_000
    assert pot.pass_through_pence == 0
    assert pot.pooled_pence == 1_200_000_000
    assert pot.reserve_pence == 24_000_000
    assert pot.capitated_pence == 1_176_000_000
    assert pot.reserve_by_funder_pence == {"NHS": 20_000_000, "LA": 4_000_000}
    assert pot.pooled_by_funder_pence == {"NHS": 1_000_000_000, "LA": 200_000_000}


def test_pot_with_pass_through_and_an_awkward_reserve(tiny: Scenario) -> None:
    doc = tiny.model_dump(mode="json")
    doc["funders"][0]["amount_pence"] = 1_000_000_001
    doc["funders"][0]["pass_through"] = [{"provider_id": "C", "amount_pence": 333}]
    doc["funders"][1]["amount_pence"] = 200_000_002
    doc["reserve"] = {"share": 1 / 3}
    pot = pot_breakdown(Scenario.model_validate(doc))
    assert pot.pass_through_pence == 333
    assert pot.pooled_pence == 1_199_999_670
    assert pot.reserve_pence == round(Fraction(Decimal(repr(1 / 3))) * pot.pooled_pence)
    assert sum(pot.reserve_by_funder_pence.values()) == pot.reserve_pence
    assert pot.total_pence == pot.pass_through_pence + pot.reserve_pence + pot.capitated_pence
    assert pot.pooled_by_funder_pence["NHS"] == 1_000_000_001 - 333


def test_reserve_rounds_half_up_and_amounts_are_used_as_given(tiny: Scenario) -> None:
    doc = tiny.model_dump(mode="json")
    doc["funders"] = [{"funder_id": "F", "amount_pence": 100}]
    doc["ring_fences"] = []
    doc["reserve"] = {"share": 0.005}
    assert pot_breakdown(Scenario.model_validate(doc)).reserve_pence == 1  # 0.5p rounds up
    doc["reserve"] = {"amount_pence": 40}
    pot = pot_breakdown(Scenario.model_validate(doc))
    assert (pot.reserve_pence, pot.capitated_pence) == (40, 60)
    doc["reserve"] = {}
    assert pot_breakdown(Scenario.model_validate(doc)).reserve_pence == 0


def test_an_impossible_pool_raises(tiny: Scenario) -> None:
    doc = tiny.model_dump(mode="json")
    doc["reserve"] = {"amount_pence": 2_000_000_000}
    with pytest.raises(ValueError, match="larger than the pooled money"):
        pot_breakdown(Scenario.model_validate(doc))
    doc["reserve"] = {}
    doc["funders"][1]["pass_through"] = [{"provider_id": "C", "amount_pence": 300_000_000}]
    with pytest.raises(ValueError, match="passes through more than it brings"):
        pot_breakdown(Scenario.model_validate(doc))


def test_grouped_largest_remainder_splits_each_group_on_its_own() -> None:
    # Group 1 has no members (skipped); group 2's weights span more bits than int64 holds.
    totals = [100, 5, 10**15 - 7]
    group = [0, 2, 0, 2, 0, 2]
    weights = [1.0, 1e-12, 1.0, 7e11, 1.0, 3.3]
    parts = largest_remainder_by_group(totals, group, weights)
    assert parts[[0, 2, 4]].tolist() == largest_remainder(100, [1.0, 1.0, 1.0]).tolist()
    assert parts[[1, 3, 5]].tolist() == largest_remainder(10**15 - 7, [1e-12, 7e11, 3.3]).tolist()
    assert parts.dtype == np.int64


def test_grouped_largest_remainder_refuses_what_largest_remainder_refuses() -> None:
    with pytest.raises(ValueError):
        largest_remainder_by_group([5], [0, 0], [0.0, 0.0])
    with pytest.raises(ValueError):
        largest_remainder_by_group([-1], [0], [1.0])
    assert largest_remainder_by_group([0], [0, 0], [0.0, 0.0]).tolist() == [0, 0]
