"""Seeded Monte Carlo of providers' cost outturn from a factor model.

For provider ``k`` with budget ``B_k`` and segment mix ``m_{k,s}`` (a row summing to 1)::

    cost_k = B_k × (1 + σ_sys·Z_sys + Σ_s m_{k,s}·σ_s·Z_s + σ_k·ε_k)

``Z_sys`` (the system-wide shock: winter, inflation), the segment demand shocks ``Z_s``
and the provider noise ``ε_k`` are standard normal; the ``Z_s`` are correlated with one
another at the volatility's ``segment_correlation`` (through a Cholesky factor of the
equicorrelation matrix) and independent of everything else. Costs are computed in
float64 and rounded to the nearest penny (``np.rint``), then floored at zero cost.

Draws come from ``np.random.default_rng(seed)`` in a fixed order — per draw, one value
for the system shock, then one per segment, then one per provider — generated in chunks
of draws, so the same seed gives the same outturn whatever the chunk size, and memory
stays at the int64 output plus one chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from allocator.errors import Issue, ScenarioInvalid
from allocator.types import FloatArray, IntArray, NumArray
from models.risk import OutturnVolatility

_CHUNK_ELEMENTS = 250_000  # normal draws per chunk
MIX_TOLERANCE = 1e-6
"""How far a provider's segment mix may sum from 1."""


@dataclass(frozen=True, slots=True)
class Outturn:
    """Simulated outturn in pence: ``variance_pence`` is cost − budget, ``(draws, providers)``.

    ``demand_pence`` (when asked for) is the part of the variance that came from segment
    demand shocks, ``round(B_k × Σ_s m_{k,s}·σ_s·Z_s)``: the activity away from plan.
    """

    budgets_pence: IntArray
    variance_pence: IntArray
    demand_pence: IntArray | None = None

    @property
    def cost_pence(self) -> IntArray:
        cost: IntArray = self.budgets_pence + self.variance_pence
        return cost


def segment_loadings(n_segments: int, correlation: float) -> FloatArray:
    """A lower-triangular ``L`` with ``L Lᵀ`` the equicorrelation matrix of the segments.

    Raises :class:`ScenarioInvalid` when the correlation is too negative for the number
    of segments (an equicorrelation matrix needs ``ρ > −1/(S − 1)``).
    """
    if correlation >= 1.0:
        ones = np.zeros((n_segments, n_segments))
        ones[:, :1] = 1.0
        return ones
    matrix = np.full((n_segments, n_segments), correlation)
    np.fill_diagonal(matrix, 1.0)
    try:
        loadings: FloatArray = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        issue = Issue(
            ("outturn", "segment_correlation"),
            f"a common correlation of {correlation} is impossible between {n_segments} "
            f"segments: it must exceed {-1.0 / (n_segments - 1):.4f}",
        )
        raise ScenarioInvalid("segment correlation is not a valid correlation", [issue]) from None
    return loadings


def segment_sd_shares(volatility: OutturnVolatility, segment_ids: Sequence[str]) -> FloatArray:
    """Each segment's demand-shock standard deviation: its override or the default."""
    overrides = {o.segment_id: o.sd_share for o in volatility.segment_overrides}
    return np.array(
        [overrides.get(s, volatility.segment_shock_sd_share) for s in segment_ids],
        dtype=np.float64,
    )


def _checked_mix(mix: NumArray, providers: int) -> FloatArray:
    m = np.asarray(mix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != providers:
        raise ValueError(f"mix must be (providers, segments) with {providers} rows")
    if m.size and (not np.all(np.isfinite(m)) or float(m.min()) < 0.0):
        raise ValueError("mix must be finite and non-negative")
    off = np.abs(m.sum(axis=1) - 1.0) > MIX_TOLERANCE
    if off.any():
        raise ValueError(f"mix rows must sum to 1; rows {np.flatnonzero(off).tolist()} do not")
    return m


def simulate_outturn(
    budgets_pence: NumArray,
    mix: NumArray,
    volatility: OutturnVolatility,
    *,
    draws: int,
    seed: int,
    segment_ids: Sequence[str] | None = None,
    noise_sd_share: NumArray | None = None,
    with_demand: bool = False,
) -> Outturn:
    """Draw ``draws`` outturns for providers with ``budgets_pence`` and segment ``mix``.

    ``segment_ids`` names the mix's columns so the volatility's per-segment overrides
    apply (without it every segment has the default). ``noise_sd_share`` gives each
    provider its own noise (default: the volatility's ``provider_noise_sd_share``).
    """
    budgets = np.asarray(budgets_pence, dtype=np.int64).reshape(-1)
    n_providers = budgets.size
    m = _checked_mix(mix, n_providers)
    n_segments = m.shape[1]
    if draws < 1:
        raise ValueError("draws must be at least 1")
    if segment_ids is not None and len(segment_ids) != n_segments:
        raise ValueError("segment_ids must name every column of mix")
    sd_segment = (
        segment_sd_shares(volatility, segment_ids)
        if segment_ids is not None
        else np.full(n_segments, volatility.segment_shock_sd_share)
    )
    sd_noise = np.broadcast_to(
        np.asarray(
            volatility.provider_noise_sd_share if noise_sd_share is None else noise_sd_share,
            dtype=np.float64,
        ),
        (n_providers,),
    )
    # Row of independent normals z → segment shocks z Lᵀ (correlated), times each σ_s,
    # then through the mix: the provider's demand share is z @ (Lᵀ diag(σ) mixᵀ).
    correlated = segment_loadings(n_segments, volatility.segment_correlation).T
    loadings = (correlated * sd_segment[None, :]) @ m.T
    # np.einsum below, not @: small BLAS calls per chunk wake its threads, which costs more.
    budget_f = budgets.astype(np.float64)
    variance = np.empty((draws, n_providers), dtype=np.int64)
    demand = np.empty((draws, n_providers), dtype=np.int64) if with_demand else None
    width = 1 + n_segments + n_providers
    rows = max(1, _CHUNK_ELEMENTS // width)
    rng = np.random.default_rng(seed)
    for first in range(0, draws, rows):
        z = rng.standard_normal((min(rows, draws - first), width))
        demand_share = np.einsum("ns,sp->np", z[:, 1 : 1 + n_segments], loadings)
        shock = z[:, 1 + n_segments :] * sd_noise
        shock += demand_share
        shock += volatility.system_shock_sd_share * z[:, :1]
        shock *= budget_f
        part = variance[first : first + z.shape[0]]
        np.rint(shock, out=shock)
        np.maximum(shock, -budget_f, out=shock)  # nothing costs less than nothing
        part[...] = shock
        if demand is not None:
            demand_share *= budget_f
            demand[first : first + z.shape[0]] = np.rint(demand_share)
    return Outturn(budgets_pence=budgets, variance_pence=variance, demand_pence=demand)
