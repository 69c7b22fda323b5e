"""HiGHS through highspy: arrays passed straight in; a native session keeps the basis warm.

HiGHS already reports duals as d(objective)/d(bound) in the model's own sense, for both
minimisation and maximisation, so they are passed through unchanged. Its presolve can
answer "unbounded or infeasible"; the session then re-solves without presolve (and, if
still ambiguous, checks feasibility with a zero objective) so the caller always gets
INFEASIBLE or UNBOUNDED.
"""

from __future__ import annotations

from typing import ClassVar

from allocator.backends.highs_native import NAME, highs_available
from allocator.backends.highs_session import HighsSession
from allocator.backends.interface import Capability, RawSolution, SolveOptions
from allocator.formulation.program import LinearProgram


class HighsBackend:
    name: ClassVar[str] = NAME
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.MIP,
            Capability.DUALS,
            Capability.WARM_START,
            Capability.TIME_LIMIT,
            Capability.MIP_GAP,
            Capability.RANGING,
            Capability.FULL_PRECISION,
        }
    )

    @classmethod
    def is_available(cls) -> bool:
        return highs_available()

    def solve(self, program: LinearProgram, options: SolveOptions) -> RawSolution:
        return HighsSession(program, options).solve()

    def start(
        self,
        program: LinearProgram,
        options: SolveOptions,
        warm_start: RawSolution | None = None,
    ) -> HighsSession:
        return HighsSession(program, options, warm_start)
