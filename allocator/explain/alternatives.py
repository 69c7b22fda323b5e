"""Alternatives for negotiation: a short menu of allocations as fair as the optimum, within
a stated share of its value, each as different as possible along a dimension the planner
names (modelling-to-generate-alternatives). See docs/alternatives.md.

1. Solve the scenario's stages up to value, as the pipeline does (the *search*).
2. Hold every fairness stage at its optimum (the usual hold), and hold value at no less
   than (1 − within) × the optimum: the only stage relaxed.
3. Maximise and minimise the dimension under those holds (one MIP each): the two ends.
   Further alternatives sit between the optimum and the farther end (the dimension held
   at least as far as an intermediate point).
4. Publish each like any result (`solve_scenario` with this module's stage solver): the
   LP chain at the alternative's integer decisions re-solves every stage, then stability
   and the tie-break choose one allocation; pence are rounded and every rule re-checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, Field

from allocator.backends.interface import RawSolution, SolveOptions, Termination, TerminationReason
from allocator.backends.registry import DEFAULT_BACKEND, get_backend
from allocator.errors import AllocatorError
from allocator.explain.dimension import Dimension, parse_dimension
from allocator.formulation.formulate import PENCE_PER_UNIT, Formulation, formulate
from allocator.formulation.program import LinearProgram, Sense
from allocator.pipeline import SequenceSolver, solve_options, solve_scenario
from allocator.publish.recheck import reconciliation_problems, rule_problems
from allocator.stages.sequence import (
    SequenceOutcome,
    StageOutcome,
    chain_options,
    fix_integers,
    run_stages,
    search_length,
    stage_sequence,
)
from allocator.stages.tie_break import held_bound
from allocator.stages.vertex import polished
from allocator.types import FloatArray, Stage
from models import Scenario
from models.results import AllocationResult

DEFAULT_COUNT = 3
MAX_COUNT = 10
RELAXED = (Stage.VALUE, Stage.WEIGHTED)  # the one stage an alternative may give up
SAFETY = 0.999  # hold value a little inside the tolerance, so rounding to pence stays within


class NoAlternatives(AllocatorError):
    code = "no-alternatives"
    title = "No alternatives"


class Alternative(BaseModel):
    label: str = Field(description="Where it sits: 'most', 'least' or 'towards most' along.")
    along_pence: int = Field(description="The dimension in this allocation, exact pence.")
    change_from_optimum_pence: int
    value_total: float
    value_share_of_optimum: float = Field(description="Its value ÷ the optimum's value.")
    fairness: dict[str, float] = Field(description="Fairness stage optima (no worse).")
    problems: list[str] = Field(description="Reconciliation or rule problems on pence (none).")
    result: AllocationResult


class AlternativesMenu(BaseModel):
    scenario_id: str
    along: str
    dimension: str
    within_share: float
    optimum_along_pence: int
    optimum_value_total: float
    range_pence: tuple[int, int] = Field(description="Least and most along, within tolerance.")
    alternatives: list[Alternative]
    notes: list[str] = Field(default_factory=list)
    optimum: AllocationResult


@dataclass
class _Search:
    """The stages to the relaxed one, their hold bounds, and the two ends of the dimension."""

    primary: list[StageOutcome]
    bounds: list[float]
    c: FloatArray
    constant: float
    ends: dict[str, StageOutcome] = field(default_factory=dict)  # "most"/"least"


def _hold_row(c: FloatArray) -> sp.csr_array:
    nz = np.flatnonzero(c)
    return sp.csr_array((c[nz], (np.zeros(nz.size, dtype=np.int64), nz)), shape=(1, c.size))


def _search(
    f: Formulation, dim: Dimension, within: float, backend: str, options: SolveOptions
) -> _Search:
    sequence = stage_sequence(f)
    primary = sequence[: search_length(sequence)]
    if not any(stage in RELAXED for stage, _ in primary):
        raise NoAlternatives("the scenario's objective has no value stage to relax")
    tolerance = f.scenario.objective.stage_tolerance_share
    outcomes = run_stages(f.program, primary, backend, options, tolerance)
    if len(outcomes) < len(primary) or any(
        o.solution.termination.reason is not TerminationReason.OPTIMAL for o in outcomes
    ):
        raise NoAlternatives("the scenario has no optimal allocation to start from")
    bounds = []
    for out in outcomes:
        opt = float(out.solution.objective or 0.0)
        if out.stage in RELAXED:
            bounds.append(
                max(held_bound(opt, tolerance, out.stage), opt + SAFETY * within * abs(opt))
            )
        else:
            bounds.append(held_bound(opt, tolerance, out.stage))
    c, constant = dim.expression(f)
    found = _Search(outcomes, bounds, c, constant)
    engine = get_backend(backend)
    for label, sign in (("most", -1.0), ("least", 1.0)):
        session = engine.start(f.program.with_objective(sign * c, Sense.MINIMIZE), options)
        for (_, ck), bound in zip(primary, bounds, strict=True):
            session.add_rows(_hold_row(ck), np.array([-np.inf]), np.array([bound]))
        solution = session.solve()
        if solution.termination.reason is not TerminationReason.OPTIMAL or solution.x is None:
            raise NoAlternatives(f"the {label} end of {dim.text!r} could not be solved")
        found.ends[label] = StageOutcome(Stage.ALTERNATIVE, sign * c, solution)
    return found


def _chain(
    program: LinearProgram,
    sequence: list[tuple[Stage, FloatArray]],
    bounds: list[float | None],
    backend: str,
    options: SolveOptions,
    start: RawSolution | None,
) -> list[StageOutcome]:
    """Every stage in one session, each held at its given bound (or at its own optimum)."""
    engine = get_backend(backend)
    session = engine.start(program.with_objective(sequence[0][1], Sense.MINIMIZE), options, start)
    tolerance_stage = 1e-7
    out: list[StageOutcome] = []
    for position, (stage, c) in enumerate(sequence):
        if position:
            session.set_objective(c, Sense.MINIMIZE, 0.0)
        if stage is Stage.TIE_BREAK:
            solution = polished(session.program, engine.solve(session.program, options))
        else:
            solution = session.solve()
        out.append(StageOutcome(stage, c, solution))
        if (
            solution.termination.reason is not TerminationReason.OPTIMAL
            or solution.objective is None
        ):
            break
        if position + 1 < len(sequence):
            bound = bounds[position]
            if bound is None:
                bound = held_bound(solution.objective, tolerance_stage, stage)
            session.add_rows(_hold_row(c), np.array([-np.inf]), np.array([bound]))
    return out


def _sequence_solver(
    found: _Search, end: str, along_bound: float, backend: str, options: SolveOptions
) -> SequenceSolver:
    """A `SequenceSolver` that publishes one alternative (its end's decisions, held along)."""

    def solve(f: Formulation) -> SequenceOutcome:
        sequence = stage_sequence(f)
        rest = sequence[search_length(sequence) :]
        along = found.ends[end]
        full = [(o.stage, o.objective) for o in found.primary]
        full += [(Stage.ALTERNATIVE, along.objective), *rest]
        bounds: list[float | None] = [*found.bounds, along_bound] + [None] * len(rest)
        search = [*found.primary, along]
        name = get_backend(backend).name
        assert along.solution.x is not None
        if f.program.is_mip:
            fixed = fix_integers(f.program, along.solution.x)
            start = RawSolution(Termination(TerminationReason.OPTIMAL), None, along.solution.x)
            chain = _chain(fixed, full, bounds, backend, chain_options(name, options), start)
            if len(chain) < len(full) or chain[-1].solution.termination.reason is not (
                TerminationReason.OPTIMAL
            ):
                return SequenceOutcome(search, along.solution, name, notes=_NOTE_NO_CHAIN)
            return SequenceOutcome(search, chain[-1].solution, name, chain=chain)
        stages = _chain(f.program, full, bounds, backend, options, None)
        return SequenceOutcome(stages, stages[-1].solution, name)

    return solve


_NOTE_NO_CHAIN = ["The alternative's linear re-solve failed: it is the mixed-integer point."]


def alternatives(
    scenario: Scenario,
    along: str,
    within: float,
    *,
    count: int = DEFAULT_COUNT,
    backend: str | None = None,
) -> AlternativesMenu:
    """A menu of ``count`` alternatives along ``along``, value within ``within`` (a share)."""
    if not 0.0 < within < 1.0:
        raise NoAlternatives(f"within must be a share between 0 and 1, not {within!r}")
    if not 1 <= count <= MAX_COUNT:
        raise NoAlternatives(f"count must be between 1 and {MAX_COUNT}, not {count}")
    dim = parse_dimension(scenario, along)
    name = backend or DEFAULT_BACKEND
    optimum = solve_scenario(scenario, backend=name)
    if not optimum.feasible:
        raise NoAlternatives(f"the scenario is {optimum.status}: there is no optimum to vary")
    options = solve_options(scenario)
    found = _search(formulate(scenario), dim, within, name, options)
    base = dim.pence(optimum)
    most = (-(found.ends["most"].solution.objective or 0.0) + found.constant) * PENCE_PER_UNIT
    least = ((found.ends["least"].solution.objective or 0.0) + found.constant) * PENCE_PER_UNIT
    far, near = ("most", "least") if most - base >= base - least else ("least", "most")
    plan: list[tuple[str, str, float]] = [(far, far, found.ends[far].solution.objective or 0.0)]
    if count >= 2:
        plan.append((near, near, found.ends[near].solution.objective or 0.0))
    far_pence = most if far == "most" else least
    steps = count - len(plan)
    for j in range(steps, 0, -1):
        target = base + (far_pence - base) * j / (steps + 1)
        units = target / PENCE_PER_UNIT - found.constant
        bound = -units if far == "most" else units  # the along stage's minimised sign
        plan.append((f"towards {far} ({j}/{steps + 1} of the way)", far, bound))
    out = []
    for label, end, bound in plan:
        if end == label:  # an end: hold its own optimum
            bound = held_bound(bound, scenario.objective.stage_tolerance_share, Stage.ALTERNATIVE)
        solver = _sequence_solver(found, end, bound, name, options)
        result = solve_scenario(scenario, backend=name, sequence=solver)
        out.append(_entry(scenario, dim, label, result, optimum, within))
    notes = [
        "Fairness stages are held at their optimum; value at no less than "
        f"{1 - within:.4%} of the optimum's. Stage reports show each stage re-solved with "
        "the alternative's decisions; the value achieved is `value_total`."
    ]
    return AlternativesMenu(
        scenario_id=scenario.scenario_id,
        along=along,
        dimension=dim.description,
        within_share=within,
        optimum_along_pence=base,
        optimum_value_total=optimum.value_total,
        range_pence=(round(least), round(most)),
        alternatives=out,
        notes=notes,
        optimum=optimum,
    )


def _entry(
    scenario: Scenario,
    dim: Dimension,
    label: str,
    result: AllocationResult,
    optimum: AllocationResult,
    within: float,
) -> Alternative:
    if not result.feasible:
        raise NoAlternatives(f"the {label} alternative could not be published ({result.status})")
    along = dim.pence(result)
    fairness = {
        str(s.stage): float(s.objective)
        for s in result.stages
        if s.stage in (Stage.FAIRNESS_MAX, Stage.FAIRNESS_SUM) and s.objective is not None
    }
    share = result.value_total / optimum.value_total if optimum.value_total else 1.0
    return Alternative(
        label=f"{label} along" if label in ("most", "least") else label,
        along_pence=along,
        change_from_optimum_pence=along - dim.pence(optimum),
        value_total=result.value_total,
        value_share_of_optimum=share,
        fairness=fairness,
        problems=reconciliation_problems(scenario, result) + rule_problems(scenario, result),
        result=result,
    )
