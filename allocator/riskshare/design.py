"""Design a risk-share agreement: band shares that keep both sides' CVaR within limits.

For one provider with budget ``B``, its outturn is drawn ``draws`` times (the risk report's
factor model, costs around ``B``); the payment mechanism settles activity away from plan
first and the agreement shares what is left, ``r``. With bands of given widths (default
0–1%, 1–3% and beyond 3% of the budget, on each side), the part of ``r`` in band ``j`` is
a fixed number per draw, so the provider's part ``L = Σ_j s_j·over_j − Σ_k q_k·under_k``
is linear in the shares ``s`` (overspend) and ``q`` (underspend kept), and so is the
pool's part ``volume + r − L``. One linear program (HiGHS through SciPy) then:

* keeps ``CVaR(L) ≤`` the provider's limit and ``CVaR(pool's part) ≤`` the pool's limit
  (Rockafellar–Uryasev rows, one per draw and side);
* at least cost in expected transfers: the expected money the agreement moves between the
  provider and the pool, ``Σ_j (1 − s_j)·E[over_j] + Σ_k (1 − q_k)·E[under_k]``.

The pool's limit is on what this one agreement sends to the pool (its volume payment
included); by default the scenario's contingency reserve. The chosen shares are rounded to
six decimals and the agreement is re-measured with the exact arithmetic on the sample and
on fresh draws. Limits that cannot both hold are an answer: which one, and the lowest CVaR
each side can have while the other's limit holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from allocator.domain.money import pence_to_gbp_str
from allocator.domain.pot import scenario_reserve_pence
from allocator.errors import DesignUnavailable, Issue
from allocator.riskshare.agreements import compile_agreements, share_variance
from allocator.riskshare.assess import volume_payment
from allocator.riskshare.inputs import report_inputs
from allocator.riskshare.measures import conditional_value_at_risk, tail_draws
from allocator.riskshare.simulate import simulate_outturn
from allocator.types import FloatArray, IntArray
from models.risk import RiskShareAgreement, VarianceBand
from models.scenario import Scenario

DEFAULT_EDGES = (0.01, 0.03)
"""Band edges as shares of the budget, on each side: bands 0–1%, 1–3% and beyond 3%."""
SHARE_DECIMALS = 6
PENCE_PER_UNIT = 100_000  # £ thousands: one provider's variances, not the program's £ millions


@dataclass(frozen=True, slots=True)
class DesignBand:
    """One band of the recommended agreement: magnitudes of variance from and to (pence)."""

    side: str
    from_pence: int
    to_pence: int | None
    provider_share: float
    expected_pence: int  # mean part of the variance falling in this band


@dataclass(frozen=True, slots=True)
class AgreementDesign:
    """The recommendation (``agreement``), or why there is none (``message``)."""

    provider_id: str
    budget_pence: int
    level: float
    draws: int
    seed: int
    provider_limit_pence: int
    pool_limit_pence: int
    feasible: bool
    message: str
    agreement: RiskShareAgreement | None = None
    bands: tuple[DesignBand, ...] = ()
    provider_cvar_pence: int | None = None
    pool_cvar_pence: int | None = None
    check_draws: int = 0
    check_seed: int = 0
    provider_cvar_check_pence: int | None = None
    pool_cvar_check_pence: int | None = None
    expected_transfer_pence: int | None = None
    lowest_provider_cvar_pence: int | None = None
    lowest_pool_cvar_pence: int | None = None


@dataclass(frozen=True, slots=True)
class _Outturn:
    variance: IntArray  # (draws,) cost − budget
    remaining: IntArray  # variance − the pool's volume payment


def _outturn(
    scenario: Scenario,
    provider_id: str,
    budget_pence: int,
    mix: Mapping[str, float] | None,
    draws: int,
    seed: int,
) -> _Outturn:
    inputs = report_inputs({provider_id: budget_pence}, {provider_id: dict(mix or {})}, scenario)
    inputs = replace(inputs, agreements=[None], pooled=[False])  # the agreement is to be found
    out = simulate_outturn(
        inputs.budgets_pence,
        inputs.mix,
        scenario.outturn,
        draws=draws,
        seed=seed,
        segment_ids=inputs.segment_ids,
        with_demand=True,
    )
    assert out.demand_pence is not None
    volume, _ = volume_payment(inputs, out.demand_pence, scenario)
    variance = out.variance_pence[:, 0]
    return _Outturn(variance, variance - volume[:, 0])


def _band_parts(remaining: IntArray, edges: Sequence[int]) -> tuple[FloatArray, FloatArray]:
    """Parts of each draw's overspend and underspend in each band: two ``(draws, bands)``."""
    starts = np.array([0, *edges], dtype=np.float64)
    widths = np.append(np.diff(starts), np.inf)
    r = remaining.astype(np.float64)[:, None]
    over = np.clip(r - starts, 0.0, widths)
    under = np.clip(-r - starts, 0.0, widths)
    return over, under


@dataclass(frozen=True, slots=True)
class _Program:
    """The design LP over ``x = [s, q, t₁, u₁, t₂, u₂]`` in £ thousands (`PENCE_PER_UNIT`)."""

    over: FloatArray
    under: FloatArray
    total: FloatArray  # volume + r: the pool's part when the provider bears nothing
    level: float

    @property
    def bands(self) -> int:
        return int(self.over.shape[1] + self.under.shape[1])

    def solve(
        self, objective: str, provider_limit: float | None, pool_limit: float | None
    ) -> tuple[FloatArray, float] | None:
        """Minimise the expected transfer (``"transfer"``), or one side's CVaR
        (``"provider"``/``"pool"``), under the limits given (in pence); None if infeasible."""
        from scipy.optimize import linprog

        n, m = self.over.shape[0], self.bands
        shares = np.hstack([self.over, -self.under]) / PENCE_PER_UNIT  # L = shares @ [s, q]
        tail = tail_draws(n, self.level)
        ones = sp.eye_array(n, format="csr")
        column = sp.csr_array(np.ones((n, 1)))
        zero_n, zero_1 = sp.csr_array((n, n)), sp.csr_array((n, 1))
        dense = sp.csr_array(shares)
        # L_s − t₁ − u₁ₛ ≤ 0 and −L_s − t₂ − u₂ₛ ≤ −total_s
        a_ub = sp.vstack(
            [
                sp.hstack([dense, -column, -ones, zero_1, zero_n]),
                sp.hstack([-dense, zero_1, zero_n, -column, -ones]),
            ],
            format="csr",
        )
        b_ub = np.concatenate([np.zeros(n), -self.total / PENCE_PER_UNIT])
        cvar1 = np.concatenate([np.zeros(m), [1.0], np.full(n, 1.0 / tail), [0.0], np.zeros(n)])
        cvar2 = np.concatenate([np.zeros(m), [0.0], np.zeros(n), [1.0], np.full(n, 1.0 / tail)])
        rows, bounds_ub = [], []
        for row, limit in ((cvar1, provider_limit), (cvar2, pool_limit)):
            if limit is not None:
                rows.append(row)
                bounds_ub.append(limit / PENCE_PER_UNIT)
        if rows:
            a_ub = sp.vstack([a_ub, sp.csr_array(np.array(rows))], format="csr")
            b_ub = np.concatenate([b_ub, bounds_ub])
        if objective == "transfer":
            means = (
                np.concatenate([self.over.mean(axis=0), self.under.mean(axis=0)]) / PENCE_PER_UNIT
            )
            # Least transfer: the provider keeps as much of its own variance as it can; a
            # band no draw reaches goes the same way (the tiny tie-break).
            c = np.concatenate([-(means + 1e-9), np.zeros(2 * n + 2)])
        else:
            c = cvar1 if objective == "provider" else cvar2
        bounds = [(0.0, 1.0)] * m + [(None, None), *[(0.0, None)] * n] * 2
        found = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if found.status != 0:
            return None
        return np.asarray(found.x, dtype=np.float64), float(found.fun) * PENCE_PER_UNIT


def _cvar(losses: IntArray, level: float) -> int:
    cvar, _ = conditional_value_at_risk(losses, level)
    return math.floor(float(cvar) + 0.5)


def _agreement(
    agreement_id: str,
    name: str,
    edges: Sequence[int],
    shares: tuple[FloatArray, FloatArray],
    *,
    for_provider: bool,
) -> RiskShareAgreement:
    """The agreement, shares rounded to six decimals in the direction that keeps the tighter
    limit: ``for_provider`` rounds overspend shares down and kept underspend shares up."""
    widths = [b - a for a, b in zip([0, *edges], edges, strict=False)]
    scale = 10**SHARE_DECIMALS

    def side(values: FloatArray, down: bool) -> tuple[VarianceBand, ...]:
        clipped = np.clip(values, 0.0, 1.0) * scale
        steps = np.floor(clipped + 1e-6) if down else np.ceil(clipped - 1e-6)
        return tuple(
            VarianceBand(width_pence=w, provider_share=min(max(float(v) / scale, 0.0), 1.0) + 0.0)
            for w, v in zip([*widths, None], steps, strict=True)
        )

    return RiskShareAgreement(
        agreement_id=agreement_id,
        name=name,
        overspend_bands=side(shares[0], down=for_provider),
        underspend_bands=side(shares[1], down=not for_provider),
    )


def design_agreement(
    scenario: Scenario,
    provider_id: str,
    budget_pence: int,
    mix: Mapping[str, float] | None = None,
    *,
    provider_limit_pence: int | None = None,
    pool_limit_pence: int | None = None,
    edges_share: Sequence[float] = DEFAULT_EDGES,
    draws: int = 5_000,
    seed: int = 1,
    level: float = 0.95,
    check_draws: int = 20_000,
    check_seed: int | None = None,
    agreement_id: str | None = None,
) -> AgreementDesign:
    """The band shares of least expected transfer that keep both CVaRs within limits.

    ``provider_limit_pence`` defaults to the provider's risk appetite, ``pool_limit_pence``
    to the scenario's contingency reserve; ``edges_share`` are the band edges as shares
    of the budget (rising, each side alike). ``mix`` is the provider's segment mix (blank:
    equal over its segments). Raises `DesignUnavailable` for an unknown provider, a
    missing limit or bad edges.
    """
    provider = next((p for p in scenario.providers if p.provider_id == provider_id), None)
    if provider is None:
        raise DesignUnavailable(
            f"no provider {provider_id!r} in the scenario",
            [Issue(("provider_id",), f"unknown provider {provider_id!r}")],
        )
    own_limit = (
        provider.risk_appetite_pence if provider_limit_pence is None else provider_limit_pence
    )
    if own_limit is None:
        raise DesignUnavailable(
            f"provider {provider_id!r} has no risk appetite: give the provider's CVaR limit",
            [Issue(("providers", provider_id, "risk_appetite_pence"), "no risk appetite")],
        )
    pool_limit = scenario_reserve_pence(scenario) if pool_limit_pence is None else pool_limit_pence
    if any(b <= a for a, b in zip([0.0, *edges_share], edges_share, strict=False)):
        raise DesignUnavailable("band edges must be positive and rising, e.g. 1% then 3%")
    edges = [round(budget_pence * e) for e in edges_share]
    if any(b <= a for a, b in zip([0, *edges], edges, strict=False)):
        raise DesignUnavailable("the budget is too small for these band edges")
    sample = _outturn(scenario, provider_id, budget_pence, mix, draws, seed)
    over, under = _band_parts(sample.remaining, edges)
    program = _Program(over, under, sample.variance.astype(np.float64), level)
    base = AgreementDesign(
        provider_id=provider_id,
        budget_pence=budget_pence,
        level=level,
        draws=draws,
        seed=seed,
        provider_limit_pence=own_limit,
        pool_limit_pence=pool_limit,
        feasible=False,
        message="",
    )
    found = program.solve("transfer", own_limit, pool_limit)
    if found is None:
        return _infeasible(base, program)
    x, _ = found
    k = over.shape[1]
    at = 2 * k
    # Which limit is tighter decides which way the shares are rounded. (Measured on the
    # shares: a limit's t and u columns need not be at their least when it has room.)
    loss = over @ x[:k] - under @ x[k:at]
    provider_cvar = float(conditional_value_at_risk(loss, level)[0])
    pool_cvar = float(conditional_value_at_risk(program.total - loss, level)[0])
    name = f"Designed for {provider.name or provider_id}: CVaR at {level:.0%} within limits"
    agreement = _agreement(
        agreement_id or f"{provider_id}-designed",
        name,
        edges,
        (x[:k], x[k:at]),
        for_provider=own_limit - provider_cvar <= pool_limit - pool_cvar,
    )
    return _measured(
        base, agreement, sample, scenario, mix, over, under, edges, check_draws, check_seed
    )


def _measured(
    base: AgreementDesign,
    agreement: RiskShareAgreement,
    sample: _Outturn,
    scenario: Scenario,
    mix: Mapping[str, float] | None,
    over: FloatArray,
    under: FloatArray,
    edges: Sequence[int],
    check_draws: int,
    check_seed: int | None,
) -> AgreementDesign:
    """The rounded agreement measured exactly on the sample and on fresh draws."""
    table = compile_agreements([agreement])
    provider_part, _ = share_variance(sample.remaining, table)
    pool_part = sample.variance - provider_part
    fresh_seed = base.seed + 1 if check_seed is None else check_seed
    fresh = _outturn(scenario, base.provider_id, base.budget_pence, mix, check_draws, fresh_seed)
    fresh_provider, _ = share_variance(fresh.remaining, table)
    shares = [b.provider_share for b in (*agreement.overspend_bands, *agreement.underspend_bands)]
    transfer = sum(
        (1.0 - s) * float(m)
        for s, m in zip(shares, [*over.mean(axis=0), *under.mean(axis=0)], strict=True)
    )
    starts = [0, *edges]
    bands = tuple(
        DesignBand(
            side=side,
            from_pence=starts[j],
            to_pence=starts[j + 1] if j + 1 < len(starts) else None,
            provider_share=band.provider_share,
            expected_pence=round(float(parts[:, j].mean())),
        )
        for side, chosen, parts in (
            ("overspend", agreement.overspend_bands, over),
            ("underspend", agreement.underspend_bands, under),
        )
        for j, band in enumerate(chosen)
    )
    return replace(
        base,
        feasible=True,
        message=(
            f"Shares found: the provider's CVaR stays within {pence_to_gbp_str(base.provider_limit_pence)} "
            f"and the pool's within {pence_to_gbp_str(base.pool_limit_pence)} (at {base.level:.0%})."
        ),
        agreement=agreement,
        bands=bands,
        provider_cvar_pence=_cvar(provider_part, base.level),
        pool_cvar_pence=_cvar(pool_part, base.level),
        check_draws=check_draws,
        check_seed=fresh_seed,
        provider_cvar_check_pence=_cvar(fresh_provider, base.level),
        pool_cvar_check_pence=_cvar(fresh.variance - fresh_provider, base.level),
        expected_transfer_pence=round(transfer),
    )


def _infeasible(base: AgreementDesign, program: _Program) -> AgreementDesign:
    """Which limit cannot be met, and the lowest CVaR each side can have."""
    own, pool = float(base.provider_limit_pence), float(base.pool_limit_pence)
    pool_alone = program.solve("pool", None, None)
    lowest_pool_alone = None if pool_alone is None else math.ceil(pool_alone[1] - 1e-6)
    if lowest_pool_alone is not None and lowest_pool_alone > pool:
        return replace(
            base,
            message=(
                f"The pool's limit cannot be met by any agreement: the lowest CVaR of the pool's "
                f"part is {pence_to_gbp_str(lowest_pool_alone)} (its volume payments under the payment "
                f"mechanism and the bands' reach), above the limit of {pence_to_gbp_str(round(pool))}."
            ),
            lowest_pool_cvar_pence=lowest_pool_alone,
        )
    provider_best = program.solve("provider", None, pool)
    pool_best = program.solve("pool", own, None)
    lowest_own = None if provider_best is None else math.ceil(provider_best[1] - 1e-6)
    lowest_pool = None if pool_best is None else math.ceil(pool_best[1] - 1e-6)
    parts = [
        f"The provider's limit of {pence_to_gbp_str(round(own))} cannot be met while the pool's "
        f"({pence_to_gbp_str(round(pool))}) holds"
    ]
    if lowest_own is not None:
        parts.append(
            f"the lowest provider CVaR with the pool within its limit is {pence_to_gbp_str(lowest_own)}"
        )
    if lowest_pool is not None:
        parts.append(
            f"the lowest pool CVaR with the provider within its limit is {pence_to_gbp_str(lowest_pool)}"
        )
    return replace(
        base,
        message="; ".join(parts) + ".",
        lowest_provider_cvar_pence=lowest_own,
        lowest_pool_cvar_pence=lowest_pool,
    )
