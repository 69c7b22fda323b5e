"""Multi-year plans: each year's baseline is the previous year's allocation.

A plan solves year 1 (the scenario as given), then rolls it forward: provider
baselines become last year's budgets and place baselines last year's place allocations,
the pot grows (``pot_growth``, per year), segment headcounts grow (``demand_growth``,
by default the scenario's own ``demand_growth``), contract amounts fixed in cash grow
with ``uplift`` (by default the pot growth: capacities, explicit block amounts, the
fixed part of blended contracts and unit prices, as a tariff uplift would), and minimum spends stated against a baseline (the
mental health investment standard, the better care fund minimum) are re-based on last
year's matching spend and must grow at least as fast as the pot. A minimum grown at a
funder's recurrent growth (the mental health investment standard tied to its base) is
re-based on last year's published eligible spend, as NHS England bases the standard on the
previous year's eligible spend; the funder's last year's recurrent allocation becomes this
year's, and this year's grows with the pot, so the standard grows at the pot growth too
(to the penny: ⌈spend × recurrent ÷ last year's recurrent⌉). Fair-share targets are
recomputed each year from the grown pot and populations, and pace of change applies
against the new baselines, so convergence is carried through.

Each year is solved on its own, in order, rather than as one multi-period model: a
budget is set each year with the pot then known; pace-of-change rules are defined
relative to last year's actual allocation; and the lexicographic, fairness-first
objective is applied year by year, as national allocations are. A multi-period model
would trade next year's fairness against this year's (holding a place back now to
smooth later years), which no allocation round does, and would plan on growth figures
that are only assumptions after the first year.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from allocator.batch.changes import DemandGrowth, PotGrowth, apply_changes, scale_pence
from allocator.publish.spend import matching_spend_pence
from models import Scenario
from models.funding import Funder, MinimumSpend
from models.providers import ActivityPayment, BlendedPayment, BlockPayment
from models.results import AllocationResult

MAX_YEARS = 5


@dataclass(frozen=True, slots=True)
class PlanYear:
    year: int  # 1 is the scenario as given
    financial_year: str
    scenario: Scenario
    result: AllocationResult


@dataclass(frozen=True, slots=True)
class PlanResult:
    years: list[PlanYear]

    @property
    def feasible(self) -> bool:
        return all(y.result.feasible for y in self.years)

    def glide_path(self) -> pd.DataFrame:
        """One row per year × place: target, allocation, baseline and distance from target."""
        rows = []
        for y in self.years:
            for u in y.result.places:
                rows.append(
                    {
                        "year": y.year,
                        "financial_year": y.financial_year,
                        "place_id": u.unit_id,
                        "name": u.name,
                        "status": y.result.status,
                        "baseline_pence": u.baseline_pence,
                        "target_pence": u.target_pence,
                        "allocation_pence": u.allocation_pence,
                        "distance_from_target": u.distance_from_target,
                    }
                )
        frame = pd.DataFrame(rows)
        for column in ("baseline_pence", "target_pence", "allocation_pence"):
            frame[column] = frame[column].astype("Int64")
        return frame

    def provider_path(self) -> pd.DataFrame:
        """One row per year × provider: baseline (last year's budget), budget and change,
        pass-through included (the provider's whole budget)."""
        rows = [
            {
                "year": y.year,
                "financial_year": y.financial_year,
                "provider_id": p.provider_id,
                "name": p.name,
                "kind": p.kind,
                "status": y.result.status,
                "baseline_pence": p.baseline_pence,
                "budget_pence": p.budget_pence,
                "change_pence": p.budget_pence - p.baseline_pence,
            }
            for y in self.years
            for p in y.result.providers
        ]
        columns = ["year", "financial_year", "provider_id", "name", "kind", "status"]
        frame = pd.DataFrame(
            rows, columns=[*columns, "baseline_pence", "budget_pence", "change_pence"]
        )
        for column in ("baseline_pence", "budget_pence", "change_pence"):
            frame[column] = frame[column].astype("Int64")
        return frame


def plan_years(
    scenario: Scenario,
    *,
    years: int = MAX_YEARS,
    pot_growth: float | Sequence[float] = 0.03,
    demand_growth: dict[str, float] | None = None,
    uplift: float | Sequence[float] | None = None,
    backend: str | None = None,
    time_limit_s: float | None = None,
    on_year: Callable[[PlanYear], None] | None = None,
) -> PlanResult:
    """Solve ``years`` years (1–5) in turn; stops after a year with no allocation.

    ``pot_growth`` and ``uplift`` are one figure for every year or one per year after
    the first. ``demand_growth`` maps segment ids to yearly growth; None uses the
    scenario's ``demand_growth``.
    """
    from allocator.pipeline import solve_scenario

    if not 1 <= years <= MAX_YEARS:
        raise ValueError(f"a plan covers 1 to {MAX_YEARS} years, not {years}")
    growths = _per_year(pot_growth, years, "pot_growth")
    uplifts = growths if uplift is None else _per_year(uplift, years, "uplift")
    demand = (
        {d.segment_id: d.growth_share for d in scenario.demand_growth}
        if demand_growth is None
        else dict(demand_growth)
    )
    out: list[PlanYear] = []
    current = scenario
    for year in range(1, years + 1):
        if out:
            previous = out[-1]
            current = roll_forward(
                previous.scenario,
                previous.result,
                pot_growth=growths[year - 2],
                demand_growth=demand,
                uplift=uplifts[year - 2],
                year=year,
            )
        result = solve_scenario(current, backend=backend, time_limit_s=time_limit_s, explain=False)
        planned = PlanYear(year, current.financial_year, current, result)
        out.append(planned)
        if on_year is not None:
            on_year(planned)
        if not result.feasible:
            break
    return PlanResult(out)


def roll_forward(
    scenario: Scenario,
    result: AllocationResult,
    *,
    pot_growth: float,
    demand_growth: dict[str, float],
    uplift: float,
    year: int,
) -> Scenario:
    """Next year's scenario from this year's scenario and its (feasible) allocation."""
    if not result.feasible:
        raise ValueError("a year without an allocation cannot be rolled forward")
    budgets = {p.provider_id: p.budget_pence for p in result.providers}
    places = {u.unit_id: u.allocation_pence for u in result.places}
    providers = []
    for p in scenario.providers:
        pay = p.payment
        if isinstance(pay, BlockPayment) and pay.amount_pence is not None:
            pay = pay.model_copy(update={"amount_pence": scale_pence(pay.amount_pence, uplift)})
        elif isinstance(pay, BlendedPayment):
            pay = pay.model_copy(
                update={
                    "fixed_pence": scale_pence(pay.fixed_pence, uplift),
                    "unit_price_pence": scale_pence(pay.unit_price_pence, uplift),
                }
            )
        elif isinstance(pay, ActivityPayment):
            price = scale_pence(pay.unit_price_pence, uplift)
            pay = pay.model_copy(update={"unit_price_pence": price})
        capacity = None if p.capacity_pence is None else scale_pence(p.capacity_pence, uplift)
        providers.append(
            p.model_copy(
                update={
                    "baseline_pence": budgets[p.provider_id],
                    "capacity_pence": capacity,
                    "payment": pay,
                }
            )
        )
    rolled = scenario.model_copy(
        update={
            "scenario_id": _year_id(scenario.scenario_id, year),
            "financial_year": next_financial_year(scenario.financial_year),
            "providers": tuple(providers),
            "funders": tuple(_recurrent_rolled(f, pot_growth) for f in scenario.funders),
            "places": tuple(
                p.model_copy(update={"baseline_pence": places[p.place_id]}) for p in scenario.places
            ),
            "minimum_spends": tuple(
                _rebased(rule, scenario, result, pot_growth) for rule in scenario.minimum_spends
            ),
        }
    )
    changes = [PotGrowth(growth=pot_growth)] + [
        DemandGrowth(segment_id=segment, growth=growth)
        for segment, growth in sorted(demand_growth.items())
        if growth
    ]
    return apply_changes(rolled, changes)


def _rebased(
    rule: MinimumSpend, scenario: Scenario, result: AllocationResult, growth: float
) -> MinimumSpend:
    if rule.baseline_pence is None:
        return rule
    spent = matching_spend_pence(rule, scenario, result)
    if rule.growth_from_recurrent is not None:
        return rule.model_copy(update={"baseline_pence": spent})
    return MinimumSpend.model_validate(
        {**rule.model_dump(), "baseline_pence": spent, "min_growth_share": growth}
    )


def _recurrent_rolled(funder: Funder, growth: float) -> Funder:
    """Last year's recurrent allocation becomes this year's; this year's grows with the pot."""
    if funder.recurrent_pence is None:
        return funder
    update = {
        "last_year_recurrent_pence": funder.recurrent_pence,
        "recurrent_pence": scale_pence(funder.recurrent_pence, growth),
    }
    return funder.model_copy(update=update)


def next_financial_year(label: str) -> str:
    """'2025/26' -> '2026/27'; '2025' -> '2026'; anything else gets ' +1'.

    >>> next_financial_year("2025/26")
    '2026/27'
    >>> next_financial_year("2099/00")
    '2100/01'
    """
    match = re.fullmatch(r"(\d{4})(?:([/-])(\d{2}))?", label.strip())
    if not match:
        return f"{label} +1" if label else ""
    start = int(match.group(1)) + 1
    if match.group(2) is None:
        return str(start)
    return f"{start}{match.group(2)}{(start + 1) % 100:02d}"


def _year_id(scenario_id: str, year: int) -> str:
    stem = re.sub(r"-y\d+$", "", scenario_id)
    return f"{stem}-y{year}"[:64]


def _per_year(value: float | Sequence[float], years: int, name: str) -> list[float]:
    if isinstance(value, int | float):
        return [float(value)] * max(years - 1, 0)
    values = [float(v) for v in value]
    if len(values) == 1:
        return values * max(years - 1, 0)
    if len(values) != years - 1:
        raise ValueError(f"{name}: give one figure, or one per year after the first ({years - 1})")
    return values


__all__ = [
    "MAX_YEARS",
    "PlanResult",
    "PlanYear",
    "matching_spend_pence",
    "next_financial_year",
    "plan_years",
    "roll_forward",
]
