"""Exact money in integer pence: largest-remainder apportionment, pounds <-> pence, £ text.

Published figures are integer pence that must add up exactly (spec section 3). Splitting
a total between parts by weight is done by largest remainder on the *exact* rational
shares of the weights: every float64 weight is an integer times a power of two, so the
shares are computed with integer arithmetic only (vectorised int64 in the usual case,
Python integers when the weights span too many binary orders of magnitude).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal, InvalidOperation

import numpy as np

from allocator.types import BoolArray, FloatArray, IntArray, NumArray

_INT64_SAFE_BITS = 61  # every intermediate of the int64 path stays below 2**62
_CENT = Decimal("0.01")


def _exact_integer_weights(
    weights: FloatArray, group: IntArray, num_groups: int
) -> tuple[IntArray, IntArray, BoolArray]:
    """Integers proportional to ``weights`` within each group, exactly, as int64 where they fit.

    Each float is ``m × 2**e`` with an integer mantissa ``m`` below ``2**53``; scaling every
    weight of a group by ``2**-min(e)`` over the group gives integers with exactly the same
    ratios. Returns the mantissas ``m``, the shifts that scale them, and per group whether
    the integers ``m << shift`` (and their sum) stay within the int64 arithmetic of
    `_divmod_scaled`; where they do not, the group needs Python integers.
    """
    mantissa, exponent = np.frexp(weights)
    m = (mantissa * 2.0**53).astype(np.int64)
    e = exponent.astype(np.int64) - 53
    nonzero = m != 0
    # Strip trailing zero bits so the integers stay as small as the ratios allow.
    lowest_bit = np.where(nonzero, m & -m, 1)
    trailing = np.frexp(lowest_bit.astype(np.float64))[1].astype(np.int64) - 1
    m = m >> trailing
    e = e + trailing
    lowest_exponent = np.zeros(num_groups, dtype=np.int64)
    lowest_exponent[group[nonzero]] = np.iinfo(np.int64).max
    np.minimum.at(lowest_exponent, group[nonzero], e[nonzero])
    shift = np.where(nonzero, e - lowest_exponent[group], 0)
    bits = np.where(nonzero, np.frexp(m.astype(np.float64))[1].astype(np.int64) + shift, 0)
    widest = np.zeros(num_groups, dtype=np.int64)
    np.maximum.at(widest, group, bits)
    size = np.bincount(group, minlength=num_groups)
    spare_bits = np.where(size > 1, np.ceil(np.log2(np.maximum(size, 1))), 0).astype(np.int64)
    fits = widest + spare_bits <= _INT64_SAFE_BITS
    return m, shift, fits


def _divmod_scaled(
    total: IntArray, u: IntArray, denominator: IntArray
) -> tuple[IntArray, IntArray]:
    """``divmod(total × u, denominator)`` elementwise, exactly.

    Requires ``0 <= u <= denominator < 2**62`` and ``0 <= total < 2**62``, so the quotient
    and remainder fit int64; where the product itself might not, it is formed in Python
    integers (an object array), which never overflow.
    """
    if np.all(total.astype(np.float64) * u.astype(np.float64) < 2.0**62):
        product = total * u
        return product // denominator, product % denominator
    product = total.astype(object) * u.astype(object)
    divisor = denominator.astype(object)
    return (product // divisor).astype(np.int64), (product % divisor).astype(np.int64)


def _largest_remainder_python(total: int, mantissa: IntArray, shift: IntArray) -> IntArray:
    """One group whose exact integer weights overflow int64: the same rule in Python integers."""
    big = [int(mi) << int(si) for mi, si in zip(mantissa.tolist(), shift.tolist(), strict=True)]
    denominator = sum(big)
    pairs = [divmod(total * x, denominator) for x in big]
    parts = np.array([q for q, _ in pairs], dtype=np.int64)
    shortfall = total - sum(q for q, _ in pairs)
    order = sorted(range(len(big)), key=lambda i: (-pairs[i][1], i))
    parts[order[:shortfall]] += 1
    return parts


def _check_weights(weights: Sequence[float] | NumArray) -> FloatArray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1:
        raise ValueError("weights must be one-dimensional")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    return w


def largest_remainder_by_group(
    totals: Sequence[int] | NumArray, group: NumArray, weights: Sequence[float] | NumArray
) -> IntArray:
    """`largest_remainder` of every group at once: ``totals[g]`` split among ``group == g``.

    The parts of each group are exactly those ``largest_remainder(totals[g], weights[group
    == g])`` returns (ties to the lower position); a group with no members is skipped. All
    groups are done together with integer array arithmetic, so splitting every place's
    target among its neighbourhoods costs one pass, not one call per place.

    >>> largest_remainder_by_group([100, 10], [0, 1, 0, 1, 0], [1, 0.5, 1, 0.5, 1]).tolist()
    [34, 5, 33, 5, 33]
    """
    total = np.asarray(totals, dtype=np.int64)
    if total.ndim != 1:
        raise ValueError("totals must be one-dimensional")
    if np.any(total < 0):
        raise ValueError(f"totals must be 0 or more, got {int(total.min())}")
    if np.any(total >= 2**62):
        raise ValueError(f"total {int(total.max())} is too large (the limit is 2**62 pence)")
    w = _check_weights(weights)
    g = np.asarray(group, dtype=np.int64)
    if g.shape != w.shape:
        raise ValueError("group and weights must have the same length")
    num_groups = total.size
    has_weight = np.bincount(g, weights=(w > 0).astype(np.float64), minlength=num_groups) > 0
    has_members = np.bincount(g, minlength=num_groups) > 0
    empty = has_members & ~has_weight & (total > 0)
    if empty.any():
        bad = int(total[np.flatnonzero(empty)[0]])
        raise ValueError(f"cannot split {bad} between parts whose weights are all zero")

    mantissa, shift, fits = _exact_integer_weights(w, g, num_groups)
    u = mantissa << np.where(fits[g], shift, 0)
    denominator = np.zeros(num_groups, dtype=np.int64)
    np.add.at(denominator, g, np.where(fits[g], u, 0))
    in_int64 = fits[g] & has_weight[g]
    quotient, remainder = _divmod_scaled(total[g[in_int64]], u[in_int64], denominator[g[in_int64]])
    parts = np.zeros(w.size, dtype=np.int64)
    parts[in_int64] = quotient
    given = np.zeros(num_groups, dtype=np.int64)
    np.add.at(given, g[in_int64], quotient)
    # The pennies left in each group go to its largest remainders (ties: lower position).
    members = np.flatnonzero(in_int64)
    order = members[np.lexsort((members, -remainder, g[in_int64]))]
    first = np.searchsorted(g[order], np.arange(num_groups))
    rank = np.arange(order.size) - first[g[order]]
    parts[order] += (rank < (total - given)[g[order]]).astype(np.int64)
    for wide_group in np.flatnonzero(~fits & has_weight):  # rare: weights span > 2**61
        at = np.flatnonzero(g == wide_group)
        parts[at] = _largest_remainder_python(int(total[wide_group]), mantissa[at], shift[at])
    return parts


def largest_remainder(total: int, weights: Sequence[float] | NumArray) -> IntArray:
    """Split ``total`` into non-negative integer parts proportional to ``weights``.

    Each part is the floor of its exact share ``total × w_i / Σw`` plus one for the
    parts with the largest remainders, so the parts sum to ``total`` exactly and each is
    within 1 of its exact share. Equal remainders go to the lower index (deterministic).
    Weights are read as float64 and must be finite and non-negative; all-zero weights
    are allowed only for a zero total.

    >>> largest_remainder(100, [1, 1, 1]).tolist()
    [34, 33, 33]
    >>> largest_remainder(10, [0.5, 0.25, 0.25]).tolist()
    [5, 3, 2]
    >>> largest_remainder(7, [0.0, 2.0, 0.0]).tolist()
    [0, 7, 0]
    >>> int(largest_remainder(10**15, [1 / 3, 1 / 3, 1 / 3]).sum())
    1000000000000000
    >>> largest_remainder(0, []).tolist()
    []
    """
    total = int(total)
    if total < 0:
        raise ValueError(f"total must be 0 or more, got {total}")
    if total >= 2**62:
        raise ValueError(f"total {total} is too large (the limit is 2**62 pence)")
    w = _check_weights(weights)
    if w.size == 0 or not np.any(w > 0):
        if total == 0:
            return np.zeros(w.size, dtype=np.int64)
        raise ValueError(f"cannot split {total} between parts whose weights are all zero")
    return largest_remainder_by_group([total], np.zeros(w.size, dtype=np.int64), w)


def pence_to_gbp_str(pence: int | np.integer) -> str:
    """Pence as pounds with thousands separators and two decimals.

    >>> pence_to_gbp_str(123456789)
    '£1,234,567.89'
    >>> pence_to_gbp_str(-5)
    '-£0.05'
    >>> pence_to_gbp_str(0)
    '£0.00'
    """
    value = int(pence)
    sign = "-" if value < 0 else ""
    pounds, part = divmod(abs(value), 100)
    return f"{sign}£{pounds:,}.{part:02d}"


def pence_to_gbp_decimal(pence: int) -> Decimal:
    """Pence as an exact two-decimal amount of pounds.

    >>> str(pence_to_gbp_decimal(123456))
    '1234.56'
    >>> str(pence_to_gbp_decimal(-7))
    '-0.07'
    """
    return Decimal(int(pence)).scaleb(-2).quantize(_CENT)


def gbp_to_pence(pounds: Decimal | int | float | str) -> int:
    """Pounds (at most two decimal places) as exact integer pence.

    Floats are read by their shortest decimal form (``1234.56`` is 123456 pence), so a
    value typed into a spreadsheet converts exactly. Raises ValueError for more than two
    decimal places, text that is not a number, NaN or infinity.

    >>> gbp_to_pence(1234.56)
    123456
    >>> gbp_to_pence("1,000")
    100000
    >>> gbp_to_pence(0.125)
    Traceback (most recent call last):
    ...
    ValueError: has more than 2 decimal places (0.125); money is in pounds and pence
    """
    if isinstance(pounds, bool):
        raise ValueError("is TRUE/FALSE, not an amount of money")
    if isinstance(pounds, float):
        text = repr(pounds)
    elif isinstance(pounds, str):
        text = pounds.strip().replace(",", "").replace("£", "").replace(" ", "")
    else:
        text = str(pounds)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"is not an amount of money: {pounds!r}") from None
    if not amount.is_finite():
        raise ValueError("must be a finite amount (NaN and infinity are not allowed)")
    if amount != amount.quantize(_CENT, rounding=ROUND_DOWN):
        raise ValueError(f"has more than 2 decimal places ({text}); money is in pounds and pence")
    return int(amount.scaleb(2))
