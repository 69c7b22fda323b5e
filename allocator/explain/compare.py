"""Compare two allocations: change in £ and % per provider, place, neighbourhood and segment,
the change in value and in distance from target, rules that started or stopped binding, and
which inputs differ."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from models import Scenario
from models.comparison import ChangeLine, Comparison, InputChange, RuleChange
from models.results import AllocationResult, UnitLine

ID_KEYS = (
    "provider_id",
    "place_id",
    "neighbourhood_id",
    "segment_id",
    "funder_id",
    "system_id",
    "scheme_id",
    "rule_id",
    "ringfence_id",
    "agreement_id",
)


def _line(level: str, unit_id: str, name: str, a: int, b: int, **extra: float | None) -> ChangeLine:
    return ChangeLine(
        level=level,
        unit_id=unit_id,
        name=name,
        a_pence=a,
        b_pence=b,
        change_pence=b - a,
        change_share=None if a == 0 else (b - a) / a,
        **extra,
    )


def _units(level: str, a: list[UnitLine], b: list[UnitLine]) -> list[ChangeLine]:
    b_by = {u.unit_id: u for u in b}
    out = []
    for ua in a:
        ub = b_by.get(ua.unit_id)
        if ub is None:
            continue
        da, db = ua.distance_from_target, ub.distance_from_target
        out.append(
            _line(
                level,
                ua.unit_id,
                ua.name,
                ua.allocation_pence or 0,
                ub.allocation_pence or 0,
                distance_a=da,
                distance_b=db,
                distance_change=None if da is None or db is None else db - da,
            )
        )
    return out


def _segments(result: AllocationResult) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for p in result.providers:
        for segment, pence in p.by_segment_pence.items():
            totals[segment] += pence
    return totals


def diff_inputs(a: Any, b: Any, path: str = "") -> list[InputChange]:
    """Differences between two JSON documents; list items with an id are matched by id."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += diff_inputs(a.get(key), b.get(key), f"{path}.{key}" if path else key)
        return out
    if isinstance(a, list) and isinstance(b, list):
        key = next((k for k in ID_KEYS if all(isinstance(x, dict) and k in x for x in a + b)), None)
        if key is not None and (a or b):
            a_by, b_by = {x[key]: x for x in a}, {x[key]: x for x in b}
            out = []
            for item in list(a_by) + [i for i in b_by if i not in a_by]:
                out += diff_inputs(a_by.get(item), b_by.get(item), f"{path}[{item}]")
            return out
        if len(a) == len(b):
            return [
                c
                for i, (x, y) in enumerate(zip(a, b, strict=True))
                for c in diff_inputs(x, y, f"{path}[{i}]")
            ]
    return [] if a == b else [InputChange(path=path, a=a, b=b)]


def _rule_key(block: str, rule: str) -> tuple[str, str]:
    return block, rule


def compare_results(
    a: AllocationResult,
    b: AllocationResult,
    *,
    scenario_a: Scenario | None = None,
    scenario_b: Scenario | None = None,
    a_label: str = "A",
    b_label: str = "B",
) -> Comparison:
    lines: list[ChangeLine] = []
    b_prov = {p.provider_id: p for p in b.providers}
    for p in a.providers:
        q = b_prov.get(p.provider_id)
        if q is not None:
            lines.append(_line("provider", p.provider_id, p.name, p.budget_pence, q.budget_pence))
    lines += _units("system", a.systems, b.systems)
    lines += _units("place", a.places, b.places)
    lines += _units("neighbourhood", a.neighbourhoods, b.neighbourhoods)
    seg_a, seg_b = _segments(a), _segments(b)
    for segment in sorted(set(seg_a) | set(seg_b)):
        lines.append(_line("segment", segment, "", seg_a.get(segment, 0), seg_b.get(segment, 0)))
    b_pool = {f.funder_id: f for f in b.pool}
    for f in a.pool:
        if f.funder_id in b_pool:
            lines.append(
                _line(
                    "funder",
                    f.funder_id,
                    f.name,
                    f.contribution_pence,
                    b_pool[f.funder_id].contribution_pence,
                )
            )

    bind_a = {_rule_key(r.block, r.rule): r for r in a.rules if r.binding}
    bind_b = {_rule_key(r.block, r.rule): r for r in b.rules if r.binding}
    rules = [
        RuleChange(
            rule=r.rule,
            block=r.block,
            unit_id=r.unit_id,
            change="stopped binding",
            shadow_price_a=r.shadow_price,
        )
        for key, r in bind_a.items()
        if key not in bind_b
    ] + [
        RuleChange(
            rule=r.rule,
            block=r.block,
            unit_id=r.unit_id,
            change="started binding",
            shadow_price_b=r.shadow_price,
        )
        for key, r in bind_b.items()
        if key not in bind_a
    ]
    inputs: list[InputChange] = []
    # Same content hash: the inputs are known to be identical even without the scenarios.
    inputs_known = a.scenario_hash == b.scenario_hash
    if scenario_a is not None and scenario_b is not None:
        inputs = diff_inputs(scenario_a.model_dump(mode="json"), scenario_b.model_dump(mode="json"))
        inputs_known = True

    total_a = a.pot.capitated_pence + a.pot.pass_through_pence
    total_b = b.pot.capitated_pence + b.pot.pass_through_pence
    pot_change = b.pot.capitated_pence - a.pot.capitated_pence
    both_feasible = a.feasible and b.feasible
    reconciles = both_feasible and all(
        sum(x.change_pence for x in lines if x.level == level) == expected
        for level, expected in (
            ("provider", total_b - total_a),
            ("system", pot_change),
            ("place", pot_change),
            ("neighbourhood", pot_change),
            ("segment", total_b - total_a),
        )
    )
    return Comparison(
        a_label=a_label,
        b_label=b_label,
        a_scenario_hash=a.scenario_hash,
        b_scenario_hash=b.scenario_hash,
        status_a=a.status,
        status_b=b.status,
        pot_a_pence=a.pot.total_pence,
        pot_b_pence=b.pot.total_pence,
        pot_change_pence=b.pot.total_pence - a.pot.total_pence,
        value_a=a.value_total,
        value_b=b.value_total,
        value_change=b.value_total - a.value_total,
        lines=lines,
        rules=rules,
        inputs=inputs,
        inputs_known=inputs_known,
        reconciles=reconciles,
    )
