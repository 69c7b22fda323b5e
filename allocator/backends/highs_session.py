"""A HiGHS session: one native model kept in the solver and changed in place between stages (objective swaps, added rows, bound changes), so LP re-solves start from the previous basis; with ranging for the explanation."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from allocator.backends.highs_native import (
    _BASIC,
    _CONTINUOUS,
    _FEASIBLE,
    _INTEGER,
    AMBIGUOUS,
    NAME,
    STATUS_MAP,
    HighsBasisData,
    Ranging,
    _configure,
    _highspy,
    _iterations,
    _new_highs,
    _ok,
    _pass_model,
    _sense,
    _sized,
)
from allocator.backends.interface import (
    RawSolution,
    SolveOptions,
    Termination,
    TerminationReason,
    added_rows,
    changed_col_bounds,
    changed_integrality,
    changed_objective,
    changed_row_bounds,
    check_program,
    failure,
    objective_at,
    relative_gap,
)
from allocator.errors import SolverFailed
from allocator.formulation.program import LinearProgram, Sense
from allocator.types import BoolArray, FloatArray, IntArray


class HighsSession:
    """One native HiGHS model changed in place between solves.

    HiGHS keeps the simplex basis across cost, bound and row changes, so LP re-solves are
    warm; for MIPs the previous solution is offered as the starting incumbent.
    """

    def __init__(
        self,
        program: LinearProgram,
        options: SolveOptions,
        warm_start: RawSolution | None = None,
    ) -> None:
        check_program(program)
        self._hs = _highspy()
        self._program = program
        self._options = options
        self.highs = _new_highs(self._hs)
        _configure(self.highs, options)
        self._loaded = _pass_model(self.highs, program)
        self._last_x: FloatArray | None = None
        self._last_reason: TerminationReason | None = None
        if warm_start is not None and self._loaded:
            self._warm(warm_start)

    @property
    def program(self) -> LinearProgram:
        return self._program

    # Solving ---------------------------------------------------------------------------------

    def solve(self) -> RawSolution:
        started = time.perf_counter()
        if not self._loaded:
            return failure(
                TerminationReason.SOLVER_ERROR,
                "HiGHS rejected the model (passModel returned kError)",
                NAME,
                time.perf_counter() - started,
            )
        if self._program.is_mip and self._last_x is not None:
            self._offer_incumbent(self._last_x)
        status = self._run()
        if status == AMBIGUOUS:
            status = self._disambiguate()
        solution = self._read(status, time.perf_counter() - started)
        self._last_reason = solution.termination.reason
        if solution.x is not None:
            self._last_x = solution.x
        return solution

    def _run(self) -> str:
        try:
            self.highs.run()
        except Exception as error:  # the library itself broke
            raise SolverFailed(
                f"HiGHS failed while solving: {error}; retry with --backend ortools or pulp"
            ) from error
        return str(self.highs.getModelStatus().name)

    def _disambiguate(self) -> str:
        """Presolve could not tell infeasible from unbounded: re-solve without it."""
        h = self.highs
        h.setOptionValue("presolve", "off")
        try:
            status = self._run()
        finally:
            h.setOptionValue("presolve", "choose" if self._options.presolve else "off")
        if status != AMBIGUOUS:
            return status
        # Still ambiguous: the model is unbounded exactly when its constraints are satisfiable.
        probe = _new_highs(self._hs)
        _configure(probe, self._options)
        probe.setOptionValue("presolve", "off")
        zero = self._program.with_objective(np.zeros(self._program.num_cols))
        _pass_model(probe, zero)
        probe.run()
        feasible = str(probe.getModelStatus().name)
        if feasible in ("kOptimal", "kModelEmpty"):
            return "kUnbounded"
        return "kInfeasible" if feasible == "kInfeasible" else AMBIGUOUS

    def _read(self, status: str, seconds: float) -> RawSolution:
        h, program = self.highs, self._program
        info = h.getInfo()
        reason = STATUS_MAP.get(status, TerminationReason.SOLVER_ERROR)
        if (
            reason is TerminationReason.TIME_LIMIT_FEASIBLE
            and int(info.primal_solution_status) != _FEASIBLE
        ):
            reason = TerminationReason.TIME_LIMIT_NO_SOLUTION
        iterations = _iterations(info)
        if not reason.has_solution:
            return failure(reason, status, NAME, seconds, iterations)
        solution = h.getSolution()
        n, m = program.num_cols, program.num_rows
        x = np.asarray(solution.col_value, dtype=np.float64)[:n]
        if x.size != n:  # an empty model may come back without values
            x = np.zeros(n)
        objective = objective_at(program, x)
        optimal_lp = not program.is_mip and reason is TerminationReason.OPTIMAL
        row_duals = reduced = None
        basis = None
        if optimal_lp and (bool(solution.dual_valid) or status == "kModelEmpty"):
            row_duals = _sized(solution.row_dual, m)
            reduced = _sized(solution.col_dual, n)
            basis = self._basis()
        if program.is_mip:
            dual_bound = float(info.mip_dual_bound)
            bound = dual_bound if np.isfinite(dual_bound) else None
            gap = relative_gap(objective, bound)
        else:
            bound = objective if optimal_lp else None
            gap = 0.0 if optimal_lp else None
        return RawSolution(
            termination=Termination(reason, status),
            objective=objective,
            x=x,
            row_duals=row_duals,
            reduced_costs=reduced,
            bound=bound,
            gap=gap,
            solve_time_s=seconds,
            iterations=iterations,
            backend=NAME,
            basis=basis,
        )

    def _basis(self) -> HighsBasisData | None:
        basis = self.highs.getBasis()
        if not basis.valid:
            return None
        return HighsBasisData(_statuses(basis.col_status), _statuses(basis.row_status))

    def ranging(self) -> Ranging | None:
        """Cost and bound ranging of the last solve; None unless it was an optimal LP."""
        if self._program.is_mip or self._last_reason is not TerminationReason.OPTIMAL:
            return None
        status, rng = self.highs.getRanging()
        if status.name != "kOk" or not rng.valid:
            return None
        n, m = self._program.num_cols, self._program.num_rows
        # highspy sizes the cost records num_col + num_row: only the first num_col are costs.
        return Ranging(
            cost_lo=_sized(rng.col_cost_dn.value_, n),
            cost_hi=_sized(rng.col_cost_up.value_, n),
            cost_lo_objective=_sized(rng.col_cost_dn.objective_, n),
            cost_hi_objective=_sized(rng.col_cost_up.objective_, n),
            rhs_lo=_sized(rng.row_bound_dn.value_, m),
            rhs_hi=_sized(rng.row_bound_up.value_, m),
            rhs_lo_objective=_sized(rng.row_bound_dn.objective_, m),
            rhs_hi_objective=_sized(rng.row_bound_up.objective_, m),
            col_bound_lo=_sized(rng.col_bound_dn.value_, n),
            col_bound_hi=_sized(rng.col_bound_up.value_, n),
            col_bound_lo_objective=_sized(rng.col_bound_dn.objective_, n),
            col_bound_hi_objective=_sized(rng.col_bound_up.objective_, n),
        )

    # Warm starts -----------------------------------------------------------------------------

    def _warm(self, warm: RawSolution) -> None:
        """Use an earlier solution's basis (LPs) or its point (MIP incumbent, or LP crash)."""
        n, m = self._program.num_cols, self._program.num_rows
        basis = warm.basis
        if (
            not self._program.is_mip
            and isinstance(basis, HighsBasisData)
            and basis.col_status.size == n
            and basis.row_status.size <= m
        ):
            # Rows added since the basis was taken enter with their slack basic.
            rows = np.concatenate(
                [basis.row_status, np.full(m - basis.row_status.size, _BASIC, dtype=np.int8)]
            )
            statuses = list(self._hs.HighsBasisStatus.__members__.values())
            by_code = {int(s): s for s in statuses}
            native = self._hs.HighsBasis()
            # highspy only accepts lists of enum members here: one pass, no solver calls.
            native.col_status = [by_code[v] for v in basis.col_status.tolist()]
            native.row_status = [by_code[v] for v in rows.tolist()]
            native.valid = True
            if self.highs.setBasis(native).name == "kOk":
                return
        if warm.x is not None and warm.x.size == n:
            self._offer_incumbent(warm.x)

    def _offer_incumbent(self, x: FloatArray) -> None:
        n = self._program.num_cols
        self.highs.setSolution(n, np.arange(n, dtype=np.int32), np.asarray(x, dtype=np.float64))

    # In-place changes ------------------------------------------------------------------------

    def set_objective(self, c: FloatArray, sense: Sense, offset: float) -> None:
        program = changed_objective(self._program, c, sense, offset)
        n = program.num_cols
        h = self.highs
        _ok(h.changeObjectiveSense(_sense(self._hs, program.sense)), "changeObjectiveSense")
        _ok(h.changeColsCost(n, np.arange(n, dtype=np.int32), program.c), "changeColsCost")
        _ok(h.changeObjectiveOffset(program.offset), "changeObjectiveOffset")
        self._program = program

    def add_rows(self, a: sp.csr_array, lo: FloatArray, hi: FloatArray) -> None:
        program = added_rows(self._program, a, lo, hi)
        new = sp.csr_array(program.a[self._program.num_rows :])
        _ok(
            self.highs.addRows(
                new.shape[0],
                program.row_lo[self._program.num_rows :],
                program.row_hi[self._program.num_rows :],
                new.nnz,
                new.indptr[:-1].astype(np.int32),
                new.indices.astype(np.int32),
                new.data.astype(np.float64),
            ),
            "addRows",
        )
        self._program = program

    def set_col_bounds(self, indices: IntArray, lo: FloatArray, hi: FloatArray) -> None:
        program = changed_col_bounds(self._program, indices, lo, hi)
        idx = np.asarray(indices, dtype=np.int32).reshape(-1)
        _ok(
            self.highs.changeColsBounds(idx.size, idx, program.col_lo[idx], program.col_hi[idx]),
            "changeColsBounds",
        )
        self._program = program

    def set_row_bounds(self, indices: IntArray, lo: FloatArray, hi: FloatArray) -> None:
        program = changed_row_bounds(self._program, indices, lo, hi)
        idx = np.asarray(indices, dtype=np.int32).reshape(-1)
        _ok(
            self.highs.changeRowsBounds(idx.size, idx, program.row_lo[idx], program.row_hi[idx]),
            "changeRowsBounds",
        )
        self._program = program

    def set_integrality(self, indices: IntArray, is_integer: bool | BoolArray) -> None:
        program = changed_integrality(self._program, indices, is_integer)
        idx = np.asarray(indices, dtype=np.int32).reshape(-1)
        kinds = np.where(program.is_integer[idx], _INTEGER, _CONTINUOUS).astype(np.uint8)
        _ok(self.highs.changeColsIntegrality(idx.size, idx, kinds), "changeColsIntegrality")
        self._program = program


def ranging(
    program: LinearProgram, options: SolveOptions | None = None
) -> tuple[RawSolution, Ranging | None]:
    """Solve an LP with HiGHS and return its ranging (None unless the LP is optimal)."""
    if program.is_mip:
        raise ValueError("ranging is defined for LPs only: fix the integers and relax first")
    session = HighsSession(program, options or SolveOptions())
    solution = session.solve()
    return solution, session.ranging()


def _statuses(statuses: list[Any]) -> npt.NDArray[np.int8]:
    """Basis statuses as int8, read by value (numpy converting the enums itself is 3× slower)."""
    return np.array([status.value for status in statuses], dtype=np.int8)
