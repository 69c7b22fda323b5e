"""Shadow prices through the lexicographic stages, in plain units.

Each stage k minimises its objective with every earlier stage's optimum held by a
row ``c_j x <= opt_j``. A change dθ in the inputs moves stage k's optimum by

    dOpt_k/dθ = y_k · (db/dθ − dA/dθ x_k) + r_k · d(col bound)/dθ + Σ_j<k y_k,held_j · dOpt_j/dθ

(LP sensitivity with the duals y and reduced costs r of stage k, plus the chain through
the held rows). So a rule's shadow price in the value stage already accounts for how
relaxing it changes fairness first. For MIPs the duals are those of the LP chain with the
integer decisions fixed (`allocator.stages.sequence.lp_chain`), the same chain the
published allocation comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from allocator.backends.interface import SolveOptions, TerminationReason
from allocator.formulation.formulate import PENCE_PER_UNIT, Formulation, formulate
from allocator.formulation.program import LinearProgram
from allocator.stages.sequence import SequenceOutcome, chain_mismatches, lp_chain, stage_sequence
from allocator.types import FloatArray
from models import Scenario

POOL_STEP_PENCE = 1_000_000  # £10,000: the finite step used to read how targets move with the pot


@dataclass(frozen=True)
class StageDuals:
    stage: str
    x: FloatArray
    row_duals: FloatArray
    reduced_costs: FloatArray


@dataclass(frozen=True)
class DualSet:
    stages: list[StageDuals]
    fixed_integers: bool
    notes: list[str] = field(default_factory=list)  # mismatches of a chain solved here

    def stage(self, name: str) -> int | None:
        return next((k for k, s in enumerate(self.stages) if s.stage == name), None)


def stage_duals(
    f: Formulation, outcome: SequenceOutcome, backend: str, options: SolveOptions
) -> DualSet | None:
    """Duals of every stage, from the LP chain the allocation was published from; None if unavailable.

    A MIP outcome without a chain (a batch's warm solver) gets its chain solved here, from
    its published point.
    """
    fixed = f.program.is_mip
    stages = outcome.lp_stages
    notes = list(outcome.notes)
    if fixed and not outcome.chain:
        if outcome.final.x is None:
            return None
        tolerance = f.scenario.objective.stage_tolerance_share
        stages = lp_chain(f, outcome.final.x, stage_sequence(f), backend, options, tolerance)
        notes += chain_mismatches(outcome.stages, stages, tolerance)
    out = []
    for st in stages:
        sol = st.solution
        if sol.termination.reason is not TerminationReason.OPTIMAL or sol.row_duals is None:
            return None
        assert sol.x is not None
        assert sol.reduced_costs is not None
        out.append(StageDuals(st.stage, sol.x, sol.row_duals, sol.reduced_costs))
    return DualSet(out, fixed, notes)


def row_relaxation_effects(
    duals: DualSet, num_rows: int, rows: np.ndarray, direction: FloatArray
) -> FloatArray:
    """(stages, len(rows)): each stage's optimum change per solver unit a row's bound moves.

    ``direction`` is +1 to raise the row's active bound, −1 to lower it.
    """
    effects = np.zeros((len(duals.stages), rows.size))
    for k, st in enumerate(duals.stages):
        d = st.row_duals[rows] * direction
        for j in range(k):
            d = d + st.row_duals[num_rows + j] * effects[j]
        effects[k] = d
    return effects


def parametric_effects(
    duals: DualSet, base: LinearProgram, moved: LinearProgram, step_units: float
) -> FloatArray | None:
    """(stages,): each stage's optimum change per solver unit of an input that moves ``base`` to ``moved``.

    Returns None when the two programs differ in shape (the perturbation changed the model).
    """
    if base.a.shape != moved.a.shape:
        return None
    dlo = _bound_change(base.row_lo, moved.row_lo) / step_units
    dhi = _bound_change(base.row_hi, moved.row_hi) / step_units
    da = sp.csr_array(moved.a - base.a) / step_units
    dclo = _bound_change(base.col_lo, moved.col_lo) / step_units
    dchi = _bound_change(base.col_hi, moved.col_hi) / step_units
    m = base.num_rows
    out = np.zeros(len(duals.stages))
    for k, st in enumerate(duals.stages):
        y = st.row_duals[:m]
        db = np.where(y > 0, dlo, dhi)
        total = float(y @ db - y @ (da @ st.x))
        r = st.reduced_costs
        total += float(r @ np.where(r > 0, dclo, dchi))
        for j in range(k):
            total += float(st.row_duals[m + j] * out[j])
        out[k] = total
    return out


def _bound_change(before: FloatArray, after: FloatArray) -> FloatArray:
    both = np.isfinite(before) & np.isfinite(after)
    change: FloatArray = np.where(both, after - np.where(both, before, 0.0), 0.0)
    return change


def with_funder_increase(scenario: Scenario, funder_id: str, pence: int) -> Scenario:
    funders = tuple(
        f.model_copy(update={"amount_pence": f.amount_pence + pence})
        if f.funder_id == funder_id
        else f
        for f in scenario.funders
    )
    return scenario.model_copy(update={"funders": funders})


def pool_effects(f: Formulation, duals: DualSet) -> dict[str, FloatArray | None]:
    """Per funder: each stage's optimum change per extra £1 contributed."""
    out: dict[str, FloatArray | None] = {}
    for funder in f.scenario.funders:
        moved = formulate(
            with_funder_increase(f.scenario, funder.funder_id, POOL_STEP_PENCE),
            extend=f.extension,
            reuse=f.prefix,  # the steps no funder's amount touches are taken as built
        ).program
        effects = parametric_effects(duals, f.program, moved, POOL_STEP_PENCE / PENCE_PER_UNIT)
        out[funder.funder_id] = None if effects is None else effects / (PENCE_PER_UNIT / 100)
    return out
