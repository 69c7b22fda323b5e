"""Risk-aware allocation: CVaR limits held on sampled outturns, then re-checked out of sample.

1. Solve the scenario as it is (the **plain** allocation).
2. Draw costs once around its budgets (``draws``, ``seed``) and keep them fixed
   (:mod:`~allocator.riskaware.limits`).
3. Solve again with each limit as Rockafellar–Uryasev rows (:mod:`~allocator.riskaware.cvar_rows`):
   every provider with a risk appetite keeps the CVaR of its part after sharing within it,
   and the pool keeps the CVaR of its call within the contingency reserve. Each bound is
   the limit less ``safety_se`` standard errors of that CVaR on the sample, so that it still
   holds on fresh draws. Where an agreement is not convex the sharing is overstated
   (conservative), and ``refinements`` more solves move the tangents to the last budgets.
4. Re-check every limit on an independent sample (``check_draws``, ``check_seed``) with the
   risk report's exact arithmetic, and report what the limits cost against the plain
   allocation (value, and each objective stage).

Limits that cannot all hold make the result infeasible, with the usual diagnosis naming
the limits ("CVaR limit, <provider>", "CVaR limit, pool reserve"); that is an answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from allocator.pipeline import solve_scenario
from allocator.riskaware.cvar_rows import CvarRows
from allocator.riskaware.limits import CvarLimit, RiskSample, cvar_limits, draw_sample
from allocator.riskshare.inputs import result_budgets
from allocator.riskshare.measures import conditional_value_at_risk, tail_measures
from allocator.types import FloatArray, IntArray, Stage
from models import Scenario
from models.enums import REFERENCE_RATE_GBP, RiskLimitScope
from models.results import AllocationResult, RiskLimitLine, RiskLimitsReport

DEFAULT_DRAWS = 500
DEFAULT_SEED = 7
DEFAULT_CHECK_DRAWS = 20_000
SETTLED_PENCE = 100_000  # refinements stop once no budget moves by more than £1,000
MINIMISED = (
    Stage.SOFT,
    Stage.FAIRNESS_MAX,
    Stage.FAIRNESS_SUM,
    Stage.STABILITY,
    Stage.WEIGHTED,
    Stage.TIE_BREAK,
)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """How to make an allocation risk-aware (see the module docstring).

    ``check_seed`` defaults to ``seed + 1`` (NumPy hashes seeds, so neighbouring seeds
    give independent streams).
    """

    scope: RiskLimitScope = RiskLimitScope.ALL
    draws: int = DEFAULT_DRAWS
    seed: int = DEFAULT_SEED
    level: float = 0.95
    safety_se: float = 2.0
    refinements: int = 2
    check_draws: int = DEFAULT_CHECK_DRAWS
    check_seed: int | None = None

    def __post_init__(self) -> None:
        if self.draws < 1 or self.check_draws < 1:
            raise ValueError("draws and check_draws must be at least 1")
        if not 0.0 < self.level < 1.0:
            raise ValueError("level must be strictly between 0 and 1")
        if self.safety_se < 0 or self.refinements < 0:
            raise ValueError("safety_se and refinements cannot be negative")

    @property
    def independent_seed(self) -> int:
        return self.seed + 1 if self.check_seed is None else self.check_seed


def _pence(value: float) -> int:
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _budgets(result: AllocationResult, sample: RiskSample) -> IntArray:
    by_id = {p.provider_id: p.budget_pence for p in result.providers}
    return np.array([by_id.get(pid, 0) for pid in sample.provider_ids], dtype=np.int64)


def _bounds(
    sample: RiskSample, limits: list[CvarLimit], budgets: IntArray, options: RiskLimits
) -> FloatArray:
    """Each limit less ``safety_se`` standard errors of its CVaR on the sample at ``budgets``."""
    losses = sample.losses(limits, budgets)
    _, se = conditional_value_at_risk(losses, options.level)
    bounds: FloatArray = np.array([m.limit_pence for m in limits], dtype=np.float64)
    return bounds - options.safety_se * np.asarray(se, dtype=np.float64)


def _exact(sample: RiskSample, limits: list[CvarLimit]) -> bool:
    """Whether every loss under a limit is convex in the budgets (no approximation needed)."""
    for limit in limits:
        if limit.column is not None and not sample.curves[limit.column].is_convex:
            return False
        if limit.is_pool and not all(c.complement().is_convex for c in sample.curves):
            return False
    return True


def solve_risk_aware(
    scenario: Scenario,
    options: RiskLimits,
    *,
    backend: str | None = None,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    validate: bool = True,
    explain: bool = True,
    sensitivity: bool = False,
) -> AllocationResult:
    """The allocation with CVaR limits, its out-of-sample check and its cost (``risk_limits``).

    Wraps the pipeline: the plain allocation, then the allocation extended with CVaR rows.
    """

    def run(*, extend: CvarRows | None, explained: bool, check: bool = False) -> AllocationResult:
        return solve_scenario(
            scenario,
            backend=backend,
            time_limit_s=time_limit_s,
            mip_gap=mip_gap,
            validate=check,
            explain=explained,
            sensitivity=sensitivity and explained,
            extend=extend,
        )

    plain = run(extend=None, explained=False, check=validate)
    if not plain.feasible:
        plain = run(extend=None, explained=explain) if explain else plain
        note = "Risk limits were not applied: the scenario has no allocation even without them."
        return plain.model_copy(update={"notes": [*plain.notes, note]})
    reference, mix = result_budgets(plain)
    limits = cvar_limits(scenario, options.scope)
    sample = draw_sample(scenario, reference, mix, draws=options.draws, seed=options.seed)
    exact = _exact(sample, limits)
    rounds = 1 + (0 if exact else options.refinements)
    around: IntArray | None = None
    chosen: AllocationResult | None = None
    spec: CvarRows | None = None
    made = 0
    for _ in range(rounds if limits else 0):
        point = sample.reference_pence if around is None else around
        attempt_spec = CvarRows(
            sample,
            tuple(limits),
            options.level,
            _bounds(sample, limits, point, options),
            None if around is None else around.astype(np.float64),
        )
        attempt = run(extend=attempt_spec, explained=explain and rounds == 1)
        made += 1
        if not attempt.feasible:
            if chosen is None:
                chosen, spec = attempt, attempt_spec
            break  # a later round that fails keeps the last good one: it holds the limits too
        chosen, spec = attempt, attempt_spec
        budgets = _budgets(attempt, sample)
        if around is not None and int(np.abs(budgets - around).max()) <= SETTLED_PENCE:
            break
        around = budgets
    if chosen is None or spec is None:
        chosen = run(extend=None, explained=explain)
    elif explain and rounds > 1:
        chosen = run(extend=spec, explained=True)
    check = (
        draw_sample(
            scenario, reference, mix, draws=options.check_draws, seed=options.independent_seed
        )
        if limits
        else sample  # nothing to check
    )
    report = _report(scenario, options, limits, sample, check, plain, chosen, spec, exact, made)
    return chosen.model_copy(
        update={"risk_limits": report, "notes": [*chosen.notes, *_summary(report, chosen)]}
    )


def _limit_lines(
    limits: list[CvarLimit],
    sample: RiskSample,
    check: RiskSample,
    bounds: FloatArray,
    budgets: IntArray,
    feasible: bool,
    level: float,
) -> list[RiskLimitLine]:
    """Each limit in sample and out of sample (and the plain allocation out of sample)."""
    if not limits:
        return []
    plain = tail_measures(check.losses(limits, sample.reference_pence), level)
    inside = tail_measures(sample.losses(limits, budgets), level)
    losses = check.losses(limits, budgets)
    outside = tail_measures(losses, level)
    lines = []
    for j, limit in enumerate(limits):
        line = RiskLimitLine(
            limit=limit.name,
            block=limit.block,
            unit_id=limit.provider_id,
            limit_pence=limit.limit_pence,
            bound_pence=math.floor(float(bounds[j])),
            plain_cvar_pence=_pence(float(plain.cvar[j])),
        )
        if feasible:
            cvar = _pence(float(outside.cvar[j]))
            line = line.model_copy(
                update={
                    "in_sample_cvar_pence": _pence(float(inside.cvar[j])),
                    "cvar_pence": cvar,
                    "cvar_se_pence": _pence(float(outside.cvar_se[j])),
                    "holds": cvar <= limit.limit_pence,
                    "prob_above_limit": float((losses[:, j] > limit.limit_pence).mean()),
                }
            )
        lines.append(line)
    return lines


def _report(
    scenario: Scenario,
    options: RiskLimits,
    limits: list[CvarLimit],
    sample: RiskSample,
    check: RiskSample,
    plain: AllocationResult,
    aware: AllocationResult,
    spec: CvarRows | None,
    exact: bool,
    rounds: int,
) -> RiskLimitsReport:
    bounds = spec.bounds_pence if spec is not None else np.zeros(len(limits))
    budgets = _budgets(aware, sample) if aware.feasible else sample.reference_pence
    lines = _limit_lines(limits, sample, check, bounds, budgets, aware.feasible, options.level)
    checked = [line for line in lines if line.holds is not None]
    violated = sum(1 for line in checked if not line.holds)
    value_cost = plain.value_total - aware.value_total if aware.feasible else None
    objective = scenario.objective
    rate = objective.gbp_per_value_unit or REFERENCE_RATE_GBP[objective.reference_rate]
    return RiskLimitsReport(
        scope=options.scope,
        level=options.level,
        draws=options.draws,
        seed=options.seed,
        sampling=(
            f"{options.draws:,} draws (seed {options.seed}) of each provider's cost around the "
            "plain allocation's budgets, kept fixed while the budgets vary; checked on "
            f"{options.check_draws:,} fresh draws (seed {options.independent_seed})."
        ),
        approximation="exact" if exact else _APPROXIMATION,
        reference_budgets_pence=dict(
            zip(sample.provider_ids, (int(b) for b in sample.reference_pence), strict=True)
        ),
        safety_se=options.safety_se,
        rounds=rounds,
        check_draws=options.check_draws,
        check_seed=options.independent_seed,
        limits=lines,
        violated=violated,
        violation_rate=violated / len(checked) if checked else None,
        plain_value_total=plain.value_total,
        value_cost=value_cost,
        value_cost_gbp=None if value_cost is None else value_cost * rate,
        stage_costs=_stage_costs(plain, aware) if aware.feasible else {},
        notes=[] if limits else ["The scenario sets no risk appetite in this scope: no limits."],
    )


_APPROXIMATION = (
    "conservative: where an agreement's sharing is not convex in the variance (shares that "
    "fall outwards, loss or gain caps) its concave part is replaced by tangents that lie above "
    "it (first at the plain allocation's outturn, no further out than where the loss reaches "
    "the limit; the pool is credited with none of an underspend it would share; then at the "
    "last solve's budgets), so the true loss on the sample is never above the one the limits "
    "hold"
)


def _stage_costs(plain: AllocationResult, aware: AllocationResult) -> dict[str, float]:
    """Per stage in both: how much worse the risk-aware optimum is (value: less achieved)."""
    before = {s.stage: s.objective for s in plain.stages if s.objective is not None}
    out: dict[str, float] = {}
    for stage in aware.stages:
        if stage.objective is None or stage.stage not in before:
            continue
        change = stage.objective - before[stage.stage]
        out[stage.stage] = change if stage.stage in MINIMISED else -change
    return out


def _summary(report: RiskLimitsReport, result: AllocationResult) -> list[str]:
    if not report.limits:
        return report.notes
    if not result.feasible:
        caveat = (
            ""
            if report.approximation == "exact"
            else " (on the conservative approximation of non-convex sharing: a near miss may "
            "still be reachable)"
        )
        return [
            f"The {len(report.limits)} CVaR limit(s) cannot all hold{caveat}: the infeasibility "
            "report names the limits ('CVaR limit, …') and the least change that would do."
        ]
    rate = "n/a" if report.violation_rate is None else f"{report.violation_rate:.0%}"
    approximated = (
        []
        if report.approximation == "exact"
        else [f"Sharing in the limits: {report.approximation}."]
    )
    return [
        *approximated,
        f"Risk-aware: {len(report.limits)} CVaR limit(s) at {report.level:.0%} held on "
        f"{report.draws:,} sampled outturns; out of sample ({report.check_draws:,} fresh draws) "
        f"{report.violated} violated (violation rate {rate}). Value given up against the plain "
        f"allocation: {report.value_cost or 0.0:,.4g} value units.",
    ]
