"""Stage objectives and the lexicographic fix-and-resolve loop (spec section 4).

Each stage minimises one objective; its optimum is then held, within a small
tolerance relative to that optimum, by an extra row before the next stage is solved
(`run_stages`). The same solver session is reused, so later stages start from the
previous stage's basis where the backend can (HiGHS).

A MIP is solved in two passes: its integer stages with the integer decisions free, then
one LP chain over every stage with those decisions fixed, started from the integer
point (`lp_chain`). The published allocation and the explanation's duals both come from
that chain, and each chain optimum is checked against the integer stage's
(`chain_mismatches`): a mismatch is reported in the result's notes, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from allocator.backends.interface import (
    RawSolution,
    SolveOptions,
    Termination,
    TerminationReason,
)
from allocator.backends.registry import get_backend
from allocator.formulation.formulate import PENCE_PER_UNIT, Formulation
from allocator.formulation.program import LinearProgram, Sense
from allocator.stages.tie_break import MONEY_HOLD_FLOOR, held_bound, tie_break_objective
from allocator.stages.vertex import solve_tie_break
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
    Stage.ALTERNATIVE: (
        "the dimension an alternative moves along (signed)",
        "£",
        PENCE_PER_UNIT / 100,
    ),
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
    """The solved stages and the point that is published.

    ``stages`` is the search: every stage of a pure LP, or the integer stages of a MIP (up
    to the first stability stage). For a MIP ``chain`` is the LP chain re-solved with the
    integer decisions fixed at the search's point: the published allocation (``final``)
    and the explanation's duals both come from it, so they agree by construction.
    ``notes`` records where the chain's stage optima differ from the search's by more
    than the hold tolerance (a numerical failure of one of them).
    """

    stages: list[StageOutcome]
    final: RawSolution
    backend: str
    chain: list[StageOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def lp_stages(self) -> list[StageOutcome]:
        """The LP stages the published point and its duals come from."""
        return self.chain or self.stages


# Stages that only break ties between optima of the earlier ones: a MIP solves them (and
# every stage after the first of them) in the fixed-integer LP chain only.
TIE_BREAK_STAGES: frozenset[Stage] = frozenset({Stage.STABILITY, Stage.TIE_BREAK})


def search_length(sequence: list[tuple[Stage, FloatArray]]) -> int:
    """How many stages a MIP solves with its integer decisions free.

    A tie-break stage keeps the schemes and viability decisions the earlier stages chose,
    which turns a slow MIP over tiny differences into an LP. The first stage is always
    searched (a scenario may optimise stability alone).
    """
    for position, (stage, _) in enumerate(sequence):
        if position and stage in TIE_BREAK_STAGES:
            return position
    return len(sequence)


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

    A MIP's integer stages are solved first; then the integer decisions are fixed at that
    point and every stage is solved again as one warm-started LP chain (`lp_chain`), which
    gives the published allocation and its duals. ``on_stage(done, total, stage)`` is
    called as each stage of the search finishes (a job's progress).
    """
    sequence = stage_sequence(formulation)
    if tolerance is None:
        tolerance = formulation.scenario.objective.stage_tolerance_share
    program = formulation.program
    if not program.is_mip:
        outcomes = run_stages(program, sequence, backend_name, options, tolerance, None, on_stage)
        return SequenceOutcome(
            outcomes, published_solution(outcomes), get_backend(backend_name).name
        )
    search = run_stages(
        program,
        sequence[: search_length(sequence)],
        backend_name,
        options,
        tolerance,
        None,
        on_stage,
    )
    return complete_with_chain(formulation, search, backend_name, options, tolerance, sequence)


def complete_with_chain(
    formulation: Formulation,
    search: list[StageOutcome],
    backend_name: str,
    options: SolveOptions,
    tolerance: float | None = None,
    sequence: list[tuple[Stage, FloatArray]] | None = None,
) -> SequenceOutcome:
    """A MIP's outcome from its integer stages: the LP chain at their point, checked against them.

    ``sequence`` is the formulation's `stage_sequence` when the caller has it already.
    """
    name = get_backend(backend_name).name
    last = search[-1].solution
    if tolerance is None:
        tolerance = formulation.scenario.objective.stage_tolerance_share
    if not all(_solved(st.solution) for st in search) or last.x is None:
        return SequenceOutcome(search, last, name)
    if sequence is None:
        sequence = stage_sequence(formulation)
    chain = lp_chain(formulation, last.x, sequence, backend_name, options, tolerance)
    notes = chain_mismatches(search, chain, tolerance)
    if chain and chain[-1].stage is Stage.TIE_BREAK and len(chain) == len(sequence):
        published = published_solution(chain)
        if published is not chain[-1].solution:
            notes.append(
                "The tie-break stage could not be solved: the allocation published is the "
                "stability stage's optimum, as good in every stage but not unique."
            )
            return SequenceOutcome(search, published, name, chain=chain[:-1], notes=notes)
    if len(chain) < len(sequence) or not _solved(chain[-1].solution):
        failed = chain[-1]
        notes.append(
            f"The linear re-solve with the integer decisions fixed stopped at the {failed.stage} "
            f"stage ({failed.solution.termination.reason.value}): the allocation published is "
            f"the {search[-1].stage} stage's mixed-integer point, and it has no shadow prices."
        )
        return SequenceOutcome(search, last, name, chain=[], notes=notes)
    return SequenceOutcome(search, chain[-1].solution, name, chain=chain, notes=notes)


def lp_chain(
    formulation: Formulation,
    x: FloatArray,
    sequence: list[tuple[Stage, FloatArray]],
    backend_name: str,
    options: SolveOptions,
    tolerance: float,
) -> list[StageOutcome]:
    """Every stage as an LP with the integer columns fixed at their values in ``x``.

    The chain starts from ``x`` (feasible for every stage the search held), so a primal
    simplex only has to improve it; each held row keeps the current point feasible, so the
    next stage re-starts from the previous basis.
    """
    fixed = fix_integers(formulation.program, x)
    backend = get_backend(backend_name)
    start = RawSolution(Termination(TerminationReason.OPTIMAL), None, x)
    return run_stages(
        fixed, sequence, backend_name, chain_options(backend.name, options), tolerance, start
    )


def chain_options(backend_name: str, options: SolveOptions) -> SolveOptions:
    """Options of the fixed-integer LP chain: HiGHS's primal simplex, which re-optimises
    from a feasible point and basis instead of restarting from a dual-feasible one."""
    if backend_name != "highs" or "simplex_strategy" in options.extra:
        return options
    return replace(options, extra={**options.extra, "simplex_strategy": 4})


def fix_integers(program: LinearProgram, x: FloatArray) -> LinearProgram:
    """The LP with every integer column fixed at its (rounded) value in ``x``."""
    fixed = np.where(program.is_integer, np.rint(x), np.nan)
    lo = np.where(program.is_integer, fixed, program.col_lo)
    hi = np.where(program.is_integer, fixed, program.col_hi)
    return replace(
        program, col_lo=lo, col_hi=hi, is_integer=np.zeros(program.num_cols, dtype=np.bool_)
    )


def run_stages(
    program: LinearProgram,
    sequence: list[tuple[Stage, FloatArray]],
    backend_name: str,
    options: SolveOptions,
    tolerance: float,
    warm_start: RawSolution | None = None,
    on_stage: StageReport | None = None,
) -> list[StageOutcome]:
    """The fix-and-resolve loop over one session: solve a stage, hold its optimum, go on.

    Stops after the first stage without an optimum. Appending a stage to ``sequence``
    appends one more solve (every stage but the last adds its held row).
    """
    backend = get_backend(backend_name)
    session = backend.start(
        program.with_objective(sequence[0][1], Sense.MINIMIZE), options, warm_start
    )
    outcomes: list[StageOutcome] = []
    for position, (stage, c) in enumerate(sequence):
        if position:
            session.set_objective(c, Sense.MINIMIZE, 0.0)
        if stage is Stage.TIE_BREAK:
            # From scratch, not from the last basis, and polished to its exact vertex: the
            # same program then gives the same answer whatever path or backend reached it
            # (a warm batch solves this stage the same way).
            solution = solve_tie_break(backend_name, session.program, options)
        else:
            solution = session.solve()
        outcomes.append(StageOutcome(stage, c, solution))
        if on_stage is not None:
            on_stage(position + 1, len(sequence), stage)
        if not _solved(solution):
            break
        assert solution.objective is not None
        if position + 1 < len(sequence):
            nz = np.flatnonzero(c)
            row = sp.csr_array((c[nz], (np.zeros(nz.size, dtype=np.int64), nz)), shape=(1, c.size))
            session.add_rows(
                row,
                np.array([-np.inf]),
                np.array([held_bound(solution.objective, tolerance, stage)]),
            )
    return outcomes


def chain_mismatches(
    search: list[StageOutcome], chain: list[StageOutcome], tolerance: float
) -> list[str]:
    """Stages whose LP-chain optimum is worse than the search's optimum held for it.

    Fixing the integers at the search's point restricts the problem, and that point is
    feasible for every held stage, so each chain optimum must lie within the hold of the
    search's optimum. A chain optimum above it means one of the two solves is wrong.
    """
    notes = []
    for found, lp in zip(search, chain, strict=False):
        a, b = found.solution.objective, lp.solution.objective
        if a is None or b is None or not _solved(lp.solution):
            break
        slack = held_bound(a, tolerance, found.stage) - a
        if b > a + 2 * slack:
            factor = STAGE_DESCRIPTIONS[found.stage][2]
            notes.append(
                f"Numerical mismatch in the {found.stage} stage: the linear re-solve with the "
                f"integer decisions fixed reached {b * factor:.9g}, the mixed-integer solve "
                f"{a * factor:.9g} (relative difference {abs(b - a) / max(MONEY_HOLD_FLOOR, abs(a)):.2e})."
            )
        if b < a - slack:
            # The chain beat the search (within its MIP gap): later stages may then trade
            # against this one, so their optima are no longer bounded by the search's.
            break
    return notes


def _solved(solution: RawSolution) -> bool:
    return (
        solution.termination.reason is TerminationReason.OPTIMAL and solution.objective is not None
    )


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
