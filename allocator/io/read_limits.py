"""Bounds on the work one uploaded file may cost, and on the issues one answer lists.

A workbook inside every byte limit can still hold hundreds of thousands of rows (a zip of
repetitive XML compresses very well). Reading stops at these bounds with one located,
blocking issue, so a hostile or careless upload costs bounded CPU and memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from allocator.errors import Issue

TOO_LARGE = "too-large"


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """How much of a workbook is read before reading stops."""

    max_rows_per_sheet: int = 100_000
    max_cells: int = 2_000_000
    max_issues: int = 5_000  # reading stops once this many problems are found


@dataclass(slots=True)
class ReadBudget:
    """What reading has spent so far against its `ReadLimits`."""

    limits: ReadLimits = field(default_factory=ReadLimits)
    cells: int = 0
    stopped: bool = False  # a limit was reached: the rest of the file is not read

    def spend(self, number: int, width: int, *, problems: int) -> str | None:
        """Count row ``number`` of ``width`` cells; why reading stops here, or None."""
        limits, self.cells = self.limits, self.cells + width
        if number - 1 > limits.max_rows_per_sheet:
            why = f"more than {limits.max_rows_per_sheet:,} rows (the limit per sheet)"
        elif self.cells > limits.max_cells:
            why = f"more than {limits.max_cells:,} cells in the workbook (the limit)"
        elif problems >= limits.max_issues:
            why = f"{problems:,} problems found so far (the limit): fix those first"
        else:
            return None
        self.stopped = True
        return f"stopped reading at this row: {why}"


@dataclass(frozen=True, slots=True)
class IssueSummary:
    """The first issues of a long list, with the whole list counted by kind."""

    shown: list[Issue]
    total: int
    counts: dict[str, int]

    @property
    def truncated(self) -> bool:
        return self.total > len(self.shown)


def summarise_issues(issues: Sequence[Issue], limit: int) -> IssueSummary:
    """The first ``limit`` issues and the count of every issue by its code."""
    return IssueSummary(
        shown=list(issues[:limit]),
        total=len(issues),
        counts=dict(sorted(Counter(issue.code for issue in issues).items())),
    )


__all__ = ["TOO_LARGE", "IssueSummary", "ReadBudget", "ReadLimits", "summarise_issues"]
