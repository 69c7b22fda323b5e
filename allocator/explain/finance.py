"""Shadow prices and rule names in the words a finance director uses.

A shadow price is health value per £1 a rule is relaxed. Per £1 it is a tiny float
(3.5e-05); per £1m it is a number of QALYs, and at the scenario's reference rate (£ per
QALY) a sum of money: "£1m more here buys 35.4 QALYs, worth £424,200 at the reference rate".
"""

from __future__ import annotations

from dataclasses import dataclass

from models import Scenario
from models.enums import REFERENCE_RATE_GBP, ReferenceRate
from models.results import AllocationResult, PoolMarginal, RuleLine, SchemeCost

MILLION = 1_000_000
RATE_SOURCES = {
    ReferenceRate.NHS_MARGINAL: "NHS marginal productivity: what NHS spending buys at the margin",
    ReferenceRate.NICE_THRESHOLD: "NICE threshold, mid-point of £20,000-£30,000 per QALY",
    ReferenceRate.NICE_MEDICINES_2026: "NICE medicines threshold from April 2026, mid-point of £25,000-£35,000",
}


@dataclass(frozen=True)
class Rate:
    """What one unit of value is worth in £, and where that figure comes from."""

    gbp_per_unit: float
    source: str
    unit: str = "QALYs"

    def sentence(self) -> str:
        return f"Reference rate: £{self.gbp_per_unit:,.0f} per QALY ({self.source})."


def _unit(result: AllocationResult | None) -> str:
    if result is None or "QALY" in result.value_unit:
        return "QALYs"
    return result.value_unit


def rate_of(scenario: Scenario | None, result: AllocationResult | None = None) -> Rate:
    """The scenario's reference rate; without the scenario, the rate the result itself used
    for its scheme costs, else the default preset (said so in the source)."""
    unit = _unit(result)
    if scenario is not None:
        objective = scenario.objective
        if objective.gbp_per_value_unit:
            return Rate(objective.gbp_per_value_unit, "set in the scenario", unit)
        preset = objective.reference_rate
        return Rate(REFERENCE_RATE_GBP[preset], RATE_SOURCES[preset], unit)
    explanation = result.explanation if result is not None else None
    for cost in explanation.schemes if explanation is not None else []:
        if cost.value_needed_per_gbp > 0:
            rate = cost.gbp_value_needed_per_gbp / cost.value_needed_per_gbp
            return Rate(rate, "as used in this result's scheme costs", unit)
    default = ReferenceRate.NHS_MARGINAL
    return Rate(
        REFERENCE_RATE_GBP[default],
        RATE_SOURCES[default] + "; the default, as the scenario was not given",
        unit,
    )


def qalys(value: float) -> str:
    """A number of value units to a sensible precision, never '-0'."""
    if abs(value) < 0.0005:
        return "0"
    if abs(value) < 0.01:
        return f"{value:.3f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


def money(gbp: float) -> str:
    sign = "-" if gbp < -0.5 else ""
    return f"{sign}£{abs(gbp):,.0f}"


def per_million(value_per_gbp: float, rate: Rate, where: str = "here") -> str:
    """'£1m more here buys 35.4 QALYs, worth £424,200 at the reference rate'."""
    units = value_per_gbp * MILLION
    if abs(units) < 0.0005:
        return f"£1m more {where} buys no measurable {rate.unit}"
    verb = "buys" if units > 0 else "loses"
    return (
        f"£1m more {where} {verb} {qalys(abs(units))} {rate.unit}, worth "
        f"{money(abs(units) * rate.gbp_per_unit)} at the reference rate"
    )


def rule_title(rule: str) -> str:
    """A rule line's name with its first letter capitalised: the scenario's own rule name
    is kept as written (in brackets after the kind of rule)."""
    return rule[:1].upper() + rule[1:]


def rule_words(line: RuleLine, rate: Rate) -> str:
    """What a binding rule is worth relaxing, in words (empty when it does not bind)."""
    if not line.binding and not line.breach_pence:
        return ""
    parts = []
    if line.breach_pence:
        parts.append(f"breached by £{line.breach_pence / 100:,.2f}")
    if line.shadow_price is None:
        parts.append("binds; its worth is not priced (it binds in an earlier objective stage)")
    else:
        parts.append(per_million(line.shadow_price, rate))
    if line.value_per_percentage_point:
        points = line.value_per_percentage_point
        parts.append(
            f"one percentage point more pace is worth {qalys(points)} {rate.unit} "
            f"({money(points * rate.gbp_per_unit)})"
        )
    if line.fairness_per_gbp:
        parts.append(
            f"each £1 relaxed also removes £{line.fairness_per_gbp:,.2f} of shortfall below target"
        )
    if line.valid_from_gbp is not None and line.valid_to_gbp is not None:
        parts.append(
            f"holds while the bound stays between {money(line.valid_from_gbp)} "
            f"and {money(line.valid_to_gbp)}"
        )
    return "; ".join(parts)


def funder_words(marginal: PoolMarginal, name: str, rate: Rate) -> str:
    """What £1m more from a funder is worth."""
    if marginal.value_per_gbp is None:
        return f"{name}: not priced"
    text = per_million(marginal.value_per_gbp, rate, f"from {name}")
    if marginal.valid_from_gbp is not None and marginal.valid_to_gbp is not None:
        text += (
            f" (holds for a contribution between {money(marginal.valid_from_gbp)} "
            f"and {money(marginal.valid_to_gbp)})"
        )
    return text


def scheme_words(cost: SchemeCost, rate: Rate) -> str:
    units = cost.value_needed_per_gbp * MILLION
    return (
        f"{cost.name or cost.scheme_id} is unfunded: it would need {qalys(units)} more "
        f"{rate.unit} per £1m of cost (worth {money(units * rate.gbp_per_unit)}) to be funded"
    )


def ranked_rules(result: AllocationResult) -> list[RuleLine]:
    """Binding or breached rules, the most valuable to relax first."""
    lines = [r for r in result.rules if r.binding or r.breach_pence]
    return sorted(lines, key=lambda r: (-abs(r.shadow_price or 0.0), r.rule))


def funder_names(result: AllocationResult) -> dict[str, str]:
    return {line.funder_id: line.name or line.funder_id for line in result.pool}
