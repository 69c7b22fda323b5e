"""The risk report as pydantic models (served as JSON): pence are ints, probabilities floats.

One sign convention (`SIGN_CONVENTION`), as in every table, export and chart: + is an
overspend, a cost to whoever bears it. A provider's ``share`` is the part of its variance
it bears (negative: an underspend it keeps); the pool's ``call`` is what the providers'
variances cost the pool after sharing. Expected values and CVaR are rounded to the penny from the
sample (halves away from zero); VaR and histogram edges are exact sample pence.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from allocator.riskshare.volume import VolumeRisk
from models.enums import BreakevenLevel, PaymentKind

SIGN_CONVENTION = (
    "Sign: + is an overspend, a cost to whoever bears it (the provider for its share, the "
    "pool for its call on the reserve); − is an underspend, money kept."
)


class ReportModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Histogram(ReportModel):
    """Counts of draws in half-open bins ``[edge_i, edge_{i+1})`` of equal integer width."""

    bin_edges_pence: tuple[int, ...]
    counts: tuple[int, ...]


class LossStats(ReportModel):
    """Summary of one loss over the draws, at the report's level: pence, + an overspend (a
    cost to the bearer), − an underspend."""

    expected_pence: int = Field(
        description="Mean overspend (+, a cost); negative: an expected underspend."
    )
    expected_se_pence: int = Field(description="Standard error of the mean.")
    var_pence: int = Field(description="Value-at-risk: the loss not exceeded at the level.")
    cvar_pence: int = Field(description="Mean of the worst (1 − level) share of draws.")
    cvar_se_pence: int = Field(description="Asymptotic standard error of the CVaR.")
    prob_loss: float = Field(description="Probability of an overspend (a cost above zero).")


class ProviderRisk(ReportModel):
    """One provider: its variance, and how it is shared with the pool."""

    provider_id: str
    budget_pence: int
    agreement_id: str | None = Field(description="Its agreement; blank: it bears everything.")
    payment_kind: PaymentKind
    volume_risk: VolumeRisk = Field(description="Who pays for activity away from plan.")
    variance: LossStats = Field(description="Cost − budget, before any sharing.")
    share: LossStats = Field(description="What the provider bears after sharing.")
    pool_share: LossStats = Field(description="What the pool bears of this provider's variance.")
    histogram: Histogram = Field(description="Of the provider's share after sharing.")


class ReserveRisk(ReportModel):
    """The pool's call on the contingency reserve."""

    reserve_pence: int
    confidence: float
    expected_call_pence: int = Field(description="E[max(call, 0)].")
    expected_call_se_pence: int
    expected_shortfall_pence: int = Field(description="E[max(call − reserve, 0)].")
    prob_exceeds_reserve: float
    reserve_needed_pence: int = Field(description="Covers the call with the confidence.")


class PoolRisk(ReportModel):
    breakeven: BreakevenLevel
    call: LossStats
    reserve: ReserveRisk
    histogram: Histogram = Field(description="Of the pool's call.")


class PartnerRisk(ReportModel):
    funder_id: str
    contribution_pence: int
    share: LossStats


class PooledBudgetRisk(ReportModel):
    """A pooled budget: its providers' variance split between partners by contribution."""

    agreement_id: str
    provider_ids: tuple[str, ...]
    variance: LossStats
    partners: tuple[PartnerRisk, ...]
    unallocated_expected_pence: int = Field(description="Beyond every partner's cap.")
    prob_unallocated: float


class RiskReport(ReportModel):
    """Monte Carlo risk of one allocation's budgets under the scenario's agreements."""

    scenario_id: str
    scenario_hash: str
    draws: int
    seed: int
    level: float
    providers: tuple[ProviderRisk, ...]
    pool: PoolRisk
    pooled_budgets: tuple[PooledBudgetRisk, ...] = ()
    notes: tuple[str, ...] = ()


def reserve_warning(reserve: ReserveRisk) -> str | None:
    """A warning, in words and £m, when the reserve is below what the confidence needs."""
    if reserve.reserve_pence >= reserve.reserve_needed_pence:
        return None

    def m(pence: int) -> str:
        return f"{'-' if pence < 0 else ''}£{abs(pence) / 100_000_000:,.1f}m"

    return (
        f"Warning: the reserve of {m(reserve.reserve_pence)} is below the "
        f"{m(reserve.reserve_needed_pence)} that {reserve.confidence:.0%} confidence needs "
        f"(short by {m(reserve.reserve_needed_pence - reserve.reserve_pence)}); the call "
        f"exceeds it in {reserve.prob_exceeds_reserve:.1%} of draws."
    )
