"""Trace one published figure (a provider's budget, a place's or a neighbourhood's
allocation, a cell or a funder flow: `allocator.explain.trace_parts`) to its parts.

The derivation: the parts it is the sum of (which add to the figure to the penny), the
fair-share target it is measured against (weighted population × capitated pot ÷ the
system's weighted population), the distance from that target, the binding rules on it
with their prices, the stage that fixed it, and the pennies that rounding moved.

"The stage that fixed it" is found by re-solving: for each stage in turn, with that
stage's and every earlier stage's optimum held (integer decisions as published), the
figure is minimised and maximised; the first stage after which its range is under
£10,000 (the slack the stage tolerance leaves) fixed it. Before the tie-break the range can be millions: money that could sit
elsewhere at no cost in any stage.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from allocator.backends.interface import SolveOptions, TerminationReason
from allocator.backends.registry import DEFAULT_BACKEND, get_backend
from allocator.batch.reuse import _stage_program
from allocator.errors import AllocatorError
from allocator.explain.trace_parts import FINER, finer_expr, finer_parts
from allocator.formulation.builder import Expr
from allocator.formulation.formulate import PENCE_PER_UNIT, Formulation, formulate
from allocator.pipeline import solve_options
from allocator.stages.sequence import solve_sequence
from allocator.stages.tie_break import held_bound
from allocator.types import FloatArray
from models import Scenario, UnitLevel
from models.results import AllocationResult

# A range under £10,000 counts as fixed: each held optimum keeps a slack of a few times the
# stage tolerance (1e-7 of the objective), worth up to some £1,000 of one figure.
FIXED_BELOW_PENCE = 1_000_000


class FigureNotFound(AllocatorError):
    title = "No such figure"


class StageRange(BaseModel):
    stage: str
    low_pence: float | None
    high_pence: float | None


class RuleOnFigure(BaseModel):
    rule: str
    block: str
    shadow_price: float | None
    shadow_price_unit: str | None


class Trace(BaseModel):
    figure: str
    kind: str = Field(description="provider, place, neighbourhood, cell or flow")
    unit_id: str
    published_pence: int
    parts_pence: dict[str, int] = Field(description="Parts that add to the figure exactly.")
    target_pence: int | None = None
    target_derivation: str | None = None
    distance_from_target_pence: int | None = None
    baseline_pence: int | None = None
    solver_pence: float = Field(description="The figure as the solver left it, before rounding.")
    rounding_pence: float = Field(description="Published less solver figure: moved by rounding.")
    binding_rules: list[RuleOnFigure]
    fixed_by_stage: str | None
    stage_ranges: list[StageRange]


def _parse(figure: str) -> tuple[str, str]:
    kind, _, name = figure.strip().partition(" ")
    kind = kind.lower()
    if kind not in ("provider", "place", *FINER) or not name.strip():
        raise FigureNotFound(
            f"cannot read {figure!r}: name one figure as 'provider ID', 'place ID', "
            "'neighbourhood ID', 'cell PROVIDER NEIGHBOURHOOD SEGMENT' or "
            "'flow FUNDER PROVIDER SEGMENT'"
        )
    return kind, name.strip()


def _row(f: Formulation, kind: str, unit: str) -> tuple[str, Expr]:
    """The unit id and the solver expression (solver units) of the figure."""
    if kind in FINER:
        return finer_expr(f, kind, unit)
    if kind == "provider":
        people = [(p.provider_id, p.name or "") for p in f.scenario.providers]
        total = f.provider_total
    else:
        people = [(p.place_id, p.name or "") for p in f.scenario.places]
        total = f.unit_total[UnitLevel.PLACE]
    for k, (uid, name) in enumerate(people):
        if unit in (uid, name):
            return uid, total[np.array([k])]
    known = ", ".join(uid for uid, _ in people)
    raise FigureNotFound(f"no {kind} {unit!r}; the {kind}s are: {known}")


def _range(
    f: Formulation, expr: Expr, held: list[tuple[FloatArray, float]], fixed: FloatArray
) -> tuple[float | None, float | None]:
    """The least and the most the figure can be with the ``held`` optima (pence)."""
    integers = np.flatnonzero(f.program.is_integer)
    row = expr.matrix.toarray()[0]
    out: list[float | None] = []
    for sign in (1.0, -1.0):
        program = _stage_program(
            f.program, sign * row, held, integers, fixed if integers.size else None
        )
        solution = get_backend(DEFAULT_BACKEND).solve(program, SolveOptions())
        if solution.termination.reason is not TerminationReason.OPTIMAL:  # a thin face
            solution = get_backend(DEFAULT_BACKEND).solve(program, SolveOptions(presolve=False))
        if solution.termination.reason is not TerminationReason.OPTIMAL or solution.x is None:
            out.append(None)
            continue
        out.append(float((row @ solution.x + expr.constant[0]) * PENCE_PER_UNIT))
    return out[0], out[1]


def trace_figure(result: AllocationResult, scenario: Scenario, figure: str) -> Trace:
    """The derivation of one figure of ``result`` (solved from ``scenario``)."""
    kind, unit = _parse(figure)
    f = formulate(scenario)
    uid, expr = _row(f, kind, unit)
    outcome = solve_sequence(f, DEFAULT_BACKEND, solve_options(scenario))
    x = outcome.final.x
    if x is None:
        raise FigureNotFound(
            f"the scenario is {outcome.final.termination.reason.value}: no figures"
        )
    solver_pence = float((expr.matrix @ x)[0] + expr.constant[0]) * PENCE_PER_UNIT
    integers = np.flatnonzero(f.program.is_integer)
    fixed = np.rint(x[integers])
    tolerance = scenario.objective.stage_tolerance_share
    held: list[tuple[FloatArray, float]] = []
    ranges: list[StageRange] = []
    fixed_by: str | None = None
    for stage in outcome.lp_stages:
        if stage.solution.objective is None:
            break
        held.append((stage.objective, held_bound(stage.solution.objective, tolerance, stage.stage)))
        low, high = _range(f, expr, held, fixed)
        ranges.append(StageRange(stage=stage.stage, low_pence=low, high_pence=high))
        if (
            fixed_by is None
            and low is not None
            and high is not None
            and high - low < FIXED_BELOW_PENCE
        ):
            fixed_by = stage.stage
    if fixed_by is None and ranges and ranges[-1].stage == "tie_break":
        # The tie-break's optimum is unique by construction (docs/uniqueness.md), even when
        # its face is too thin to range over.
        fixed_by = "tie_break"
    binding = [
        RuleOnFigure(
            rule=r.rule,
            block=r.block,
            shadow_price=r.shadow_price,
            shadow_price_unit=r.shadow_price_unit,
        )
        for r in result.rules
        if r.binding and r.unit_id == uid
    ]
    baseline: int | None
    target: int | None
    derivation: str | None
    distance: int | None
    if kind in FINER:
        published, parts = finer_parts(result, kind, uid)
        baseline = target = derivation = distance = None
        if kind == "neighbourhood":
            n = next(u for u in result.neighbourhoods if u.unit_id == uid)
            baseline, target = n.baseline_pence, n.target_pence
            distance = published - target
            derivation = (
                f"weighted population {n.weighted_population:,.1f} of place {n.parent_id}: "
                "its share of the place's fair-share target"
            )
    elif kind == "provider":
        p = next(p for p in result.providers if p.provider_id == uid)
        parts = {"pass-through": p.pass_through_pence, "schemes": p.schemes_pence}
        parts |= {f"place {k}": v for k, v in p.by_place_pence.items()}
        published, baseline = p.budget_pence, p.baseline_pence
        target = derivation = distance = None
    else:
        u = next(u for u in result.places if u.unit_id == uid)
        parts = {
            f"neighbourhood {n.unit_id}": n.allocation_pence or 0
            for n in result.neighbourhoods
            if n.parent_id == uid
        }
        published, baseline = u.allocation_pence or 0, u.baseline_pence
        system_wp = sum(v.weighted_population for v in result.places)
        target = u.target_pence
        derivation = (
            f"weighted population {u.weighted_population:,.1f} × capitated pot "
            f"£{result.pot.capitated_pence / 100:,.2f} ÷ system weighted population "
            f"{system_wp:,.1f}"
        )
        distance = published - target
    return Trace(
        figure=figure,
        kind=kind,
        unit_id=uid,
        published_pence=published,
        parts_pence=parts,
        target_pence=target,
        target_derivation=derivation,
        distance_from_target_pence=distance,
        baseline_pence=baseline,
        solver_pence=solver_pence,
        rounding_pence=published - solver_pence,
        binding_rules=binding,
        fixed_by_stage=fixed_by,
        stage_ranges=ranges,
    )
