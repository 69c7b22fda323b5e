"""CBC's logged objective replaces the one recomputed from its 8-digit solution file."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from allocator.backends.pulp import _reported_objective
from allocator.formulation.program import LinearProgram

LOG = "Cbc0001I Search completed - best objective 37831.51962999986, took 0 iterations\n"


def _program(offset: float) -> LinearProgram:
    return LinearProgram(
        c=np.ones(1),
        a=sp.csr_array((0, 1)),
        row_lo=np.zeros(0),
        row_hi=np.zeros(0),
        col_lo=np.zeros(1),
        col_hi=np.ones(1),
        is_integer=np.zeros(1, dtype=np.bool_),
        offset=offset,
    )


def test_logged_objective_keeps_the_digits_the_solution_file_drops() -> None:
    assert _reported_objective(LOG, _program(0.0), 37831.519) == 37831.51962999986
    assert _reported_objective(LOG, _program(2.0), 37833.519) == 37833.51962999986


def test_an_lp_log_gives_its_optimal_objective() -> None:
    log = "Optimal objective 296032.4266 - 123 iterations time 0.012\n"
    assert _reported_objective(log, _program(0.0), 296032.4263) == 296032.4266


def test_logged_objective_is_ignored_when_it_disagrees_or_is_absent() -> None:
    assert _reported_objective(LOG, _program(0.0), 40000.0) == 40000.0
    assert _reported_objective("Optimal - objective value 1.5\n", _program(0.0), 1.5) == 1.5
