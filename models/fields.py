"""Constrained field types shared by the schema. Units live in field names."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError


def _no_text_or_bool(value: Any) -> Any:
    """Money is never coerced: ``"1000"`` or ``true`` where pence are expected is an error."""
    if isinstance(value, bool):
        raise PydanticCustomError(
            "pence_type", "must be a whole number of pence; got {got}", {"got": str(value).lower()}
        )
    if isinstance(value, str | bytes):
        raise PydanticCustomError(
            "pence_type",
            "must be a whole number of pence, not text; got {got}",
            {"got": repr(value)},
        )
    return value


Id = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        description="Identifier: letters, digits, '_', '-', '.'; starts with a letter or digit.",
    ),
]
Pence = Annotated[
    int,
    BeforeValidator(_no_text_or_bool),
    Field(ge=0, le=10**15, description="Money in integer pence (non-negative)."),
]
SignedPence = Annotated[
    int,
    BeforeValidator(_no_text_or_bool),
    Field(ge=-(10**15), le=10**15, description="Money in integer pence."),
]
Share = Annotated[float, Field(ge=0.0, le=1.0, description="A fraction between 0 and 1.")]
GrowthShare = Annotated[
    float, Field(ge=-1.0, le=10.0, description="Growth as a fraction: 0.03 is +3%, -0.02 is -2%.")
]
PositiveFloat = Annotated[float, Field(gt=0.0, le=1e6)]
NonNegativeFloat = Annotated[float, Field(ge=0.0, le=1e12)]
Name = Annotated[str, Field(max_length=200)]
