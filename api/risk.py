"""How large a risk report the service computes at once (the report itself is
`allocator.riskshare.result_risk_report`, the same as ``allocator risk`` prints)."""

from __future__ import annotations

from allocator.errors import Issue
from api.errors import InvalidRequest


def check_size(*, draws: int, providers: int, limit: int) -> None:
    """Refuse (422) a report of more than ``limit`` draws × providers."""
    if draws * providers > limit:
        most = max(1, limit // max(1, providers))
        raise InvalidRequest(
            f"{draws:,} draws × {providers:,} providers is more than this server computes at "
            f"once ({limit:,}); ask for at most {most:,} draws",
            [Issue(loc=("query", "draws"), message=f"at most {most:,} for this result")],
        )
