"""Reusing solver work between neighbouring runs of a batch.

Each worker formulates every run (vectorised, a few milliseconds) and hands the
`Formulation` to a `RunSolver` kept for the worker's contiguous block of runs.

``exact`` (`ExactSolver`, the default) never lets one run's solver state reach
another's: the lexicographic stages are solved exactly as `solve_scenario` solves them,
so every published penny equals a cold solve. What it shares is what cannot change a
result: the worker's parsed base scenario, and whole solutions of runs whose programs
are identical (a program fingerprint: e.g. a risk-share axis leaves the allocation
problem unchanged, so one solve serves the whole axis).

``warm`` (`WarmSolver`) keeps one native session per LP stage of the lexicographic
sequence. When a run's stage program has the same shape, sparsity and coefficients as
the previous run's (e.g. a pace-of-change sweep), only changed bounds and costs are
pushed into the live session and the solver re-optimises from the previous optimal
basis. When coefficients differ (a pot or demand change moves fair-share targets, which
are coefficients) the session API has no call to change a coefficient or delete a row,
so the session is rebuilt from arrays (a millisecond) and seeded with the previous
run's basis for that stage. Each stage's session only ever holds that stage's own
held-objective rows, so rows of one run never leak into the next. MIP stages are solved
afresh: HiGHS can only seed a MIP with an incumbent, which measured slower than no seed.

Warm starts are not the default because the last stage of the lexicographic sequence is
degenerate: many allocations are exactly as fair, as valuable and as stable (money can
move between cells, funders, even providers at no cost in any stage), and a warm start
reaches one of them that is not always the one a cold solve reaches. Every published
allocation from ``warm`` honours every rule and every stage optimum, but it is not
always identical to the penny to `solve_scenario`'s.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from allocator.backends.interface import RawSolution, SolveOptions, SolverSession, TerminationReason
from allocator.backends.registry import get_backend
from allocator.formulation.formulate import Formulation
from allocator.formulation.program import LinearProgram, Sense
from allocator.stages.sequence import (
    FIXES_INTEGERS,
    SequenceOutcome,
    StageOutcome,
    complete_with_chain,
    published_solution,
    search_length,
    solve_sequence,
    stage_sequence,
)
from allocator.stages.tie_break import held_bound
from allocator.stages.vertex import solve_tie_break
from allocator.types import FloatArray, Stage

CACHE_SIZE = 32


def program_fingerprint(formulation: Formulation, backend: str, options: SolveOptions) -> str:
    """Hash of everything the solver sees: equal fingerprints solve to the same outcome."""
    h = hashlib.sha256()
    p = formulation.program
    for array in (p.a.indptr, p.a.indices, p.a.data, p.row_lo, p.row_hi, p.col_lo, p.col_hi):
        h.update(np.ascontiguousarray(array).tobytes())
    h.update(p.is_integer.tobytes())
    for name, c in stage_sequence(formulation):
        h.update(name.encode())
        h.update(np.ascontiguousarray(c).tobytes())
    objective = formulation.scenario.objective
    h.update(repr((objective.stage_tolerance_share, backend, options)).encode())
    return h.hexdigest()


class RunSolver(Protocol):
    """Solves the lexicographic sequence of one run; may keep state for the next run."""

    def solve(self, formulation: Formulation) -> SequenceOutcome: ...

    def reset(self) -> None: ...


@dataclass
class SolveStats:
    """What reuse did in one worker: for the benchmark and the batch summary."""

    runs: int = 0
    cache_hits: int = 0
    in_place_updates: int = 0
    warm_rebuilds: int = 0
    cold_builds: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "runs": self.runs,
            "cache_hits": self.cache_hits,
            "in_place_updates": self.in_place_updates,
            "warm_rebuilds": self.warm_rebuilds,
            "cold_builds": self.cold_builds,
        }

    def take(self) -> dict[str, int]:
        """The counts so far, and start counting again from zero."""
        counts = self.as_dict()
        self.runs = self.cache_hits = self.in_place_updates = 0
        self.warm_rebuilds = self.cold_builds = 0
        return counts


class _Cache:
    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._items: OrderedDict[str, SequenceOutcome] = OrderedDict()
        self._size = size

    def get(self, key: str) -> SequenceOutcome | None:
        hit = self._items.get(key)
        if hit is not None:
            self._items.move_to_end(key)
        return hit

    def put(self, key: str, value: SequenceOutcome) -> None:
        self._items[key] = value
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class ExactSolver:
    """Cold lexicographic solves, plus reuse of whole solutions of identical programs."""

    def __init__(self, backend: str, options: SolveOptions) -> None:
        self.backend, self.options = backend, options
        self.stats = SolveStats()
        self._cache = _Cache()

    def solve(self, formulation: Formulation) -> SequenceOutcome:
        self.stats.runs += 1
        key = program_fingerprint(formulation, self.backend, self.options)
        hit = self._cache.get(key)
        if hit is not None:
            self.stats.cache_hits += 1
            return hit
        outcome = solve_sequence(formulation, self.backend, self.options)
        self.stats.cold_builds += 1
        self._cache.put(key, outcome)
        return outcome

    def reset(self) -> None:
        """Nothing carries between runs, so a new block needs no reset."""


@dataclass
class _Slot:
    """The live session of one stage and the last solution it produced."""

    session: SolverSession | None = None
    last: RawSolution | None = None


class WarmSolver:
    """One persistent session per lexicographic stage, updated in place or warm-rebuilt."""

    def __init__(self, backend: str, options: SolveOptions) -> None:
        self.backend, self.options = backend, options
        self.stats = SolveStats()
        self._cache = _Cache()
        self._slots: dict[int, _Slot] = {}

    def reset(self) -> None:
        self._slots = {}

    def stage_rows(self) -> dict[int, int]:
        """Rows in each stage's live session (base rows plus that stage's held rows)."""
        return {
            k: slot.session.program.num_rows
            for k, slot in self._slots.items()
            if slot.session is not None
        }

    def solve(self, formulation: Formulation) -> SequenceOutcome:
        self.stats.runs += 1
        key = program_fingerprint(formulation, self.backend, self.options)
        hit = self._cache.get(key)
        if hit is not None:
            self.stats.cache_hits += 1
            return hit
        outcome = self._solve(formulation)
        self._cache.put(key, outcome)
        return outcome

    def _solve(self, f: Formulation) -> SequenceOutcome:
        """The stages warm; a MIP warm only through its integer stages, then the same
        fixed-integer LP chain as `solve_sequence`, so warm and cold publish alike."""
        sequence = stage_sequence(f)
        if f.program.is_mip:
            sequence = sequence[: search_length(sequence)]
        tolerance = f.scenario.objective.stage_tolerance_share
        integers = np.flatnonzero(f.program.is_integer)
        held_rows: list[tuple[FloatArray, float]] = []
        outcomes: list[StageOutcome] = []
        fixed: FloatArray | None = None
        solution: RawSolution | None = None
        for position, (stage, c) in enumerate(sequence):
            if stage in FIXES_INTEGERS and position and integers.size and solution is not None:
                assert solution.x is not None
                fixed = np.rint(solution.x[integers])
            program = _stage_program(f.program, c, held_rows, integers, fixed)
            if stage is Stage.TIE_BREAK:  # from scratch and polished, as `solve_sequence` does
                solution = solve_tie_break(self.backend, program, self.options)
            else:
                solution = self._run_stage(position, program)
            outcomes.append(StageOutcome(stage, c, solution))
            if (
                solution.termination.reason is not TerminationReason.OPTIMAL
                or solution.objective is None
            ):
                break
            held_rows.append((c, held_bound(solution.objective, tolerance, stage)))
        assert solution is not None
        if f.program.is_mip:
            return complete_with_chain(f, outcomes, self.backend, self.options, tolerance)
        return SequenceOutcome(outcomes, published_solution(outcomes), self.backend)

    def _run_stage(self, position: int, program: LinearProgram) -> RawSolution:
        slot = self._slots.setdefault(position, _Slot())
        live = slot.session
        if program.is_mip:
            # HiGHS warm-starts a MIP only with an incumbent, which measured slower than
            # solving it afresh: MIP stages are solved cold, as `solve_sequence` does.
            session = get_backend(self.backend).start(program, self.options)
            self.stats.cold_builds += 1
        elif live is not None and _same_matrix(live.program, program):
            _push_changes(live, program)
            self.stats.in_place_updates += 1
            session = live
        else:
            warm = slot.last
            compatible = (
                warm is not None and live is not None and _same_structure(live.program, program)
            )
            backend = get_backend(self.backend)
            session = backend.start(program, self.options, warm if compatible else None)
            if compatible:
                self.stats.warm_rebuilds += 1
            else:
                self.stats.cold_builds += 1
        solution = session.solve()
        if solution.termination.reason is TerminationReason.SOLVER_ERROR and not program.is_mip:
            # A warm basis can leave the solver numerically stuck (HiGHS "unknown"):
            # the stage is solved again from scratch, as a cold solve would.
            session = get_backend(self.backend).start(program, self.options)
            self.stats.cold_builds += 1
            solution = session.solve()
        slot.session = None if program.is_mip else session
        if solution.termination.reason is TerminationReason.OPTIMAL:
            slot.last = solution
        return solution


def _stage_program(
    base: LinearProgram,
    c: FloatArray,
    held: list[tuple[FloatArray, float]],
    integers: np.ndarray,
    fixed: FloatArray | None,
) -> LinearProgram:
    """The base program with this stage's objective, earlier optima held, integers fixed."""
    program = base.with_objective(c, Sense.MINIMIZE)
    if held:
        rows = sp.csr_array(np.vstack([h for h, _ in held]))
        hi = np.array([bound for _, bound in held])
        program = program.with_rows(rows, np.full(hi.size, -np.inf), hi)
    if fixed is not None:
        lo, hi = program.col_lo.copy(), program.col_hi.copy()
        lo[integers], hi[integers] = fixed, fixed
        flags = program.is_integer.copy()
        flags[integers] = False
        program = replace(program, col_lo=lo, col_hi=hi, is_integer=flags)
    return program


def _same_structure(a: LinearProgram, b: LinearProgram) -> bool:
    return (
        a.a.shape == b.a.shape
        and np.array_equal(a.a.indptr, b.a.indptr)
        and np.array_equal(a.a.indices, b.a.indices)
        and np.array_equal(a.is_integer, b.is_integer)
    )


def _same_matrix(a: LinearProgram, b: LinearProgram) -> bool:
    return _same_structure(a, b) and np.array_equal(a.a.data, b.a.data) and a.sense == b.sense


def _push_changes(session: SolverSession, new: LinearProgram) -> None:
    """Send only what differs (costs, row bounds, column bounds) to a live session."""
    old = session.program
    if not np.array_equal(old.c, new.c) or old.offset != new.offset:
        session.set_objective(new.c, new.sense, new.offset)
    rows = np.flatnonzero((old.row_lo != new.row_lo) | (old.row_hi != new.row_hi))
    if rows.size:
        session.set_row_bounds(rows, new.row_lo[rows], new.row_hi[rows])
    cols = np.flatnonzero((old.col_lo != new.col_lo) | (old.col_hi != new.col_hi))
    if cols.size:
        session.set_col_bounds(cols, new.col_lo[cols], new.col_hi[cols])


def make_solver(mode: str, backend: str, options: SolveOptions) -> ExactSolver | WarmSolver:
    """The run solver for a reuse mode (``exact`` or ``warm``)."""
    if mode == "warm":
        return WarmSolver(backend, options)
    return ExactSolver(backend, options)


__all__ = [
    "ExactSolver",
    "RunSolver",
    "SolveStats",
    "WarmSolver",
    "make_solver",
    "program_fingerprint",
]
