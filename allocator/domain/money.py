"""Money in integer pence: the pence constants, pounds <-> pence, and the one £ formatter.

Every rounding of money lives in `allocator.domain.rounding`.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

import numpy as np

_CENT = Decimal("0.01")


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


def pence_to_gbp_short(pence: int) -> str:
    """Pounds in a few characters, for chart labels: ``-£1.2m``, ``£350.0k``, ``£12``, ``7p``."""
    sign, pounds = ("-" if pence < 0 else ""), abs(pence) / 100
    if abs(pence) < 100:
        return f"{sign}{abs(pence)}p"
    for size, unit in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if pounds >= size:
            return f"{sign}£{pounds / size:,.1f}{unit}"
    return f"{sign}£{pounds:,.0f}"


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
    if amount.adjusted() > 15:  # beyond any budget; quantizing it would overflow the context
        raise ValueError(f"is too large to be an amount of money ({text[:40]})")
    if amount != amount.quantize(_CENT, rounding=ROUND_DOWN):
        raise ValueError(f"has more than 2 decimal places ({text}); money is in pounds and pence")
    return int(amount.scaleb(2))
