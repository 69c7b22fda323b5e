"""Level 3, sharing: risk-share agreements and outturn volatilities."""

from __future__ import annotations

from pydantic import Field, model_validator

from models.base import DomainModel
from models.enums import BreakevenLevel, RiskShareProfile
from models.fields import Id, Name, Pence, Share


class VarianceBand(DomainModel):
    """One band of variance and the provider's share of it; blank width: unbounded."""

    width_pence: Pence | None = None
    provider_share: Share


class PooledPartner(DomainModel):
    """A partner's contribution to a pooled budget (``pooled_pro_rata`` agreements)."""

    funder_id: Id
    contribution_pence: Pence


class RiskShareAgreement(DomainModel):
    """How a provider's variance (cost − budget) is split with the pool.

    Bands apply in order from zero variance outwards, separately for overspend
    (the provider's share of the loss) and underspend (its retained share of the gain).
    Variance beyond the last band is the pool's unless that band is unbounded.
    Each band's provider part is rounded to the penny, halves away from zero; the pool
    takes the rest, so the two add up to the variance exactly.

    The ``pooled_pro_rata`` profile ignores the bands: the variance of every provider
    under the agreement goes to one pooled budget, shared between ``partners`` in
    proportion to their contributions, each capped at its contribution. Blank
    ``partners``: the scenario's funders, each contributing its pooled money.
    """

    agreement_id: Id
    name: Name = ""
    profile: RiskShareProfile = RiskShareProfile.BANDS
    overspend_bands: tuple[VarianceBand, ...] = ()
    underspend_bands: tuple[VarianceBand, ...] = ()
    loss_cap_pence: Pence | None = None
    gain_cap_pence: Pence | None = None
    partners: tuple[PooledPartner, ...] = ()

    @model_validator(mode="after")
    def _unbounded_last(self) -> RiskShareAgreement:
        for bands, side in (
            (self.overspend_bands, "overspend"),
            (self.underspend_bands, "underspend"),
        ):
            if any(band.width_pence is None for band in bands[:-1]):
                raise ValueError(f"only the last {side} band may be unbounded")
        return self


class SegmentVolatility(DomainModel):
    """A segment's own demand-shock standard deviation (share of budget), replacing the default."""

    segment_id: Id
    sd_share: Share


class OutturnVolatility(DomainModel):
    """Factor model of cost outturn, as shares of budget (one standard deviation).

    cost = budget × (1 + system shock + Σ segment mix × segment shock + provider noise),
    every shock normal with mean zero. Defaults: system shock (winter, pay and price
    inflation) 2%; each segment's demand shock 3% (``segment_overrides`` per segment);
    segment shocks correlated 0.3 with one another, independent of the system shock;
    provider-specific noise 2.5%, independent. A provider with one segment thus has a
    standard deviation of √(2² + 3² + 2.5²) ≈ 4.4% of budget. ``breakeven``: whether the
    pool's gains on one organisation offset its losses on another (system) or each
    organisation is judged separately (organisation). See docs/risk.md.
    """

    system_shock_sd_share: Share = 0.02
    segment_shock_sd_share: Share = 0.03
    segment_overrides: tuple[SegmentVolatility, ...] = ()
    segment_correlation: float = Field(default=0.3, ge=-0.1, le=1.0)
    provider_noise_sd_share: Share = 0.025
    breakeven: BreakevenLevel = BreakevenLevel.SYSTEM
