"""Stage objectives and the lexicographic fix-and-resolve loop (spec section 4).

Each stage minimises one objective; its optimum is then held, within a small
tolerance, by an extra row before the next stage is solved. The same solver session
is reused, so later stages start from the previous stage's basis where the backend
can (HiGHS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from allocator.backends.interface import RawSolution, SolveOptions, TerminationReason
from allocator.backends.registry import get_backend
from allocator.formulation.formulate import PENCE_PER_UNIT, Formulation
from allocator.formulation.program import Sense
from allocator.stages.tie_break import held_bound, tie_break_objective
from allocator.types import FloatArray, Stage
from models import ObjectiveKind, ObjectiveStage

STAGE_DESCRIPTIONS: dict[Stage, tuple[str, str, float]] = {
    # stage: (what it minimises, unit of the reported objective, factor from solver units)
    Stage.SOFT: ("penalty for breaking soft rules", "value units", 1.0),
    Stage.FAIRNESS_MAX: ("largest shortfall below fair-share target", "share of target", 1.0),
    Stage.FAIRNESS_SUM: ("sum of shortfalls below fair-share target", "£", PENCE_PER_UNIT / 100),
    Stage.VALUE: ("health value (maximised; shown as achieved)", "value units", -1.0),
    Stage.STABILITY: ("change from baseline, summed over cells", "£", PENCE_PER_UNIT / 100),
    Stage.WEIGHTED: ("weighted single objective", "value units", 1.0),
    Stage.TIE_BREAK: ("hashed change from baseline: one plan among equal ones", "£", 1.0),
}
# Stages after which the earlier stages' integer decisions are held (they only break ties).
FIXES_INTEGERS = (Stage.STABILITY, Stage.TIE_BREAK)


@dataclass(frozen=True)
class StageOutcome:
    """One solved stage. Its program is the base program plus one held row per earlier stage."""

    stage: Stage
    objective: FloatArray
    solution: RawSolution

    @property
    def reported_objective(self) -> float | None:
        if self.solution.objective is None:
            return None
        return float(self.solution.objective) * STAGE_DESCRIPTIONS[self.stage][2]


@dataclass(frozen=True)
class SequenceOutcome:
    stages: list[StageOutcome]
    final: RawSolution
    backend: str


def stage_sequence(formulation: Formulation) -> list[tuple[Stage, FloatArray]]:
    """The stages to solve, in order, with their objective vectors (all minimised)."""
    objective = formulation.scenario.objective
    obj = formulation.objectives
    if objective.kind is ObjectiveKind.WEIGHTED:
        w = objective.weights
        c = (
            obj[Stage.SOFT]
            + w.fairness_per_gbp_shortfall * (PENCE_PER_UNIT / 100) * obj[Stage.FAIRNESS_SUM]
            + w.value * obj[Stage.VALUE]
            + w.stability_per_gbp_change * (PENCE_PER_UNIT / 100) * obj[Stage.STABILITY]
        )
        return [(Stage.WEIGHTED, c), (Stage.TIE_BREAK, tie_break_objective(formulation))]
    sequence: list[tuple[Stage, FloatArray]] = []
    if obj[Stage.SOFT].any():
        sequence.append((Stage.SOFT, obj[Stage.SOFT]))
    for stage in objective.stages:
        names = {
            ObjectiveStage.FAIRNESS: [Stage.FAIRNESS_MAX, Stage.FAIRNESS_SUM],
            ObjectiveStage.VALUE: [Stage.VALUE],
            ObjectiveStage.STABILITY: [Stage.STABILITY],
        }[stage]
        sequence += [(name, obj[name]) for name in names if obj[name].any()]
    if not sequence:
        sequence.append((Stage.STABILITY, obj[Stage.STABILITY]))
    sequence.append((Stage.TIE_BREAK, tie_break_objective(formulation)))
    return sequence


StageReport = Callable[[int, int, Stage], None]
"""Told (stages done, stages in all, the stage just solved) as each stage finishes."""


def solve_sequence(
    formulation: Formulation,
    backend_name: str,
    options: SolveOptions,
    tolerance: float | None = None,
    on_stage: StageReport | None = None,
) -> SequenceOutcome:
    """Solve the stages in order, holding each optimum for the next; stop at the first failure.

    ``on_stage(done, total, stage)`` is called as each stage finishes (a job's progress)."""
    backend = get_backend(backend_name)
    sequence = stage_sequence(formulation)
    if tolerance is None:
        tolerance = formulation.scenario.objective.stage_tolerance_share
    program = formulation.program.with_objective(sequence[0][1], Sense.MINIMIZE)
    session = backend.start(program, options)
    outcomes: list[StageOutcome] = []
    solution: RawSolution | None = None
    integers = np.flatnonzero(formulation.program.is_integer)
    for position, (stage, c) in enumerate(sequence):
        if position:
            session.set_objective(c, Sense.MINIMIZE, 0.0)
        if (
            stage in FIXES_INTEGERS
            and position
            and integers.size
            and solution is not None
            and solution.x is not None
        ):
            # Stability only breaks ties: keep the schemes and viability decisions the earlier
            # stages chose, which turns a slow MIP over tiny differences into an LP.
            fixed = np.rint(solution.x[integers])
            session.set_col_bounds(integers, fixed, fixed)
            session.set_integrality(integers, False)
        if stage is Stage.TIE_BREAK:
            # From scratch, not from the last basis: the same program then gives the same
            # answer whatever path reached it (a warm batch solves this stage the same way).
            solution = backend.solve(session.program, options)
        else:
            solution = session.solve()
        outcomes.append(StageOutcome(stage, c, solution))
        if on_stage is not None:
            on_stage(position + 1, len(sequence), stage)
        if (
            solution.termination.reason is not TerminationReason.OPTIMAL
            or solution.objective is None
        ):
            break
        if position + 1 < len(sequence):
            held = held_bound(solution.objective, tolerance)
            nz = np.flatnonzero(c)
            row = sp.csr_array((c[nz], (np.zeros(nz.size, dtype=np.int64), nz)), shape=(1, c.size))
            session.add_rows(row, np.array([-np.inf]), np.array([held]))
    assert solution is not None
    return SequenceOutcome(outcomes, published_solution(outcomes), backend.name)


def published_solution(outcomes: list[StageOutcome]) -> RawSolution:
    """The published solution: the tie-break's, or the stage before it when it failed.

    A tie-break that fails (a solver's numerical trouble on a thin face) does not make the
    allocation fail: the previous stage's optimum is just as good, only not unique.
    """
    last = outcomes[-1]
    if (
        last.stage is Stage.TIE_BREAK
        and len(outcomes) > 1
        and last.solution.termination.reason is not TerminationReason.OPTIMAL
    ):
        return outcomes[-2].solution
    return last.solution
