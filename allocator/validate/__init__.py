"""Validation: every problem of a scenario at once, each located by its path (and, for a
workbook, its sheet and row). Parse errors (`parse_errors`) and semantic checks
(`scenario`, `references`, `funding`) produce issues of one shape (`allocator.errors.Issue`);
`blocking` keeps those that stop a solve, `warnings` the rest.
"""

from __future__ import annotations

from allocator.validate.common import WARNING, ParseContext
from allocator.validate.parse_errors import issues_from_validation_error
from allocator.validate.scenario_checks import blocking, validate_scenario, warnings

__all__ = [
    "WARNING",
    "ParseContext",
    "blocking",
    "issues_from_validation_error",
    "validate_scenario",
    "warnings",
]
