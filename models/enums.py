"""Closed vocabularies of the schema (JSON-facing string enums)."""

from __future__ import annotations

import enum


@enum.unique
class FunderKind(enum.StrEnum):
    NHS_ALLOCATION = "nhs_allocation"
    DELEGATED_PRIMARY_CARE = "delegated_primary_care"
    SOCIAL_CARE = "social_care"
    PUBLIC_HEALTH = "public_health"
    POOLED_FUND = "pooled_fund"
    OTHER = "other"


@enum.unique
class ProviderKind(enum.StrEnum):
    ACUTE = "acute"
    COMMUNITY = "community"
    MENTAL_HEALTH = "mental_health"
    GENERAL_PRACTICE = "general_practice"
    SOCIAL_CARE = "social_care"
    VOLUNTARY = "voluntary"
    HOSPICE = "hospice"
    AMBULANCE = "ambulance"
    PUBLIC_HEALTH = "public_health"
    OTHER = "other"


@enum.unique
class PaymentKind(enum.StrEnum):
    CAPITATED = "capitated"
    BLOCK = "block"
    ACTIVITY = "activity"
    BLENDED = "blended"


@enum.unique
class UnitLevel(enum.StrEnum):
    """The organisational level a rule applies to."""

    PROVIDER = "provider"
    PLACE = "place"
    NEIGHBOURHOOD = "neighbourhood"
    SYSTEM = "system"


@enum.unique
class PaceForm(enum.StrEnum):
    """The two forms of pace of change national allocations have used."""

    FLOOR_AND_CAP = "floor_and_cap"
    CONVERGENCE = "convergence"


@enum.unique
class FairShareForm(enum.StrEnum):
    BAND = "band"
    CONVERGE = "converge"


@enum.unique
class ObjectiveKind(enum.StrEnum):
    LEXICOGRAPHIC = "lexicographic"
    WEIGHTED = "weighted"


@enum.unique
class ObjectiveStage(enum.StrEnum):
    FAIRNESS = "fairness"
    VALUE = "value"
    STABILITY = "stability"


@enum.unique
class ReferenceRate(enum.StrEnum):
    """Presets for what a unit of value (a QALY) is worth in pounds (sources: docs/nhs-rules.md).

    ``nhs_marginal`` is the central estimate of Claxton et al. (2015) of what NHS spending
    buys at the margin, £12,936 per QALY. The NICE presets are the middle of NICE's
    published ranges, whose ends `REFERENCE_RATE_RANGE_GBP` carries: £20,000 to £30,000
    per QALY, and £25,000 to £35,000 for medicines appraised from April 2026.
    """

    NHS_MARGINAL = "nhs_marginal"
    NICE_THRESHOLD = "nice_threshold"
    NICE_MEDICINES_2026 = "nice_medicines_2026"


REFERENCE_RATE_GBP: dict[ReferenceRate, float] = {
    ReferenceRate.NHS_MARGINAL: 12_936.0,
    ReferenceRate.NICE_THRESHOLD: 25_000.0,
    ReferenceRate.NICE_MEDICINES_2026: 30_000.0,
}

REFERENCE_RATE_RANGE_GBP: dict[ReferenceRate, tuple[float, float]] = {
    ReferenceRate.NHS_MARGINAL: (12_936.0, 12_936.0),
    ReferenceRate.NICE_THRESHOLD: (20_000.0, 30_000.0),
    ReferenceRate.NICE_MEDICINES_2026: (25_000.0, 35_000.0),
}


@enum.unique
class RiskShareProfile(enum.StrEnum):
    BANDS = "bands"
    POOLED_PRO_RATA = "pooled_pro_rata"


@enum.unique
class BreakevenLevel(enum.StrEnum):
    SYSTEM = "system"
    ORGANISATION = "organisation"


@enum.unique
class RiskLimitScope(enum.StrEnum):
    """Which CVaR limits a risk-aware allocation holds: providers' appetites, the pool's
    reserve, or both."""

    ALL = "all"
    PROVIDERS = "providers"
    POOL = "pool"
