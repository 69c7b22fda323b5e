"""One workbook cell -> one document value, by the column's kind, with a message if it is wrong.

A wrong cell keeps its raw value in the document (so the row fails to parse and its id
is still known) while the message, located by the reader, says what is wrong in the
workbook's own terms: pounds, TRUE/FALSE, comma-separated lists.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from allocator.domain.money import gbp_to_pence
from allocator.io.excel_layout import Kind
from allocator.io.excel_safe import UNREADABLE_TYPE

FORMULA = "formulas are not accepted; paste values (Paste Special > Values)"
Converted = tuple[Any, str | None]

_TRUE = frozenset({"TRUE", "YES", "Y", "1"})
_FALSE = frozenset({"FALSE", "NO", "N", "0"})
_EXPECTED = {
    Kind.INT: "a whole number",
    Kind.FLOAT: "a number",
    Kind.SHARE: "a share from 0 to 1 (e.g. 0.05)",
    Kind.MONEY: "an amount in pounds (e.g. 1234.56)",
    Kind.BOOL: "TRUE or FALSE",
}


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return (
        value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    )


def _choice(text: str, choices: tuple[str, ...]) -> str:
    """Accept ``Mental health`` for ``mental_health``: case, spaces and dashes do not matter."""
    candidate = text.strip().lower().replace(" ", "_").replace("-", "_")
    return candidate if candidate in choices else text.strip()


def _number(text: str) -> float:
    cleaned = text.replace(",", "").replace(" ", "")
    if cleaned.endswith("%"):
        return float(Decimal(cleaned[:-1]) / 100)
    return float(cleaned)


def convert(
    kind: Kind, value: Any, data_type: str | None, choices: tuple[str, ...] = ()
) -> Converted:
    """(document value, problem) for one cell; a blank cell is ``(None, None)``."""
    if value is None:
        return None, None
    if data_type == "f" or (isinstance(value, str) and value.startswith("=")):
        return str(value), FORMULA
    if data_type == UNREADABLE_TYPE:
        return str(value), f"cannot be read (the file holds {str(value)[:40]!r}); retype the cell"
    if data_type == "e":
        return str(value), f"holds the Excel error {value}; enter a value"
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None, None
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        wanted = _EXPECTED.get(kind, "text (format the cell as Text)")
        return str(value), f"is a date or time ({value}); expected {wanted}"
    if kind in (Kind.TEXT, Kind.ID):
        if isinstance(value, bool):
            return str(value), "is TRUE/FALSE; expected text"
        return _text(value), None
    if kind in (Kind.IDS, Kind.ENUMS):
        items = [item.strip() for item in _text(value).split(",") if item.strip()]
        if kind is Kind.ENUMS:
            items = [_choice(item, choices) for item in items]
        return items, None
    if kind is Kind.ENUM:
        return _choice(_text(value), choices), None
    if kind is Kind.BOOL:
        return _bool(value)
    if isinstance(value, bool):
        return value, f"is TRUE/FALSE; expected {_EXPECTED[kind]}"
    if kind is Kind.MONEY:
        try:
            return gbp_to_pence(value), None
        except ValueError as err:
            text = str(err)
            if isinstance(value, str) and "not an amount" in text:
                text = f"is text ({value!r}); expected {_EXPECTED[kind]}"
            return value, text
    if kind is Kind.INT:
        return _int(value)
    return _float(kind, value)


def _bool(value: Any) -> Converted:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value), None
    text = _text(value).upper()
    if text in _TRUE:
        return True, None
    if text in _FALSE:
        return False, None
    return value, f"must be TRUE or FALSE; got {value!r}"


def _int(value: Any) -> Converted:
    if isinstance(value, int):
        return value, None
    if isinstance(value, float):
        if value.is_integer():
            return int(value), None
        return value, f"must be a whole number; got {value!r}"
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        return value, f"is text ({value!r}); expected {_EXPECTED[Kind.INT]}"
    if not number.is_finite() or number != number.to_integral_value():
        return value, f"must be a whole number; got {value!r}"
    return int(number), None


def _float(kind: Kind, value: Any) -> Converted:
    if isinstance(value, int | float):
        number = float(value) if isinstance(value, float) else value
    else:
        try:
            number = _number(str(value))
        except (ValueError, InvalidOperation):
            return value, f"is text ({value!r}); expected {_EXPECTED[kind]}"
    if not math.isfinite(number):
        return value, "must be a finite number (NaN and infinity are not allowed)"
    return number, None
