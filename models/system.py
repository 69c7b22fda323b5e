"""Level 1 geography and need: systems, places, neighbourhoods, segments, populations."""

from __future__ import annotations

from pydantic import Field

from models.base import DomainModel
from models.fields import GrowthShare, Id, Name, NonNegativeFloat, Pence, PositiveFloat


class System(DomainModel):
    """An integrated care system (ICB footprint). National scenarios hold many."""

    system_id: Id
    name: Name = ""


class Place(DomainModel):
    """A borough or district inside a system."""

    place_id: Id
    system_id: Id
    name: Name = ""
    baseline_pence: Pence | None = Field(
        default=None, description="Last year's allocation to the place (for place pace of change)."
    )


class Neighbourhood(DomainModel):
    """A primary care network footprint inside a place."""

    neighbourhood_id: Id
    place_id: Id
    name: Name = ""


class Segment(DomainModel):
    """A population segment by need, with its relative cost weight per head."""

    segment_id: Id
    name: Name = ""
    cost_weight: PositiveFloat = Field(description="Relative cost per head (healthy = 1.0, say).")


class Population(DomainModel):
    """Registered headcount of one segment in one neighbourhood."""

    neighbourhood_id: Id
    segment_id: Id
    headcount: NonNegativeFloat


class LocalAdjustment(DomainModel):
    """A multiplicative adjustment to a neighbourhood's weighted population.

    Examples: a market-forces factor (1.04) or an inequalities uplift (1.02).
    Several adjustments for one neighbourhood multiply together.
    """

    neighbourhood_id: Id
    factor: PositiveFloat
    reason: Name = ""


class DemandGrowth(DomainModel):
    """Expected growth in demand for one segment (used by batch sweeps and plans)."""

    segment_id: Id
    growth_share: GrowthShare
