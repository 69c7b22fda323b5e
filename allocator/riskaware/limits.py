"""CVaR limits and the outturn sample they are held on: costs that stay put as budgets move.

The risk report draws each provider's cost around its budget. An optimiser that did the
same would see more risk in a bigger budget, which is backwards: a budget is what the
provider has to meet its costs. So the costs are drawn once, around **reference budgets**
(the plain allocation's, taken as each provider's expected cost), and kept fixed while
the budgets vary: a provider's variance in draw ``s`` is ``cost_s − budget``. The payment
mechanism's volume payment depends on activity only, so it is fixed per draw too, and the
agreement shares what is left, ``r_s = cost_s − volume_s − budget``.

A provider's limit is on the CVaR of its part after sharing (its ``risk_appetite_pence``);
the pool's is on the CVaR of its call (within the contingency reserve).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from allocator.domain.pot import scenario_reserve_pence
from allocator.riskshare.assess import Settlement, settle, settlement_units, volume_payment
from allocator.riskshare.curve import Curve, agreement_curve
from allocator.riskshare.inputs import ReportInputs, report_inputs
from allocator.riskshare.simulate import simulate_outturn
from allocator.types import IntArray, RowFamily
from models.enums import BreakevenLevel, RiskLimitScope
from models.scenario import Scenario

PROVIDER_BLOCK = RowFamily.RISK_CVAR_PROVIDER.block()
POOL_BLOCK = RowFamily.RISK_CVAR_POOL.block()


@dataclass(frozen=True, slots=True)
class CvarLimit:
    """One limit: CVaR of a provider's part after sharing (``column``), or of the pool's call."""

    name: str
    block: str
    column: int | None
    provider_id: str | None
    limit_pence: int

    @property
    def is_pool(self) -> bool:
        return self.column is None


@dataclass(frozen=True, slots=True)
class RiskSample:
    """Costs ``(draws, providers)`` drawn once around the reference budgets (pence).

    Providers are in the scenario's order. ``volume_pence`` is the pool's payment for
    activity away from plan; ``curves[k]`` is provider ``k``'s part of what is left.
    """

    scenario: Scenario
    inputs: ReportInputs
    draws: int
    seed: int
    reference_pence: IntArray
    cost_pence: IntArray
    demand_pence: IntArray
    volume_pence: IntArray
    curves: list[Curve]
    units: IntArray

    @property
    def provider_ids(self) -> list[str]:
        return self.inputs.provider_ids

    @property
    def breakeven(self) -> BreakevenLevel:
        return self.scenario.outturn.breakeven

    def settle(self, budgets_pence: IntArray) -> Settlement:
        """Every draw settled exactly (the risk report's arithmetic) at these budgets."""
        variance = self.cost_pence - np.asarray(budgets_pence, dtype=np.int64)[None, :]
        return settle(self.inputs, variance, self.demand_pence, self.scenario)

    def losses(self, limits: Sequence[CvarLimit], budgets_pence: IntArray) -> IntArray:
        """``(draws, limits)``: what each limit is on, per draw, at these budgets."""
        settled = self.settle(budgets_pence)
        columns = [
            settled.call_pence if limit.column is None else settled.provider_pence[:, limit.column]
            for limit in limits
        ]
        if not columns:
            return np.zeros((self.draws, 0), dtype=np.int64)
        return np.stack(columns, axis=1)


def draw_sample(
    scenario: Scenario,
    reference_pence: Mapping[str, int],
    mix: Mapping[str, Mapping[str, float]],
    *,
    draws: int,
    seed: int,
) -> RiskSample:
    """Draw costs around ``reference_pence`` (every provider of the scenario, in pence)."""
    budgets = {p.provider_id: reference_pence.get(p.provider_id, 0) for p in scenario.providers}
    inputs = report_inputs(budgets, mix, scenario)
    outturn = simulate_outturn(
        inputs.budgets_pence,
        inputs.mix,
        scenario.outturn,
        draws=draws,
        seed=seed,
        segment_ids=inputs.segment_ids,
        with_demand=True,
    )
    assert outturn.demand_pence is not None
    volume, _ = volume_payment(inputs, outturn.demand_pence, scenario)
    return RiskSample(
        scenario=scenario,
        inputs=inputs,
        draws=draws,
        seed=seed,
        reference_pence=inputs.budgets_pence,
        cost_pence=outturn.cost_pence,
        demand_pence=outturn.demand_pence,
        volume_pence=volume,
        curves=[agreement_curve(a) for a in inputs.agreements],
        units=settlement_units(inputs),
    )


def cvar_limits(scenario: Scenario, scope: RiskLimitScope) -> list[CvarLimit]:
    """Every provider with a risk appetite (scope all or providers), then the pool's reserve
    (scope all or pool), with the names explanations show."""
    out: list[CvarLimit] = []
    if scope in (RiskLimitScope.ALL, RiskLimitScope.PROVIDERS):
        for k, p in enumerate(scenario.providers):
            if p.risk_appetite_pence is not None:
                out.append(
                    CvarLimit(
                        name=f"CVaR limit, {p.name or p.provider_id}",
                        block=PROVIDER_BLOCK,
                        column=k,
                        provider_id=p.provider_id,
                        limit_pence=p.risk_appetite_pence,
                    )
                )
    if scope in (RiskLimitScope.ALL, RiskLimitScope.POOL):
        out.append(
            CvarLimit(
                name="CVaR limit, pool reserve",
                block=POOL_BLOCK,
                column=None,
                provider_id=None,
                limit_pence=scenario_reserve_pence(scenario),
            )
        )
    return out
