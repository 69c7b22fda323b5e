"""Rules the allocation honours (pace of change, fair shares) and what it optimises."""

from __future__ import annotations

from pydantic import Field, model_validator

from models.base import DomainModel
from models.enums import (
    FairShareForm,
    ObjectiveKind,
    ObjectiveStage,
    PaceForm,
    ProviderKind,
    ReferenceRate,
    UnitLevel,
)
from models.fields import GrowthShare, Id, Name, NonNegativeFloat, Pence, Share
from models.funding import SoftRule


class PaceOfChange(SoftRule):
    """How far each unit's budget may move from its baseline.

    ``floor_and_cap``: every unit grows at least ``floor_growth_share``; units more
    than ``cap_over_target_share`` over target (all units when blank, and always for
    providers, which have no target) grow at most ``cap_growth_share``.
    ``convergence`` (places and systems, as NHS England's rounds apply it): every
    over-target unit gets exactly its baseline × (1 + ``floor_growth_share``) less
    ``convergence_share`` × (baseline − target), rounded down to the penny; the rest
    grow at least ``floor_growth_share``. A system's baseline is the sum of its places'.
    With ``below_target_band_share``, units further below target than the band are
    lifted to within the band.
    """

    rule_id: Id
    name: Name = ""
    level: UnitLevel = UnitLevel.PROVIDER
    form: PaceForm = PaceForm.FLOOR_AND_CAP
    floor_growth_share: GrowthShare | None = None
    cap_growth_share: GrowthShare | None = None
    cap_over_target_share: Share | None = None
    convergence_share: Share | None = None
    below_target_band_share: Share | None = None
    provider_ids: tuple[Id, ...] = Field(default=(), description="Blank: every provider.")

    @model_validator(mode="after")
    def _consistent(self) -> PaceOfChange:
        if self.level is UnitLevel.NEIGHBOURHOOD:
            raise ValueError("pace of change applies to providers, places or systems")
        if self.form is PaceForm.CONVERGENCE and self.convergence_share is None:
            raise ValueError("the convergence form needs convergence_share")
        if (
            self.floor_growth_share is not None
            and self.cap_growth_share is not None
            and self.cap_growth_share < self.floor_growth_share
        ):
            raise ValueError("cap_growth_share is below floor_growth_share")
        return self


class FairShare(SoftRule):
    """Keep every unit within a band of target, or converge (max-min on distance)."""

    rule_id: Id
    name: Name = ""
    level: UnitLevel = UnitLevel.PLACE
    form: FairShareForm = FairShareForm.CONVERGE
    band_share: Share | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FairShare:
        if self.level not in (UnitLevel.PLACE, UnitLevel.NEIGHBOURHOOD, UnitLevel.SYSTEM):
            raise ValueError("fair shares apply to systems, places or neighbourhoods")
        if self.form is FairShareForm.BAND and self.band_share is None:
            raise ValueError("the band form needs band_share")
        return self


class CurvePoint(DomainModel):
    spend_per_head_pence: Pence
    value_per_head: NonNegativeFloat


class ValueCurve(DomainModel):
    """Concave piecewise-linear value of spend on one segment by one provider kind.

    Points are per head of the segment's population and start implicitly at (0, 0);
    spend beyond the last point adds no value.
    """

    segment_id: Id
    provider_kind: ProviderKind
    points: tuple[CurvePoint, ...] = Field(min_length=1)


class ObjectiveWeights(DomainModel):
    """Weights of the single weighted objective, in value units per unit of each term."""

    fairness_per_gbp_shortfall: NonNegativeFloat = 1.0
    value: NonNegativeFloat = 1.0
    stability_per_gbp_change: NonNegativeFloat = 0.01


class Objective(DomainModel):
    kind: ObjectiveKind = ObjectiveKind.LEXICOGRAPHIC
    stages: tuple[ObjectiveStage, ...] = (
        ObjectiveStage.FAIRNESS,
        ObjectiveStage.VALUE,
        ObjectiveStage.STABILITY,
    )
    weights: ObjectiveWeights = Field(default_factory=ObjectiveWeights)
    stage_tolerance_share: Share = Field(
        default=1e-7, description="How far a later stage may worsen an earlier stage's optimum."
    )
    reference_rate: ReferenceRate = ReferenceRate.NHS_MARGINAL
    gbp_per_value_unit: NonNegativeFloat | None = Field(
        default=None, description="Overrides the preset reference rate (e.g. £ per QALY)."
    )
    fairness_level: UnitLevel = Field(
        default=UnitLevel.PLACE,
        description="Units whose shortfall below target the fairness stage minimises.",
    )
    mip_gap_share: Share = 1e-6
    time_limit_s: NonNegativeFloat | None = None

    @model_validator(mode="after")
    def _stages_unique(self) -> Objective:
        if len(set(self.stages)) != len(self.stages):
            raise ValueError("each objective stage may appear once")
        return self
