"""What a worker does: solve a contiguous block of runs and record each as it finishes.

`run_chunk` is the one function shipped to a process pool or a Dask cluster. It applies
each run's changes to the base scenario, validates, formulates, solves the lexicographic
stages through the worker's `RunSolver` (see `allocator.batch.reuse`) and publishes the
allocation in pence exactly as `allocator.pipeline.solve_scenario` does (without
explanations unless the batch asks for them). Each record is written to the store as
soon as its run finishes (when the worker can see the output folder) and is also
returned, so the runner can write what a remote worker could not. A run that fails
(invalid, infeasible, time limit, exception) is a record with its reason, never an
exception out of the chunk.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from allocator.backends.interface import SolveOptions
from allocator.backends.registry import DEFAULT_BACKEND
from allocator.batch.changes import CHANGE_ADAPTER, apply_changes
from allocator.batch.reuse import ExactSolver, WarmSolver, make_solver
from allocator.batch.spec import BatchOptions, Run
from allocator.batch.store import PlaceRow, ProviderRow, RunFailure, RunRecord, RunStore
from allocator.errors import ScenarioInvalid
from allocator.pipeline import solve_options as scenario_solve_options
from allocator.pipeline import solve_scenario
from allocator.validate import blocking, validate_scenario
from models import Scenario
from models.results import AllocationResult


@dataclass(frozen=True, slots=True)
class ChunkTask:
    """A block of runs for one worker: neighbours, in execution order."""

    base: Scenario
    runs: tuple[Run, ...]
    options: BatchOptions
    store_dir: str | None = None
    full_results: bool = False


@dataclass(slots=True)
class ChunkResult:
    records: list[RunRecord] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    stopped: bool = False  # a cancel was seen before every run had finished


# One solver per worker process and settings: a process keeps its sessions between chunks.
_SOLVERS: dict[tuple[str, str, str], ExactSolver | WarmSolver] = {}


def solve_options(options: BatchOptions, scenario: Scenario) -> SolveOptions:
    """The options `solve_scenario` uses for this scenario under the batch's overrides."""
    return scenario_solve_options(scenario, options.time_limit_s, options.mip_gap)


def _solver(options: BatchOptions, solve: SolveOptions) -> ExactSolver | WarmSolver:
    backend = options.backend or DEFAULT_BACKEND
    key = (options.reuse.value, backend, repr(solve))
    if key not in _SOLVERS:
        _SOLVERS[key] = make_solver(options.reuse.value, backend, solve)
    return _SOLVERS[key]


def run_chunk(
    task: ChunkTask,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_record: Callable[[RunRecord], None] | None = None,
) -> ChunkResult:
    """Solve the task's runs in order, recording each; stop early when a cancel is seen."""
    store = RunStore(task.store_dir) if task.store_dir else None
    out = ChunkResult()
    solvers: list[ExactSolver | WarmSolver] = []
    for run in task.runs:
        if (should_stop is not None and should_stop()) or (store and store.cancel_requested()):
            out.stopped = True
            break
        solve = solve_options(task.options, task.base)
        solver = _solver(task.options, solve)
        if solver not in solvers:
            solver.reset()  # a block starts from nothing: results never depend on the split
            solvers.append(solver)
        record, result = run_one(task.base, run, task.options, solver)
        if store is not None:
            try:
                full = result.model_dump_json() if task.full_results and result else None
                store.save(record, full)
            except OSError:
                store = None  # not our filesystem (a remote worker): the runner writes it
        out.records.append(record)
        if on_record is not None:
            on_record(record)
    for solver in solvers:
        for key, value in solver.stats.take().items():
            out.stats[key] = out.stats.get(key, 0) + value
    return out


def run_one(
    base: Scenario,
    run: Run,
    options: BatchOptions,
    solver: ExactSolver | WarmSolver,
) -> tuple[RunRecord, AllocationResult | None]:
    """One run, start to finish; failures come back as records with their reason."""
    started = time.perf_counter()
    head = {
        "run_id": run.run_id,
        "run_index": run.index,
        "params": run.params,
        "changes": [CHANGE_ADAPTER.dump_python(c, mode="json") for c in run.changes],
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    try:
        scenario = apply_changes(base, run.changes)
    except ValueError as error:
        return _failed(head, RunFailure.INVALID, str(error), started), None
    try:
        result = _solve(scenario, options, solver, started)
    except Exception as error:  # one bad run must not stop the batch
        if isinstance(error, ScenarioInvalid):
            issues = "; ".join(f"{i.where()}: {i.message}" for i in error.issues[:5])
            return _failed(head, RunFailure.INVALID, f"{error.detail}: {issues}", started), None
        return _failed(head, RunFailure.ERROR, f"{type(error).__name__}: {error}", started), None
    if result.status == "infeasible" and options.diagnose:
        head["reason"] = _diagnosis(scenario, options)
    return _record(head, result, time.perf_counter() - started), result


def _diagnosis(scenario: Scenario, options: BatchOptions) -> str:
    """Why an infeasible run is infeasible: which rules conflict, the least change."""
    try:
        from allocator.explain.infeasibility import diagnose

        report = diagnose(
            scenario,
            backend=options.backend or DEFAULT_BACKEND,
            options=solve_options(options, scenario),
        )
    except Exception as error:  # the diagnosis is a courtesy: never fail the run over it
        return f"infeasible (diagnosis failed: {type(error).__name__}: {error})"
    return report.summary


def _solve(
    scenario: Scenario, options: BatchOptions, solver: ExactSolver | WarmSolver, started: float
) -> AllocationResult:
    problems = blocking(validate_scenario(scenario))
    if problems:
        raise ScenarioInvalid(f"the changed scenario has {len(problems)} problem(s)", problems)
    # An explained run solves cold, exactly as a single solve does; the others reuse work.
    return solve_scenario(
        scenario,
        backend=options.backend,
        time_limit_s=options.time_limit_s,
        mip_gap=options.mip_gap,
        validate=False,
        explain=options.explain,
        sequence=None if options.explain else solver.solve,
    )


def _record(head: dict[str, object], result: AllocationResult, seconds: float) -> RunRecord:
    distances = [
        p.distance_from_target for p in result.places if p.distance_from_target is not None
    ]
    return RunRecord.model_validate(
        {
            **head,
            "status": result.status,
            "feasible": result.feasible,
            "reason": head.get("reason") or (result.status_detail if not result.feasible else ""),
            "scenario_hash": result.scenario_hash,
            "backend": result.backend,
            "value_total": result.value_total if result.feasible else None,
            "worst_place_distance": min(distances) if distances else None,
            "timings_s": {
                "build": result.timings.build_s,
                "solve": result.timings.solve_s,
                "total": seconds,
            },
            "providers": [
                ProviderRow(
                    provider_id=p.provider_id,
                    kind=p.kind,
                    payment=p.payment,
                    funded=p.funded if result.feasible else None,
                    baseline_pence=p.baseline_pence,
                    budget_pence=p.budget_pence if result.feasible else None,
                    change_pence=p.change_pence if result.feasible else None,
                    change_share=p.change_share if result.feasible else None,
                )
                for p in result.providers
            ],
            "places": [
                PlaceRow(
                    place_id=u.unit_id,
                    target_pence=u.target_pence,
                    allocation_pence=u.allocation_pence,
                    distance_from_target=u.distance_from_target,
                    baseline_pence=u.baseline_pence,
                )
                for u in result.places
            ],
        }
    )


def _failed(head: dict[str, object], status: RunFailure, reason: str, started: float) -> RunRecord:
    return RunRecord.model_validate(
        {
            **head,
            "status": status.value,
            "reason": reason,
            "timings_s": {"total": time.perf_counter() - started},
        }
    )


__all__ = ["ChunkResult", "ChunkTask", "run_chunk", "run_one", "solve_options"]
