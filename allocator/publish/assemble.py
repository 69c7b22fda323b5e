"""Build the published `AllocationResult` from the pence plan (or from a failed solve).

A national result has tens of thousands of lines (one per provider, neighbourhood and
segment). They are validated a table at a time (`TypeAdapter` over a list of plain
dicts, in pydantic's compiled core) with the cyclic garbage collector paused: each
collection rescans every live object, so leaving it on while that many objects are
created makes publishing grow faster than the result.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from allocator import __version__
from allocator.backends.interface import Capability
from allocator.backends.registry import backend_class
from allocator.formulation.formulate import PENCE_PER_UNIT, Formulation
from allocator.publish.lines import (
    _by_mechanism,
    _cell_lines,
    _flow_lines,
    _pool_lines,
    _provider_lines,
    _scheme_lines,
    _unit_lines,
    _value_lines,
    lapse_lines,
)
from allocator.publish.minimum_spend_lines import with_minimum_spend_lines
from allocator.publish.pence_plan import PencePlan, unit_allocations
from allocator.publish.stage_figures import with_published_figures
from allocator.stages.sequence import STAGE_DESCRIPTIONS, SequenceOutcome
from models import UnitLevel
from models.results import (
    AllocationResult,
    Explanation,
    InfeasibilityReport,
    ModelSize,
    PotSummary,
    RuleLine,
    StageReport,
    Timings,
)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (if it runs) while building many result objects."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _worst_gap(outcome: SequenceOutcome) -> float | None:
    """The largest MIP gap of any stage: what the lexicographic optimum is proven to."""
    solved = [*outcome.stages, *outcome.chain]
    gaps = [stage.solution.gap for stage in solved if stage.solution.gap is not None]
    return max(gaps) if gaps else None


def _stage_reports(outcome: SequenceOutcome) -> list[StageReport]:
    """One report per stage: the published point's objective (the LP chain's, for a MIP
    whose chain completed), the integer stage's gap, and both solves' time."""
    reports = []
    search, chain = outcome.stages, outcome.chain
    for k in range(max(len(search), len(chain))):
        found = search[k] if k < len(search) else None
        lp = chain[k] if k < len(chain) else None
        shown = lp or found
        assert shown is not None
        text, unit, factor = STAGE_DESCRIPTIONS[shown.stage]
        sol = shown.solution
        gap = found.solution.gap if found is not None else sol.gap
        seconds = sum(st.solution.solve_time_s for st in (found, lp) if st is not None)
        reports.append(
            StageReport(
                stage=shown.stage,
                description=text,
                status=sol.termination.reason.value,
                objective=None if sol.objective is None else sol.objective * factor,
                objective_unit=unit,
                solve_time_s=seconds,
                mip_gap=gap,
            )
        )
    return reports


def assemble(
    f: Formulation,
    outcome: SequenceOutcome,
    plan: PencePlan | None,
    timings: Timings,
    rules: list[RuleLine],
    explanation: Explanation | None = None,
    infeasibility: InfeasibilityReport | None = None,
) -> AllocationResult:
    with gc_paused():
        return _assemble(f, outcome, plan, timings, rules, explanation, infeasibility)


def _assemble(
    f: Formulation,
    outcome: SequenceOutcome,
    plan: PencePlan | None,
    timings: Timings,
    rules: list[RuleLine],
    explanation: Explanation | None,
    infeasibility: InfeasibilityReport | None,
) -> AllocationResult:
    s, pot = f.scenario, f.pot
    program = f.program
    final = outcome.final
    alloc = None if plan is None else unit_allocations(f, plan)
    mech = None if plan is None else _by_mechanism(f, plan)
    result = AllocationResult(
        scenario_id=s.scenario_id,
        scenario_hash=s.content_hash(),
        software_version=__version__,
        status=final.termination.reason.value,
        status_detail=final.termination.detail,
        feasible=plan is not None,
        backend=outcome.backend,
        notes=[*_backend_notes(outcome.backend, feasible=plan is not None), *outcome.notes],
        objective_kind=s.objective.kind.value,
        mip=program.is_mip,
        mip_gap=_worst_gap(outcome) if program.is_mip else None,
        model_size=ModelSize(
            rows=program.num_rows,
            columns=program.num_cols,
            nonzeros=program.num_nonzeros,
            integer_columns=int(program.is_integer.sum()),
        ),
        timings=timings,
        pot=PotSummary(
            total_pence=pot.total_pence,
            pass_through_pence=pot.pass_through_pence,
            pooled_pence=pot.pooled_pence,
            reserve_pence=pot.reserve_pence,
            capitated_pence=pot.capitated_pence,
            lapsed_pence=0 if plan is None else int(plan.lapse_pence.sum()),
        ),
        pool=_pool_lines(f, plan),
        lapses=lapse_lines(f, plan),
        systems=_unit_lines(
            f,
            UnitLevel.SYSTEM,
            f.targets.systems,
            [x.name for x in s.systems],
            [None] * len(s.systems),
            None if alloc is None else alloc[UnitLevel.SYSTEM],
            None if mech is None else mech[UnitLevel.SYSTEM],
        ),
        places=_unit_lines(
            f,
            UnitLevel.PLACE,
            f.targets.places,
            [p.name for p in s.places],
            [p.system_id for p in s.places],
            None if alloc is None else alloc[UnitLevel.PLACE],
            None if mech is None else mech[UnitLevel.PLACE],
            f.place_baseline_pence,
        ),
        neighbourhoods=_unit_lines(
            f,
            UnitLevel.NEIGHBOURHOOD,
            f.targets.neighbourhoods,
            [n.name for n in s.neighbourhoods],
            [n.place_id for n in s.neighbourhoods],
            None if alloc is None else alloc[UnitLevel.NEIGHBOURHOOD],
            None if mech is None else mech[UnitLevel.NEIGHBOURHOOD],
        ),
        providers=[] if plan is None else _provider_lines(f, plan),
        cells=[] if plan is None else _cell_lines(f, plan),
        flows=[] if plan is None else _flow_lines(f, plan),
        schemes=[] if plan is None else _scheme_lines(f, plan),
        value_total=0.0,
        value_unit="value units (e.g. QALYs)",
        value_by=[],
        stages=_stage_reports(outcome),
        rules=rules,
        explanation=explanation,
        infeasibility=infeasibility,
    )
    if plan is not None:
        value_by = _value_lines(f, plan)
        total = sum(v.value for v in value_by) + sum(line.value for line in result.schemes)
        result = result.model_copy(update={"value_by": value_by, "value_total": total})
    return with_minimum_spend_lines(s, with_published_figures(f, plan, result))


__all__ = ["PENCE_PER_UNIT", "assemble"]


def _backend_notes(backend: str, *, feasible: bool) -> list[str]:
    """What a reader of the figures should know about the backend that produced them."""
    precise = Capability.FULL_PRECISION in backend_class(backend).capabilities
    if precise or not feasible:
        return []
    return [
        f"The {backend} backend reads its solver's values to 8 significant digits: every total "
        "reconciles exactly, but a budget may sit a few pounds past a rule's bound. Use the "
        "highs or ortools backend for figures you publish."
    ]
