"""The core's shared vocabulary: array aliases, pence, objective stages and row families.

``NumArray`` accepts any numeric dtype for inputs that are converted inside the function.
"""

from __future__ import annotations

import enum
from typing import Any, NewType, TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
NumArray: TypeAlias = npt.NDArray[Any]

Pence = NewType("Pence", int)


def group_sum(group: NumArray, weights: NumArray, size: int) -> FloatArray:
    """Sum ``weights`` by ``group`` position (a typed ``np.bincount``)."""
    total: FloatArray = np.bincount(
        np.asarray(group, dtype=np.int64),
        weights=np.asarray(weights, dtype=np.float64),
        minlength=size,
    ).astype(np.float64)
    return total


@enum.unique
class Stage(enum.StrEnum):
    """The objective stages of one program; a lexicographic solve takes them in this order."""

    ELASTIC = "elastic"  # the infeasibility diagnosis: least breach of the hard rules, in £
    SOFT = "soft"  # penalties for breaking soft rules
    FAIRNESS_MAX = "fairness_max"  # largest shortfall below fair-share target
    FAIRNESS_SUM = "fairness_sum"  # sum of shortfalls below fair-share target
    VALUE = "value"  # health value (minimised as −value)
    STABILITY = "stability"  # change from baseline
    WEIGHTED = "weighted"  # the weighted single objective
    TIE_BREAK = "tie_break"  # last: one allocation among equally good ones (docs/uniqueness.md)
    ALTERNATIVE = "alternative"  # an alternative's named dimension (docs/alternatives.md)


@enum.unique
class RowFamily(enum.StrEnum):
    """The families of rows in the program. A block is named ``family`` or ``family.<id>``.

    Families that are accounting identities or stage machinery are *internal*: they are
    not rules a user set, so they are never reported as binding rules.
    """

    CONSERVATION_FUNDER = "conservation.funder"
    CONSERVATION_PROVIDER_SEGMENT = "conservation.provider_segment"
    CAPACITY = "capacity.provider"
    VIABILITY = "viability.provider"
    PAYMENT_BLOCK = "payment.block"
    PAYMENT_ACTIVITY = "payment.activity"
    PAYMENT_BLENDED = "payment.blended"
    SCHEME_REQUIRED = "scheme.required"
    MINIMUM_SPEND = "minspend"
    PACE_FLOOR = "pace.floor"
    PACE_CAP = "pace.cap"
    FAIR_SHARE_BAND = "fairshare.band"
    ENTITLEMENT = "entitlement"  # a neighbourhood's entitlements claimed <= its eligible spend
    RISK_CVAR_PROVIDER = "risk.cvar.provider"
    RISK_CVAR_POOL = "risk.cvar.pool"
    FAIRNESS = "fairness"  # internal: shortfall rows of the fairness stages
    VALUE = "value"  # internal: value-curve links
    STABILITY = "stability"  # internal: change-from-baseline rows
    CVAR_SAMPLES = "cvar"  # internal: the sampled-outturn rows behind a CVaR limit

    @property
    def is_rule(self) -> bool:
        return self not in _INTERNAL_FAMILIES and self is not RowFamily.CONSERVATION_FUNDER

    def block(self, suffix: str | None = None) -> str:
        """The block name of this family, for one rule (``minspend.mhis``) or for all."""
        return self.value if suffix is None else f"{self.value}.{suffix}"

    @classmethod
    def of(cls, block: str) -> RowFamily:
        """The family of a block name (``pace.floor.place-pace`` -> `PACE_FLOOR`)."""
        for family in _BY_LENGTH:
            if block == family.value or block.startswith(f"{family.value}."):
                return family
        raise ValueError(f"no row family for block {block!r}")

    @staticmethod
    def suffix(block: str) -> str | None:
        """What follows the family in a block name: the rule id (or level), if any."""
        family = RowFamily.of(block).value
        return block[len(family) + 1 :] or None


_INTERNAL_FAMILIES = frozenset(
    {
        RowFamily.CONSERVATION_PROVIDER_SEGMENT,
        RowFamily.FAIRNESS,
        RowFamily.VALUE,
        RowFamily.STABILITY,
        RowFamily.CVAR_SAMPLES,
    }
)
_BY_LENGTH = sorted(RowFamily, key=lambda family: len(family.value), reverse=True)
