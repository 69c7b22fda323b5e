"""Pydantic validation errors as located, human issues (the same shape as semantic findings)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from allocator.domain.money import pence_to_gbp_str
from allocator.errors import Issue
from models import PaymentKind

_PAYMENT_TAGS = frozenset(kind.value for kind in PaymentKind)

# Name of the vocabulary a field draws from, for "is not a known ..." messages.
_VOCABULARY = {
    "provider_kind": "provider kind",
    "provider_kinds": "provider kind",
    "level": "level",
    "form": "form",
    "profile": "risk-share profile",
    "stages": "objective stage",
    "reference_rate": "reference rate",
    "breakeven": "breakeven level",
    "fairness_level": "level",
}


def _vocabulary(loc: tuple[str | int, ...]) -> str:
    names = [part for part in loc if isinstance(part, str)]
    last = names[-1] if names else ""
    if last == "kind":
        if "payment" in names:
            return "payment kind"
        if names[0] == "funders":
            return "funder kind"
        if names[0] == "providers":
            return "provider kind"
        return "objective kind" if names[0] == "objective" else "kind"
    return _VOCABULARY.get(last, "value")


def _clean_loc(loc: Sequence[str | int]) -> tuple[str | int, ...]:
    """Drop the discriminator tags pydantic puts in union locations (``payment.activity.x``)."""
    out: list[str | int] = []
    for position, part in enumerate(loc):
        if position > 0 and loc[position - 1] == "payment" and part in _PAYMENT_TAGS:
            continue
        out.append(part)
    return tuple(out)


def _expected(ctx: Mapping[str, Any]) -> str:
    text = str(ctx.get("expected", ""))
    return text.replace("'", "").replace(" or ", ", ")


def _bound(value: Any, loc: tuple[str | int, ...]) -> str:
    name = str(loc[-1]) if loc else ""
    if name.endswith("_pence") and isinstance(value, int) and value:
        return f"{value:,} pence ({pence_to_gbp_str(value)})"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _got(value: Any, loc: tuple[str | int, ...]) -> str:
    if _is_money(loc) and isinstance(value, int) and not isinstance(value, bool):
        return f"got {value:,} pence ({pence_to_gbp_str(value)})"
    return f"got {value!r}"


def _is_money(loc: tuple[str | int, ...]) -> bool:
    return bool(loc) and str(loc[-1]).endswith("_pence")


def message_for(error: Mapping[str, Any], loc: tuple[str | int, ...]) -> str:
    """A finance user's wording of one pydantic error."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    money = _is_money(loc)
    whole = "a whole number of pence (no decimals)" if money else "a whole number"
    if kind == "int_from_float":
        return f"must be {whole}"
    if kind in ("int_parsing", "int_type"):
        if isinstance(value, float) and value != value:
            return "must be a finite number (NaN and infinity are not allowed)"
        return f"must be {whole}; got {value!r}"
    if kind in ("float_parsing", "float_type"):
        return f"must be a number; got {value!r}"
    if kind == "finite_number":
        return "must be a finite number (NaN and infinity are not allowed)"
    if kind == "greater_than_equal":
        return f"must be {_bound(ctx.get('ge'), loc)} or more; {_got(value, loc)}"
    if kind == "greater_than":
        return f"must be more than {_bound(ctx.get('gt'), loc)}; {_got(value, loc)}"
    if kind == "less_than_equal":
        share = " (a share: 0.25 means 25%)" if ctx.get("le") == 1.0 and not money else ""
        return f"must be at most {_bound(ctx.get('le'), loc)}{share}; {_got(value, loc)}"
    if kind == "less_than":
        return f"must be less than {_bound(ctx.get('lt'), loc)}; {_got(value, loc)}"
    if kind == "enum":
        return f"{value!r} is not a known {_vocabulary(loc)}; expected one of {_expected(ctx)}"
    if kind == "union_tag_invalid":
        tags = ", ".join(kind.value for kind in PaymentKind)
        return f"{ctx.get('tag')!r} is not a known payment kind; expected one of {tags}"
    if kind == "union_tag_not_found":
        return "needs a 'kind' (capitated, block, activity or blended)"
    if kind == "extra_forbidden":
        return f"unexpected field {str(loc[-1]) if loc else ''!r}; remove it or check its spelling"
    if kind == "missing":
        return f"{str(loc[-1]) if loc else 'value'!r} is required"
    if kind == "string_pattern_mismatch":
        return (
            f"{value!r} is not a valid id: use letters, digits, '_', '-' and '.', "
            "starting with a letter or digit (no spaces)"
        )
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"may have at most {ctx.get('max_length')} item(s)"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be an object (a row with named fields); got {type(value).__name__}"
    if kind in ("tuple_type", "list_type"):
        return f"must be a list; got {type(value).__name__}"
    if kind == "string_type":
        return f"must be text; got {value!r}"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false; got {value!r}"
    if kind == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ")
    if kind == "literal_error":
        return f"must be {_expected(ctx)}; got {value!r}"
    return str(error.get("msg", "is not valid"))


def issues_from_validation_error(
    err: ValidationError, prefix: tuple[str | int, ...] = ()
) -> list[Issue]:
    """Every error of a pydantic ``ValidationError`` as a located `Issue`.

    ``prefix`` is prepended to each location (the table and row a per-row parse was for).
    """
    issues: list[Issue] = []
    for error in err.errors():
        loc = prefix + _clean_loc(error["loc"])
        issues.append(Issue(loc=loc, message=message_for(error, loc)))
    return issues
