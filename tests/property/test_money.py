"""Largest remainder never breaks a total, and each part is within a penny of its exact share."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.domain.money import gbp_to_pence, pence_to_gbp_decimal
from allocator.domain.rounding import largest_remainder, largest_remainder_by_group

weights = st.lists(
    st.one_of(
        st.floats(min_value=0.0, max_value=1e12, allow_nan=False, allow_infinity=False),
        st.integers(0, 10**6).map(float),
        st.sampled_from([0.0, 1e-300, 5e-324, 0.1, 1 / 3]),
    ),
    min_size=1,
    max_size=40,
).filter(lambda ws: any(w > 0 for w in ws))


@settings(max_examples=300)
@given(total=st.integers(0, 10**15), ws=weights)
def test_parts_sum_exactly_and_stay_within_one_of_the_exact_share(
    total: int, ws: list[float]
) -> None:
    parts = largest_remainder(total, ws)
    assert int(parts.sum()) == total
    assert (parts >= 0).all()
    whole = sum(Fraction(w) for w in ws)
    for part, w in zip(parts.tolist(), ws, strict=True):
        exact = Fraction(total) * Fraction(w) / whole
        assert abs(part - exact) < 1


@given(total=st.integers(0, 10**12), ws=weights)
def test_deterministic_and_scale_free(total: int, ws: list[float]) -> None:
    first = largest_remainder(total, ws).tolist()
    assert largest_remainder(total, ws).tolist() == first
    assert (
        largest_remainder(total, [w * 4.0 for w in ws]).tolist() == first
    )  # powers of 2 are exact


@given(st.integers(-(10**15), 10**15))
def test_pence_to_pounds_and_back(pence: int) -> None:
    assert gbp_to_pence(pence_to_gbp_decimal(pence)) == pence
    assert gbp_to_pence(float(pence_to_gbp_decimal(pence))) == pence


@settings(max_examples=200)
@given(
    groups=st.lists(st.tuples(st.integers(0, 10**15), weights), min_size=1, max_size=6),
    data=st.data(),
)
def test_grouped_largest_remainder_is_largest_remainder_per_group(
    groups: list[tuple[int, list[float]]], data: st.DataObject
) -> None:
    """All groups at once (members interleaved in any order) equal one call per group."""
    members = [(g, w) for g, (_, ws) in enumerate(groups) for w in ws]
    order = data.draw(st.permutations(range(len(members))))
    group = [members[k][0] for k in order]
    ws = [members[k][1] for k in order]
    parts = largest_remainder_by_group([total for total, _ in groups], group, ws).tolist()
    for g, (total, _) in enumerate(groups):
        mine = [p for p, owner in zip(parts, group, strict=True) if owner == g]
        their_weights = [w for w, owner in zip(ws, group, strict=True) if owner == g]
        assert mine == largest_remainder(total, their_weights).tolist()
