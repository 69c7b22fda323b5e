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

from allocator.types import FloatArray, IntArray, NumArray

_INT64_SAFE_BITS = 61  # every intermediate of the int64 path stays below 2**62
_CENT = Decimal("0.01")


def _exact_integer_weights(weights: FloatArray) -> tuple[IntArray, list[int] | None]:
    """Integers proportional to ``weights``, exactly: int64 when they fit, else Python ints.

    Each float is ``m × 2**e`` with an integer mantissa ``m`` below ``2**53``; scaling every
    weight by ``2**-min(e)`` gives integers with exactly the same ratios.
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
    shift = np.where(nonzero, e - e[nonzero].min(), 0)
    bits = np.where(nonzero, np.frexp(m.astype(np.float64))[1].astype(np.int64) + shift, 0)
    spare_bits = int(np.ceil(np.log2(weights.size))) if weights.size > 1 else 0
    if int(bits.max()) + spare_bits <= _INT64_SAFE_BITS:
        return m << shift, None
    return m, [int(mi) << int(si) for mi, si in zip(m.tolist(), shift.tolist(), strict=True)]


def _divmod_scaled(total: int, u: IntArray, denominator: int) -> tuple[IntArray, IntArray]:
    """``divmod(total × u, denominator)`` elementwise in int64 without overflow.

    Requires ``u <= denominator < 2**62`` and ``total < 2**62``: binary long multiplication
    over the bits of ``total`` keeps every intermediate below ``2**63``.
    """
    if total * int(u.max(initial=0)) < 2**63:
        product = total * u
        return product // denominator, product % denominator
    quotient = np.zeros_like(u)
    remainder = np.zeros_like(u)
    for bit in bin(total)[2:]:
        quotient <<= 1
        remainder <<= 1
        over = remainder >= denominator
        remainder -= denominator * over
        quotient += over
        if bit == "1":
            remainder += u
            over = remainder >= denominator
            remainder -= denominator * over
            quotient += over
    return quotient, remainder


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
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1:
        raise ValueError("weights must be one-dimensional")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    n = w.size
    if n == 0 or not np.any(w > 0):
        if total == 0:
            return np.zeros(n, dtype=np.int64)
        raise ValueError(f"cannot split {total} between parts whose weights are all zero")

    u, big = _exact_integer_weights(w)
    if big is None:
        quotient, remainder = _divmod_scaled(total, u, int(u.sum()))
        shortfall = total - int(quotient.sum())
        order = np.argsort(-remainder, kind="stable")
        parts = quotient.astype(np.int64)
    else:
        denominator = sum(big)
        pairs = [divmod(total * x, denominator) for x in big]
        parts = np.array([q for q, _ in pairs], dtype=np.int64)
        shortfall = total - sum(q for q, _ in pairs)
        order = np.array(sorted(range(n), key=lambda i: (-pairs[i][1], i)), dtype=np.int64)
    parts[order[:shortfall]] += 1
    return parts


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
