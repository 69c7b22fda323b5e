"""What an allocation publishes (spec section 6). Money is integer pence and reconciles exactly."""

from __future__ import annotations

from pydantic import Field

from models.base import DomainModel
from models.enums import RiskLimitScope


class Timings(DomainModel):
    validate_s: float = 0.0
    build_s: float = 0.0
    solve_s: float = 0.0
    assemble_s: float = 0.0
    total_s: float = 0.0


class ModelSize(DomainModel):
    rows: int
    columns: int
    nonzeros: int
    integer_columns: int


class StageReport(DomainModel):
    """One stage of the lexicographic sequence (or the single weighted stage)."""

    stage: str
    description: str
    status: str
    objective: float | None
    objective_unit: str
    solve_time_s: float
    mip_gap: float | None = None
    published: float | None = Field(
        default=None,
        description="The published allocation's own figure for this stage after rounding to "
        "pence (largest shortfall, sum of shortfalls, value, change from baseline), in the "
        "stage's unit; none for stages without one.",
    )


class PoolLine(DomainModel):
    """Level 1: one funder's money and where it went."""

    funder_id: str
    name: str
    kind: str
    contribution_pence: int
    pass_through_pence: int
    pooled_pence: int
    reserve_pence: int
    allocated_pence: int = Field(
        description="Pooled money allocated to providers (pooled − reserve − lapsed)."
    )
    to_providers_pence: dict[str, int] = Field(default_factory=dict)
    lapsed_pence: int = Field(
        default=0, description="Entitlements not claimed: they lapse and are not carried forward."
    )


class LapseLine(DomainModel):
    """One use-it-or-lose-it entitlement: what was claimed and what lapsed (they add to it)."""

    entitlement_id: str
    funder_id: str
    neighbourhood_id: str
    entitlement_pence: int
    claimed_pence: int
    lapsed_pence: int


class MinimumSpendLine(DomainModel):
    """One minimum spend: its required figure, how it was derived, and the published spend."""

    rule_id: str
    hard: bool = True
    required_pence: int
    derivation: str = Field(
        description="How the minimum was derived, e.g. 'baseline £X × NHS recurrent £Y ÷ "
        "last year £Z, rounded up'."
    )
    published_pence: int | None = Field(
        default=None, description="What the published allocation spent as the rule counts it."
    )
    binding: bool = Field(
        default=False, description="The solver's allocation sits at the minimum (or breaks it)."
    )


class PotSummary(DomainModel):
    total_pence: int
    pass_through_pence: int
    pooled_pence: int
    reserve_pence: int
    capitated_pence: int
    lapsed_pence: int = 0


class UnitLine(DomainModel):
    """Level 2: a system, place or neighbourhood's allocation against its fair-share target."""

    level: str
    unit_id: str
    name: str
    parent_id: str | None
    headcount: float
    weighted_population: float
    need_index: float | None
    target_pence: int
    allocation_pence: int | None
    distance_from_target: float | None
    baseline_pence: int | None = None
    by_mechanism_pence: dict[str, int] = Field(default_factory=dict)


class ProviderLine(DomainModel):
    """Level 3: one provider's budget, split by segment, place and funder."""

    provider_id: str
    name: str
    kind: str
    payment: str
    funded: bool
    baseline_pence: int
    budget_pence: int
    change_pence: int
    change_share: float | None
    pass_through_pence: int
    schemes_pence: int
    by_segment_pence: dict[str, int]
    by_place_pence: dict[str, int]
    by_funder_pence: dict[str, int]


class CellLine(DomainModel):
    """The finest published figure: one provider, neighbourhood and segment."""

    provider_id: str
    neighbourhood_id: str
    segment_id: str
    budget_pence: int


class FlowLine(DomainModel):
    """Pooled money from one funder to one provider for one segment."""

    funder_id: str
    provider_id: str
    segment_id: str
    amount_pence: int


class SchemeLine(DomainModel):
    scheme_id: str
    name: str
    provider_id: str
    place_id: str
    units_funded: int
    max_units: int
    cost_pence: int
    value: float


class ValueLine(DomainModel):
    place_id: str
    segment_id: str
    provider_kind: str
    spend_pence: int
    value: float


class RuleLine(DomainModel):
    """A rule's state in this allocation: binding, breached (soft rules), shadow price."""

    rule: str = Field(description="Domain name, e.g. 'pace-of-change cap, Provider X'.")
    block: str = Field(description="Row block, e.g. 'pace.cap'.")
    unit_id: str | None = None
    binding: bool
    breach_pence: int = 0
    shadow_price: float | None = Field(
        default=None, description="Health value gained per £1 the rule is relaxed."
    )
    shadow_price_unit: str | None = None
    fairness_per_gbp: float | None = Field(
        default=None, description="£ of shortfall below target removed per £1 the rule is relaxed."
    )
    value_per_percentage_point: float | None = Field(
        default=None, description="Pace-of-change rules: value gained per 1 percentage point more."
    )
    valid_from_gbp: float | None = Field(
        default=None,
        description="Sensitivity: the shadow price holds while the bound stays above this (£).",
    )
    valid_to_gbp: float | None = Field(default=None, description="…and below this (£).")


class PoolMarginal(DomainModel):
    """What one more £1 from a funder is worth (spec section 6: the value of £1 in the pool)."""

    funder_id: str
    value_per_gbp: float | None
    fairness_per_gbp: float | None = Field(description="£ of shortfall removed per extra £1.")
    valid_from_gbp: float | None = None
    valid_to_gbp: float | None = None


class SchemeCost(DomainModel):
    """An unfunded scheme's reduced cost: how much more value it would need to be funded."""

    scheme_id: str
    name: str
    value_needed_per_unit: float
    value_needed_per_gbp: float
    gbp_value_needed_per_gbp: float = Field(
        description="The same at the scenario's reference rate (£ of value per £ of cost)."
    )


class Explanation(DomainModel):
    duals_from: str = Field(description="'lp', or 'lp with integer decisions fixed' for MIPs.")
    headline_stage: str
    value_unit: str
    pool: list[PoolMarginal] = Field(default_factory=list)
    schemes: list[SchemeCost] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class Relaxation(DomainModel):
    """One rule that has to give for the scenario to become feasible, and by how much."""

    rule: str
    block: str
    unit_id: str | None
    direction: str = Field(description="'lower' the bound or 'raise' it.")
    amount_pence: int
    bound_pence: int | None = Field(default=None, description="The bound before the change.")
    share_of_bound: float | None = Field(description="The change as a share of the bound.")


class InfeasibilityReport(DomainModel):
    summary: str
    conflicting_rules: list[str] = Field(description="Rules whose relaxation would help.")
    least_change: list[Relaxation] = Field(
        description="The least total change (in £) that restores feasibility."
    )
    least_change_total_pence: int
    pot_increase_pence: int | None = Field(
        description="Raising the pot alone by this much restores feasibility (None: it cannot)."
    )
    minimal_conflict: list[str] | None = None
    notes: list[str] = Field(default_factory=list)


class RiskLimitLine(DomainModel):
    """One CVaR limit of a risk-aware allocation, re-checked on a fresh sample."""

    limit: str = Field(description="e.g. 'CVaR limit, Provider X' or 'CVaR limit, pool reserve'.")
    block: str = Field(description="Row block: 'risk.cvar.provider' or 'risk.cvar.pool'.")
    unit_id: str | None = Field(default=None, description="The provider; blank for the pool.")
    limit_pence: int = Field(description="The appetite (or the reserve) the CVaR must stay within.")
    bound_pence: int = Field(
        description="The bound held on the optimiser's sample (limit − margin)."
    )
    in_sample_cvar_pence: int | None = Field(
        default=None, description="CVaR on the optimiser's sample at the allocation."
    )
    plain_cvar_pence: int | None = Field(
        default=None, description="CVaR of the plain allocation on the check sample."
    )
    cvar_pence: int | None = Field(
        default=None, description="Out of sample: CVaR on the independent check sample."
    )
    cvar_se_pence: int | None = None
    holds: bool | None = Field(default=None, description="Out-of-sample CVaR within the limit.")
    prob_above_limit: float | None = Field(
        default=None, description="Share of check draws whose loss exceeds the limit."
    )


class RiskLimitsReport(DomainModel):
    """How a risk-aware allocation was made, what its CVaR limits cost, and whether they hold."""

    scope: RiskLimitScope
    level: float
    draws: int = Field(
        description="Outturn draws in the optimisation (one column per draw and limit)."
    )
    seed: int
    sampling: str = Field(description="How the optimiser's outturns were drawn.")
    approximation: str = Field(description="'exact' or how the sharing was approximated.")
    reference_budgets_pence: dict[str, int] = Field(
        default_factory=dict, description="The budgets each provider's cost is drawn around."
    )
    safety_se: float = Field(description="Margin below each limit, in standard errors of its CVaR.")
    rounds: int = Field(description="Solves made (the first, then refinements of the tangents).")
    check_draws: int
    check_seed: int
    limits: list[RiskLimitLine] = Field(default_factory=list)
    violated: int = 0
    violation_rate: float | None = Field(
        default=None, description="Share of limits whose out-of-sample CVaR exceeds the limit."
    )
    plain_value_total: float | None = None
    value_cost: float | None = Field(
        default=None, description="Value given up for the limits: plain − risk-aware (value units)."
    )
    value_cost_gbp: float | None = Field(
        default=None, description="The same at the scenario's reference rate (£)."
    )
    stage_costs: dict[str, float] = Field(
        default_factory=dict,
        description="Per objective stage, how much worse the risk-aware optimum is (stage units).",
    )
    notes: list[str] = Field(default_factory=list)


class RoundingLine(DomainModel):
    """How far rounding to whole pence moved one line of the reconciliation certificate."""

    level: str = Field(
        description="pot, funder, system, system_places, place_neighbourhoods, provider or providers"
    )
    unit_id: str = Field(default="", description="The funder, system, place or provider.")
    moved_pence: float = Field(
        description="Sum over the line's parts of |published pence − the solver's figure|, "
        "in pence to 1/100p: how much money rounding moved between the parts. The line "
        "still reconciles exactly; this is how far its parts are from the unrounded optimum."
    )


class AllocationResult(DomainModel):
    scenario_id: str
    scenario_hash: str
    software_version: str
    status: str
    status_detail: str = ""
    feasible: bool
    backend: str
    objective_kind: str
    mip: bool
    mip_gap: float | None = None
    model_size: ModelSize
    timings: Timings
    pot: PotSummary
    pool: list[PoolLine]
    lapses: list[LapseLine] = Field(default_factory=list)
    minimum_spends: list[MinimumSpendLine] = Field(
        default_factory=list,
        description="Each minimum spend's required figure, its derivation and published spend.",
    )
    systems: list[UnitLine]
    places: list[UnitLine]
    neighbourhoods: list[UnitLine]
    providers: list[ProviderLine]
    cells: list[CellLine]
    flows: list[FlowLine] = Field(default_factory=list)
    schemes: list[SchemeLine]
    value_total: float
    value_unit: str
    value_by: list[ValueLine]
    stages: list[StageReport]
    rules: list[RuleLine] = Field(default_factory=list)
    explanation: Explanation | None = None
    infeasibility: InfeasibilityReport | None = None
    notes: list[str] = Field(default_factory=list)
    rounding: list[RoundingLine] = Field(
        default_factory=list,
        description="Per certificate line, how far rounding to whole pence moved it "
        "(empty: no allocation, or a result from before this was recorded).",
    )
    risk_limits: RiskLimitsReport | None = Field(
        default=None, description="Risk-aware allocations only: the CVaR limits and their checks."
    )
