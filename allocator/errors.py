"""Every error the domain raises. No HTTP knowledge here: `api/errors.py` maps these."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Issue:
    """One located problem in an input.

    ``loc`` is the path inside the scenario document (``("providers", 3, "baseline_pence")``);
    ``sheet`` and ``row`` locate it in a workbook (row as Excel shows it) when it came from one.
    """

    loc: tuple[str | int, ...]
    message: str
    sheet: str | None = None
    row: int | None = None
    code: str = "invalid"

    def where(self) -> str:
        """Human location: ``sheet 'Providers' row 5, providers[3].baseline_pence``."""
        path = ""
        for part in self.loc:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        parts = []
        if self.sheet is not None:
            parts.append(f"sheet '{self.sheet}'" + (f" row {self.row}" if self.row else ""))
        if path:
            parts.append(path)
        return ", ".join(parts) or "(document)"

    def to_dict(self) -> dict[str, object]:
        return {
            "loc": list(self.loc),
            "message": self.message,
            "sheet": self.sheet,
            "row": self.row,
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
