"""What the allocation and comparison pages show, computed from a stored result.

Every figure here comes from the result's own pence (nothing is re-solved); the charts
and their tables are built from the same rows, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from allocator.publish.recheck import reconciliation_problems
from api.web.charts import Link, Node, sankey, signed_bars, waterfall
from models import Scenario
from models.comparison import Comparison
from models.results import AllocationResult, RuleLine


def gbp(pence: int | None) -> str:
    """Exact pounds and pence: £1,234,567.89 (minus sign for negatives)."""
    if pence is None:
        return "–"
    sign = "−" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rest:02d}"


def gbp_m(pence: int | None) -> str:
    """Millions of pounds to one decimal: £82.9m."""
    if pence is None:
        return "–"
    text = f"£{abs(pence) / 100_000_000:,.1f}m"
    return f"−{text}" if pence < 0 and text != "£0.0m" else text


def percent(share: float | None, digits: int = 2) -> str:
    if share is None:
        return "–"
    return f"{share * 100:+.{digits}f}%"


@dataclass(frozen=True, slots=True)
class Check:
    what: str
    left: str
    right: str
    holds: bool


def sankey_chart(result: AllocationResult) -> tuple[Markup, list[tuple[str, str, int]]]:
    """Funders → pool (and pass-through) → reserve and places → providers; and the flows
    as (from, to, pence) rows for the table behind the chart."""
    nodes: list[Node] = []
    links: list[Link] = []
    pot = result.pot
    for line in result.pool:
        nodes.append(Node(f"f:{line.funder_id}", line.name, 0, line.contribution_pence))
        links.append(Link(f"f:{line.funder_id}", "pool", line.pooled_pence))
        links.append(Link(f"f:{line.funder_id}", "pass", line.pass_through_pence))
    nodes.append(Node("pool", "Pooled budget", 1, pot.pooled_pence))
    if pot.pass_through_pence:
        nodes.append(Node("pass", "Pass-through", 1, pot.pass_through_pence))
    if pot.reserve_pence:
        nodes.append(Node("reserve", "Contingency reserve", 2, pot.reserve_pence))
        links.append(Link("pool", "reserve", pot.reserve_pence))
    for place in result.places:
        nodes.append(Node(f"pl:{place.unit_id}", place.name, 2, place.allocation_pence or 0))
        links.append(Link("pool", f"pl:{place.unit_id}", place.allocation_pence or 0))
    for provider in result.providers:
        nodes.append(Node(f"pr:{provider.provider_id}", provider.name, 3, provider.budget_pence))
        for place_id, pence in provider.by_place_pence.items():
            links.append(Link(f"pl:{place_id}", f"pr:{provider.provider_id}", pence))
        links.append(Link("pass", f"pr:{provider.provider_id}", provider.pass_through_pence))
    names = {node.node_id: node.label for node in nodes}
    labels = {node.node_id: gbp_m(node.value) for node in nodes}
    rows = [(names[k.source], names[k.target], k.value) for k in links if k.value > 0]
    for link in links:
        labels[f"link:{link.source}>{link.target}"] = gbp_m(link.value)
    chart = sankey(
        nodes,
        [k for k in links if k.value > 0],
        title="Money from funders through the pool and places to providers",
        label_of=labels,
    )
    return chart, rows


def distance_chart(result: AllocationResult) -> Markup:
    """Each place's and neighbourhood's distance from its fair-share target."""
    rows: list[tuple[str, float, str]] = []
    for place in result.places:
        rows.append(
            (place.name, place.distance_from_target or 0.0, percent(place.distance_from_target))
        )
        for hood in result.neighbourhoods:
            if hood.parent_id == place.unit_id:
                rows.append(
                    (
                        f"  {hood.name}",
                        hood.distance_from_target or 0.0,
                        percent(hood.distance_from_target),
                    )
                )
    return signed_bars(rows, title="Distance from fair-share target", css_class="distance")


def provider_chart(result: AllocationResult) -> Markup:
    rows = [(p.name, p.change_share or 0.0, percent(p.change_share)) for p in result.providers]
    return signed_bars(rows, title="Provider budgets: change from baseline", css_class="providers")


def rule_words(rule: RuleLine) -> str:
    """What relaxing a binding rule is worth, in words and pounds."""
    parts: list[str] = []
    if rule.breach_pence:
        parts.append(f"breached by {gbp(rule.breach_pence)}")
    if rule.fairness_per_gbp:
        parts.append(
            f"each £1m of room removes {gbp_m(round(abs(rule.fairness_per_gbp) * 100_000_000))} "
            "of shortfall below target"
        )
    if rule.shadow_price:
        unit = (rule.shadow_price_unit or "value per £").replace(" per £", "")
        parts.append(f"each £1m of room is worth {abs(rule.shadow_price) * 1_000_000:,.4g} {unit}")
    if rule.value_per_percentage_point:
        parts.append(f"one percentage point more is worth {rule.value_per_percentage_point:,.4g}")
    if rule.valid_to_gbp is not None and rule.valid_from_gbp is not None:
        parts.append(
            f"(holds from {gbp_m(round(rule.valid_from_gbp * 100))} to "
            f"{gbp_m(round(rule.valid_to_gbp * 100))})"
        )
    return "; ".join(parts) or "binding, with no measurable value to relaxing it"


def reconciliation(scenario: Scenario, result: AllocationResult) -> tuple[list[Check], list[str]]:
    """The certificate: the identities that must hold exactly, and any that fail."""
    pot = result.pot
    funders = sum(f.amount_pence for f in scenario.funders)
    providers = sum(p.budget_pence for p in result.providers)
    places = sum(p.allocation_pence or 0 for p in result.places)
    hoods = sum(n.allocation_pence or 0 for n in result.neighbourhoods)
    checks = [
        Check(
            "Funders' contributions = pot",
            gbp(funders),
            gbp(pot.total_pence),
            funders == pot.total_pence,
        ),
        Check(
            "Pot = pass-through + reserve + capitated",
            gbp(pot.total_pence),
            gbp(pot.pass_through_pence + pot.reserve_pence + pot.capitated_pence),
            pot.total_pence == pot.pass_through_pence + pot.reserve_pence + pot.capitated_pence,
        ),
        Check(
            "Provider budgets = pot − reserve",
            gbp(providers),
            gbp(pot.total_pence - pot.reserve_pence),
            providers == pot.total_pence - pot.reserve_pence,
        ),
        Check(
            "Places = capitated pot",
            gbp(places),
            gbp(pot.capitated_pence),
            places == pot.capitated_pence,
        ),
        Check("Neighbourhoods = places", gbp(hoods), gbp(places), hoods == places),
    ]
    return checks, reconciliation_problems(scenario, result) if result.feasible else []


def comparison_waterfall(comparison: Comparison) -> Markup:
    """Total A to total B through each provider's change (largest first, the rest summed)."""
    lines = [line for line in comparison.lines if line.level == "provider" and line.change_pence]
    lines.sort(key=lambda line: -abs(line.change_pence))
    steps = [(line.name or line.unit_id, line.change_pence) for line in lines[:12]]
    rest = sum(line.change_pence for line in lines[12:])
    if rest:
        steps.append((f"{len(lines) - 12} other providers", rest))
    total_a = sum(line.a_pence for line in comparison.lines if line.level == "provider")
    total_b = sum(line.b_pence for line in comparison.lines if line.level == "provider")
    return waterfall(
        ("Provider budgets, A", total_a),
        steps,
        ("Provider budgets, B", total_b),
        title="From result A's provider budgets to result B's",
    )
