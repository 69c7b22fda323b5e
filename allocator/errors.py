"""Every error the domain raises. No HTTP knowledge here: `api/errors.py` maps these."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PLAIN_SHEET = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def cell_address(sheet: str, column: str | None = None, row: int | None = None) -> str:
    """Where a problem is, as finance staff cite it: ``Funders!D3``; a whole row
    ``Funders!3:3``; a sheet ``Funders``. A sheet name with spaces is quoted as Excel
    quotes it: ``'Pace of change'!B4``."""
    name = sheet if _PLAIN_SHEET.fullmatch(sheet) else "'" + sheet.replace("'", "''") + "'"
    if row is None or row <= 0:
        return sheet
    return f"{name}!{column}{row}" if column else f"{name}!{row}:{row}"


@dataclass(frozen=True, slots=True)
class Issue:
    """One located problem in an input.

    ``loc`` is the path inside the scenario document (``("providers", 3, "baseline_pence")``);
    ``sheet`` and ``row`` locate it in a workbook (row as Excel shows it) when it came from one;
    ``column`` is the cell's column letter and ``field`` the field that column holds, when
    the problem is in one cell.
    """

    loc: tuple[str | int, ...]
    message: str
    sheet: str | None = None
    row: int | None = None
    code: str = "invalid"
    column: str | None = None
    field: str | None = None

    def path(self) -> str:
        """The location in the scenario document: ``providers[3].baseline_pence``."""
        path = ""
        for part in self.loc:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        return path

    def where(self) -> str:
        """Human location: ``Funders!D3 (amount_pence)`` for a cell of a workbook,
        ``Providers!5:5 · providers[3]`` for a row, else the document path."""
        path = self.path()
        if self.sheet is None:
            return path or "(document)"
        address = cell_address(self.sheet, self.column, self.row)
        if self.field:
            return f"{address} ({self.field})"
        return f"{address} · {path}" if path else address

    def to_dict(self) -> dict[str, object]:
        return {
            "loc": list(self.loc),
            "message": self.message,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "code": self.code,
        }


class AllocatorError(Exception):
    """Base of the domain's errors: a stable slug, a title and located issues."""

    code: str = "allocator-error"
    title: str = "Allocation error"

    def __init__(self, detail: str, issues: list[Issue] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.issues: list[Issue] = list(issues or [])


class ScenarioInvalid(AllocatorError):
    code = "scenario-invalid"
    title = "The scenario is not valid"


class NotFound(AllocatorError):
    code = "not-found"
    title = "Not found"


class VersionConflict(AllocatorError):
    code = "version-conflict"
    title = "The scenario changed since you read it"


class PermissionDenied(AllocatorError):
    code = "permission-denied"
    title = "Not allowed"


class LimitExceeded(AllocatorError):
    code = "limit-exceeded"
    title = "Input too large"


@dataclass(slots=True)
class IssueList:
    """Collects issues; raise them all at once."""

    issues: list[Issue] = field(default_factory=list)

    def add(self, loc: tuple[str | int, ...], message: str, code: str = "invalid") -> None:
        self.issues.append(Issue(loc=loc, message=message, code=code))

    def raise_if_any(self, detail: str = "The scenario has problems") -> None:
        if self.issues:
            raise ScenarioInvalid(f"{detail}: {len(self.issues)} found", self.issues)


class UnknownFormat(AllocatorError):
    code = "unknown-format"
    title = "Unknown output format"


class DesignUnavailable(AllocatorError):
    code = "design-unavailable"
    title = "Cannot design an agreement"


class PlotUnavailable(AllocatorError):
    code = "plot-unavailable"
    title = "Plotting needs matplotlib"


class SolverUnavailable(RuntimeError):
    """The backend (or the native solver it needs) is not installed."""


class SolverFailed(RuntimeError):
    """The solver library itself broke (not an infeasible or unbounded model)."""
