"""Constrained field types shared by the schema. Units live in field names."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

Id = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        description="Identifier: letters, digits, '_', '-', '.'; starts with a letter or digit.",
    ),
]
Pence = Annotated[int, Field(ge=0, le=10**15, description="Money in integer pence (non-negative).")]
SignedPence = Annotated[int, Field(ge=-(10**15), le=10**15, description="Money in integer pence.")]
Share = Annotated[float, Field(ge=0.0, le=1.0, description="A fraction between 0 and 1.")]
GrowthShare = Annotated[
    float, Field(ge=-1.0, le=10.0, description="Growth as a fraction: 0.03 is +3%, -0.02 is -2%.")
]
PositiveFloat = Annotated[float, Field(gt=0.0, le=1e6)]
NonNegativeFloat = Annotated[float, Field(ge=0.0, le=1e12)]
Name = Annotated[str, Field(max_length=200)]
