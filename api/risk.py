"""The risk report of a stored result: its provider budgets under its scenario's agreements.

The same report ``allocator risk RESULT --scenario SCENARIO`` prints: the result's budgets
and segment mix (`allocator.riskshare.inputs.result_budgets`), and for a risk-aware
allocation the reference budgets its costs were drawn around, through
`allocator.riskshare.risk_report`, seeded, so the same request gives the same report.
"""

from __future__ import annotations

from allocator.errors import Issue
from allocator.riskshare import RiskReport, risk_report
from allocator.riskshare.inputs import result_budgets
from api.errors import InvalidRequest
from models import Scenario
from models.results import AllocationResult


def check_size(*, draws: int, providers: int, limit: int) -> None:
    """Refuse (422) a report of more than ``limit`` draws × providers."""
    if draws * providers > limit:
        most = max(1, limit // max(1, providers))
        raise InvalidRequest(
            f"{draws:,} draws × {providers:,} providers is more than this server computes at "
            f"once ({limit:,}); ask for at most {most:,} draws",
            [Issue(loc=("query", "draws"), message=f"at most {most:,} for this result")],
        )


def assess(
    result: AllocationResult,
    scenario: Scenario,
    *,
    draws: int,
    seed: int,
    level: float,
    confidence: float,
) -> RiskReport:
    """The seeded risk report of the result's budgets (CPU-bound: call it off the loop)."""
    budgets, mix = result_budgets(result)
    limits = result.risk_limits
    return risk_report(
        budgets,
        mix,
        scenario,
        draws=draws,
        seed=seed,
        level=level,
        reserve_confidence=confidence,
        expected_cost_pence=None if limits is None else limits.reference_budgets_pence,
    )
