"""The state of reading one workbook: rows read so far, the document built, the issues found and where each part of the document came from (sheet and row), so later problems are located in the workbook's own terms."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from allocator.errors import Issue
from allocator.io.excel_layout import (
    README_SHEET,
    SCENARIO_SHEET,
    SHEET_BY_NAME,
    SHEETS,
)
from allocator.io.read_limits import TOO_LARGE, ReadBudget

# Settings on the Scenario sheet: key in column A, label in B, value in C.
SETTING_VALUE_COLUMN = "C"
_COLUMN = re.compile(r"^(?:required )?column '([^']+)'")
_SETTING = re.compile(r"^setting '([^']+)'")

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
    letters: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per sheet, the column letter each field was read from (as the upload laid it out)."""
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

    def in_cell(self, issue: Issue) -> Issue:
        """``issue`` with the cell it is in (column letter and field), when its message
        names a column of its sheet (``column 'Amount (£)': ...``) or a setting."""
        if issue.sheet is None or not issue.row or issue.column is not None:
            return issue
        if issue.sheet == SCENARIO_SHEET:
            setting = _SETTING.match(issue.message)
            if setting is None:
                return issue
            return dataclasses.replace(issue, column=SETTING_VALUE_COLUMN, field=setting.group(1))
        spec = SHEET_BY_NAME.get(issue.sheet)
        named = _COLUMN.match(issue.message)
        if spec is None or named is None:
            return issue
        key = next((c.key for c in spec.columns if c.header == named.group(1)), None)
        if key is None:
            return issue
        letter = self.letters.get(issue.sheet, {}).get(key)
        return dataclasses.replace(issue, column=letter, field=key)

    def place(
        self, loc: Loc, row: Row, errors_at: Loc | None = None, fields: tuple[str, ...] = ()
    ) -> None:
        """Record that ``loc`` came from ``row``; its cell problems are located under it."""
        self.places.setdefault(loc, (row.sheet, row.number))
        for key, message in row.errors:
            head = key.split(".")[0]
            at = (*loc, *key.split(".")) if not fields or head in fields else (errors_at or loc)
            self.issue(row.sheet, row.number, f"{column_prefix(row.sheet, key)}{message}", at)


def column_letter(number: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letter: str | None) -> int:
    number = 0
    for char in letter or "":
        number = number * 26 + ord(char.upper()) - 64
    return number


def reading_order(issues: list[Issue]) -> list[Issue]:
    """Workbook issues sheet by sheet (in the template's order), row by row, cell by cell;
    issues without a sheet first. Stable, so JSON issues keep their order. `validate` and
    `solve` both list a workbook's problems in this order."""
    rank = {
        name: i for i, name in enumerate((README_SHEET, SCENARIO_SHEET, *(s.name for s in SHEETS)))
    }

    def key(issue: Issue) -> tuple[int, int, int]:
        if issue.sheet is None:
            return (-1, 0, 0)
        return (rank.get(issue.sheet, len(rank)), issue.row or 0, _column_number(issue.column))

    return sorted(issues, key=key)


def column_prefix(sheet: str, key: str) -> str:
    spec = SHEET_BY_NAME.get(sheet)
    if spec is None:
        return f"setting {key!r}: " if sheet == SCENARIO_SHEET else ""
    for column in spec.columns:
        if column.key == key:
            return f"column '{column.header}': "
    return ""
