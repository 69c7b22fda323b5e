"""The pipeline: validate -> formulate -> solve the stages -> publish pence -> explain.

`solve_scenario` is the one function that turns a scenario into a published allocation.
The CLI, the API worker, batch runs and the risk-aware solve (`allocator.riskaware`) all
call it; none of them repeats a step of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from allocator.backends.interface import SolveOptions, TerminationReason
from allocator.backends.registry import DEFAULT_BACKEND
from allocator.errors import ScenarioInvalid
from allocator.formulation.formulate import Formulation, formulate
from allocator.publish.assemble import assemble
from allocator.publish.pence_plan import plan_pence
from allocator.publish.rounding_moved import rounding_moved
from allocator.publish.rule_lines import rule_rows
from allocator.stages.sequence import SequenceOutcome, StageReport, solve_sequence
from allocator.validate import blocking, validate_scenario
from models import Scenario
from models.results import AllocationResult, Timings

if TYPE_CHECKING:
    from allocator.formulation.formulate import Extension

SequenceSolver: TypeAlias = Callable[[Formulation], SequenceOutcome]
"""Solves a formulation's stages (e.g. a batch worker's warm-started solver)."""


def solve_options(
    scenario: Scenario, time_limit_s: float | None = None, mip_gap: float | None = None
) -> SolveOptions:
    """The solver options of a scenario: its objective's limits unless overridden."""
    objective = scenario.objective
    return SolveOptions(
        time_limit_s=time_limit_s if time_limit_s is not None else objective.time_limit_s,
        mip_gap=mip_gap if mip_gap is not None else objective.mip_gap_share,
    )


def solve_scenario(
    scenario: Scenario,
    *,
    backend: str | None = None,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    validate: bool = True,
    explain: bool = True,
    sensitivity: bool = False,
    extend: Extension | None = None,
    sequence: SequenceSolver | None = None,
    on_stage: StageReport | None = None,
) -> AllocationResult:
    """Allocate a scenario's budget. Infeasible or time-limited solves are results, not errors.

    With ``explain`` the result carries shadow prices of the binding rules, the value of
    £1 more from each funder and, when the rules conflict, the infeasibility diagnosis;
    ``sensitivity`` adds the range over which each of those prices holds (by re-solves).
    ``extend`` adds rows and columns to the formulation before it is solved (and to the
    infeasibility diagnosis): the risk-aware solve adds its CVaR limits this way.
    ``sequence`` solves the stages instead of a cold `solve_sequence` (batch runs pass
    their warm-started solver). ``on_stage`` is told as each stage of a cold solve
    finishes (a job's progress). Raises `ScenarioInvalid` (with every located issue) when
    the scenario is not valid.
    """
    started = time.perf_counter()
    if validate:
        problems = blocking(validate_scenario(scenario))
        if problems:
            raise ScenarioInvalid(f"The scenario has {len(problems)} problem(s)", problems)
    validated = time.perf_counter()
    formulation = formulate(scenario, extend=extend)
    built = time.perf_counter()
    options = solve_options(scenario, time_limit_s, mip_gap)
    name = backend or DEFAULT_BACKEND
    if sequence is None:
        outcome = solve_sequence(formulation, name, options, on_stage=on_stage)
    else:
        outcome = sequence(formulation)
    if outcome.final.termination.reason is TerminationReason.INFEASIBLE and sequence is None:
        # The rounding headroom holds minimums a few pence above their figures; where that
        # alone leaves no room, solve the scenario's own figures instead.
        bare = formulate(scenario, extend=extend, headroom=False)
        retry = solve_sequence(bare, name, options, on_stage=on_stage)
        if retry.final.termination.reason is not TerminationReason.INFEASIBLE:
            formulation, outcome = bare, retry
            outcome.notes.append(
                "Solved without the rounding headroom: holding the minimum spends a few "
                "pence above their figures left no feasible allocation."
            )
    solved = time.perf_counter()
    final = outcome.final
    x = final.x if final.termination.reason.has_solution else None
    plan = None if x is None else plan_pence(formulation, x)
    rows = [] if x is None else rule_rows(formulation, x)
    explanation, infeasibility = None, None
    rules = [r.line for r in rows]
    if explain and x is not None:
        from allocator.explain.explanation import explain as explain_allocation

        explanation, rules = explain_allocation(formulation, outcome, rows, name, options)
        if sensitivity and explanation is not None:
            from allocator.explain.sensitivity import pool_ranges, rule_ranges

            stage = explanation.headline_stage
            rules = rule_ranges(formulation, rows, rules, name, options, stage, x)
            pool = pool_ranges(formulation, explanation.pool, name, options, stage, x)
            explanation = explanation.model_copy(update={"pool": pool})
    if explain and final.termination.reason is TerminationReason.INFEASIBLE:
        from allocator.explain.infeasibility import diagnose

        infeasibility = diagnose(scenario, backend=name, options=options, extend=extend)
    done = time.perf_counter()
    timings = Timings(
        validate_s=validated - started,
        build_s=built - validated,
        solve_s=solved - built,
        assemble_s=done - solved,
        total_s=done - started,
    )
    result = assemble(formulation, outcome, plan, timings, rules, explanation, infeasibility)
    if plan is None:
        return result
    return result.model_copy(update={"rounding": rounding_moved(formulation, plan)})
