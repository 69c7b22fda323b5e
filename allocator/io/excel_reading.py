"""The state of reading one workbook: rows read so far, the document built, the issues found and where each part of the document came from (sheet and row), so later problems are located in the workbook's own terms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from allocator.errors import Issue
from allocator.io.excel_layout import (
    SCENARIO_SHEET,
    SHEET_BY_NAME,
)
from allocator.io.limits import TOO_LARGE, ReadBudget

Loc = tuple[str | int, ...]


@dataclass
class Row:
    """One non-empty row of a sheet: converted values by column key, and cell problems."""

    sheet: str
    number: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Reading:
    """What reading the workbook produced so far."""

    document: dict[str, Any] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    places: dict[Loc, tuple[str, int]] = field(default_factory=dict)
    budget: ReadBudget = field(default_factory=ReadBudget)

    def over_limit(self, sheet: str, number: int, width: int, pending: int = 0) -> bool:
        """Count a row of ``width`` cells; True (with one blocking issue) once a limit is hit.

        ``pending``: cell problems found on this sheet and not yet recorded as issues.
        """
        why = self.budget.spend(number, width, problems=len(self.issues) + pending)
        if why:
            self.issue(sheet, number, why, code=TOO_LARGE)
        return why is not None

    def issue(
        self, sheet: str, row: int | None, message: str, loc: Loc = (), code: str = "invalid"
    ) -> None:
        self.issues.append(Issue(loc=loc, message=message, sheet=sheet, row=row, code=code))

    def place(
        self, loc: Loc, row: Row, errors_at: Loc | None = None, fields: tuple[str, ...] = ()
    ) -> None:
        """Record that ``loc`` came from ``row``; its cell problems are located under it."""
        self.places.setdefault(loc, (row.sheet, row.number))
        for key, message in row.errors:
            head = key.split(".")[0]
            at = (*loc, *key.split(".")) if not fields or head in fields else (errors_at or loc)
            self.issue(row.sheet, row.number, f"{column_prefix(row.sheet, key)}{message}", at)


def column_prefix(sheet: str, key: str) -> str:
    spec = SHEET_BY_NAME.get(sheet)
    if spec is None:
        return f"setting {key!r}: " if sheet == SCENARIO_SHEET else ""
    for column in spec.columns:
        if column.key == key:
            return f"column '{column.header}': "
    return ""
