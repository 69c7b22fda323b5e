"""The solver floor: our already-built matrix handed straight to HiGHS, the solver timed alone.

No session, no status mapping, no reading back into the domain: a `highspy.HighsLp` is
filled from the program's arrays (CSR -> CSC once), passed with ``passModel`` and
``run()`` is timed on its own. Options match what our HiGHS backend sets (output off,
the scenario's relative MIP gap, presolve on), so both solve the same model the same
way and any difference in time is ours.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from allocator.formulation.program import LinearProgram


@dataclass(frozen=True)
class FloorResult:
    """The floor's objective and timings (seconds)."""

    status: str
    objective: float | None
    convert_s: float  # CSR -> CSC and filling the HighsLp
    pass_s: float  # Highs.passModel
    run_s: float  # Highs.run: the solver alone

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "objective": self.objective,
            "convert_s": self.convert_s,
            "pass_s": self.pass_s,
            "run_s": self.run_s,
        }


def _highs_lp(hs: Any, program: LinearProgram) -> Any:
    a = sp.csc_array(program.a)
    lp = hs.HighsLp()
    lp.num_col_ = program.num_cols
    lp.num_row_ = program.num_rows
    lp.col_cost_ = np.asarray(program.c, dtype=np.float64)
    lp.col_lower_ = program.col_lo
    lp.col_upper_ = program.col_hi
    lp.row_lower_ = program.row_lo
    lp.row_upper_ = program.row_hi
    lp.offset_ = float(program.offset)
    lp.a_matrix_.format_ = hs.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    if program.is_mip:
        integer, continuous = hs.HighsVarType.kInteger, hs.HighsVarType.kContinuous
        lp.integrality_ = [integer if flag else continuous for flag in program.is_integer]
    return lp


def solve_floor(program: LinearProgram, c: Any, *, mip_gap: float) -> FloorResult:
    """Minimise ``c @ x`` over ``program`` with bare highspy; only ``run()`` is the floor."""
    import highspy

    started = time.perf_counter()
    lp = _highs_lp(highspy, program.with_objective(np.asarray(c, dtype=np.float64)))
    converted = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("presolve", "on")
    h.passModel(lp)
    passed = time.perf_counter()
    h.run()
    ran = time.perf_counter()
    status = h.getModelStatus().name
    objective = None
    if status == "kOptimal":
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        objective = float(np.asarray(c, dtype=np.float64) @ x)
    return FloorResult(
        status="optimal" if status == "kOptimal" else status,
        objective=objective,
        convert_s=converted - started,
        pass_s=passed - converted,
        run_s=ran - passed,
    )
