"""The bridge from allocation A to allocation B: an attribution waterfall by input group.

Starting from scenario A, the inputs are switched to B's one group at a time in a stated
order (pot and funders, populations and weights, pace rules, minimum spends and
ring-fences, schemes, value curves, anything else), re-solving after each. Step k's
effect on a figure is the published figure after step k less the one before it, so for
every provider, place and segment (summed over providers) the steps add exactly, to the
penny, to the total change.

The attribution depends on the order (an interaction between two groups falls to the
one switched second); `order_spread` re-runs the bridge in the reverse order and reports,
for the largest steps, the effect under each order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field

from allocator.errors import AllocatorError
from allocator.pipeline import solve_scenario
from models import Scenario
from models.results import AllocationResult

GROUPS: dict[str, tuple[str, ...]] = {
    "pot and funders": ("funders", "reserve"),
    "populations and weights": (
        "populations",
        "local_adjustments",
        "demand_growth",
        "segments",
        "neighbourhoods",
        "places",
        "systems",
    ),
    "pace rules": ("pace_of_change",),
    "minimum spends and ring-fences": ("minimum_spends", "ring_fences"),
    "schemes": ("schemes",),
    "value curves": ("value_curves",),
}
OTHER = "anything else"
UNCOMPARED = frozenset({"scenario_id", "name", "description", "schema_version"})
Solve = Callable[[Scenario], AllocationResult]


class BridgeInfeasible(AllocatorError):
    title = "A step of the bridge has no allocation"


class Step(BaseModel):
    group: str
    fields: list[str] = Field(description="Scenario fields switched from A to B at this step.")
    effect_pence: dict[str, int] = Field(description="Figure -> change at this step.")


class SpreadLine(BaseModel):
    group: str
    figure: str
    effect_pence_by_order: dict[str, int]


class Bridge(BaseModel):
    order: list[str]
    total_change_pence: dict[str, int]
    steps: list[Step]
    largest_step: dict[str, str] = Field(description="Figure -> the step that moved it most.")
    order_spread: list[SpreadLine] = Field(default_factory=list)


def _figures(result: AllocationResult) -> dict[str, int]:
    if not result.feasible:
        raise BridgeInfeasible(f"{result.scenario_id}: {result.status}")
    out = {f"provider {p.provider_id}": p.budget_pence for p in result.providers}
    out |= {f"place {u.unit_id}": u.allocation_pence or 0 for u in result.places}
    for p in result.providers:
        for segment, pence in p.by_segment_pence.items():
            key = f"segment {segment}"
            out[key] = out.get(key, 0) + pence
    return out


def _groups(a: Scenario, b: Scenario, order: Sequence[str]) -> list[tuple[str, list[str]]]:
    unknown = [g for g in order if g not in GROUPS and g != OTHER]
    if unknown:
        raise AllocatorError(
            f"unknown bridge group(s) {unknown}; the groups are: {', '.join([*GROUPS, OTHER])}"
        )
    order = [*order, *(g for g in [*GROUPS, OTHER] if g not in order)]
    named = {f for fields in GROUPS.values() for f in fields}
    differing = [
        name
        for name in type(a).model_fields
        if name not in UNCOMPARED and getattr(a, name) != getattr(b, name)
    ]
    out = []
    for group in order:
        fields = GROUPS.get(group)
        chosen = [f for f in differing if (f in fields if fields else f not in named)]
        if chosen:
            out.append((group, chosen))
    return out


def _run(
    a: Scenario, b: Scenario, steps: list[tuple[str, list[str]]], solve: Solve
) -> list[dict[str, int]]:
    current = a
    figures = [_figures(solve(a))]
    for _, fields in steps:
        current = current.model_copy(update={f: getattr(b, f) for f in fields})
        figures.append(_figures(solve(current)))
    return figures


def bridge(
    a: Scenario,
    b: Scenario,
    *,
    order: Sequence[str] = (),
    spread_top: int = 5,
    solve: Solve | None = None,
) -> Bridge:
    """The waterfall from A to B (``order`` names groups to go first; the rest follow)."""
    run: Solve = solve or (lambda s: solve_scenario(s, explain=False))
    steps = _groups(a, b, order)
    figures = _run(a, b, steps, run)
    keys = sorted(set().union(*figures))
    out_steps = [
        Step(
            group=group,
            fields=fields,
            effect_pence={k: figures[i + 1].get(k, 0) - figures[i].get(k, 0) for k in keys},
        )
        for i, (group, fields) in enumerate(steps)
    ]
    total = {k: figures[-1].get(k, 0) - figures[0].get(k, 0) for k in keys}
    largest = {
        k: max(out_steps, key=lambda s: abs(s.effect_pence[k])).group for k in keys if out_steps
    }
    spread: list[SpreadLine] = []
    if len(steps) > 1 and spread_top:
        reverse = list(reversed(steps))
        back = _run(a, b, reverse, run)
        reverse_effect = {
            group: {k: back[i + 1].get(k, 0) - back[i].get(k, 0) for k in keys}
            for i, (group, _) in enumerate(reverse)
        }
        ranked = sorted(
            ((abs(s.effect_pence[k]), s.group, k) for s in out_steps for k in keys), reverse=True
        )[:spread_top]
        forward = {s.group: s.effect_pence for s in out_steps}
        spread = [
            SpreadLine(
                group=group,
                figure=k,
                effect_pence_by_order={
                    "stated": forward[group][k],
                    "reversed": reverse_effect[group][k],
                },
            )
            for _, group, k in ranked
        ]
    return Bridge(
        order=[g for g, _ in steps],
        total_change_pence=total,
        steps=out_steps,
        largest_step=largest,
        order_spread=spread,
    )
