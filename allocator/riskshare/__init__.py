"""Risk and reward sharing: vectorised variance sharing and a seeded outturn Monte Carlo.

Everything is integer pence on numpy int64 arrays of shape ``(draws,)`` or ``(draws,
providers)``. :mod:`~allocator.riskshare.agreements` splits variances between each
provider and the pool under banded agreements, :mod:`~allocator.riskshare.volume`
settles activity away from plan by payment mechanism, :mod:`~allocator.riskshare.pooled`
shares a pooled budget between partners, :mod:`~allocator.riskshare.simulate` draws
outturns from the factor model, :mod:`~allocator.riskshare.measures` computes VaR, CVaR
and the reserve call, and :func:`risk_report` puts them together (see docs/risk.md).

Risk-aware allocation (CVaR limits in the optimisation) is in
:mod:`~allocator.riskaware.aware` (with :mod:`~allocator.riskshare.curve`,
:mod:`~allocator.riskaware.limits` and :mod:`~allocator.riskaware.cvar_rows`), and the
agreement design helper in :mod:`~allocator.riskshare.design`; import them from there (they
bring in the formulation and the solver).
"""

from __future__ import annotations

from allocator.domain.pot import scenario_reserve_pence
from allocator.errors import PlotUnavailable
from allocator.riskshare.agreements import (
    PROVIDER_BEARS_ALL,
    BandTable,
    compile_agreements,
    provider_share,
    share_variance,
)
from allocator.riskshare.assess import Settlement, result_risk_report, risk_report, settle
from allocator.riskshare.curve import Curve, agreement_curve
from allocator.riskshare.histogram import coarsen, histogram, histogram_lines, write_histogram_png
from allocator.riskshare.inputs import result_budgets
from allocator.riskshare.measures import (
    ReserveMeasures,
    TailMeasures,
    conditional_value_at_risk,
    mean_and_se,
    pool_call,
    reserve_measures,
    tail_measures,
    value_at_risk,
)
from allocator.riskshare.pooled import PooledShares, pooled_shares
from allocator.riskshare.report import (
    Histogram,
    LossStats,
    PartnerRisk,
    PooledBudgetRisk,
    PoolRisk,
    ProviderRisk,
    ReserveRisk,
    RiskReport,
)
from allocator.riskshare.simulate import (
    Outturn,
    segment_loadings,
    segment_sd_shares,
    simulate_outturn,
)
from allocator.riskshare.volume import (
    PaymentAdjustment,
    VolumeRisk,
    VolumeTerms,
    payment_adjustment,
    pool_volume_pence,
    volume_terms,
    volume_value_pence,
)

__all__ = [
    "PROVIDER_BEARS_ALL",
    "BandTable",
    "Curve",
    "Histogram",
    "LossStats",
    "Outturn",
    "PartnerRisk",
    "PaymentAdjustment",
    "PlotUnavailable",
    "PoolRisk",
    "PooledBudgetRisk",
    "PooledShares",
    "ProviderRisk",
    "ReserveMeasures",
    "ReserveRisk",
    "RiskReport",
    "Settlement",
    "TailMeasures",
    "VolumeRisk",
    "VolumeTerms",
    "agreement_curve",
    "coarsen",
    "compile_agreements",
    "conditional_value_at_risk",
    "histogram",
    "histogram_lines",
    "mean_and_se",
    "payment_adjustment",
    "pool_call",
    "pool_volume_pence",
    "pooled_shares",
    "provider_share",
    "reserve_measures",
    "result_budgets",
    "result_risk_report",
    "risk_report",
    "scenario_reserve_pence",
    "segment_loadings",
    "segment_sd_shares",
    "settle",
    "share_variance",
    "simulate_outturn",
    "tail_measures",
    "value_at_risk",
    "volume_terms",
    "volume_value_pence",
    "write_histogram_png",
]
