"""Load a scenario file of either format, with every issue found in it."""

from __future__ import annotations

from pathlib import Path

from allocator.errors import Issue, ScenarioInvalid
from allocator.validate import blocking
from allocator.validate.common import UNREADABLE
from models import Scenario

__all__ = ["SUFFIXES", "UNREADABLE", "load_and_validate", "load_scenario"]


SUFFIXES = (".json", ".xlsx")


def _unreadable(message: str) -> tuple[None, list[Issue]]:
    return None, [Issue(loc=(), message=message, code=UNREADABLE)]


def load_and_validate(path: str | Path) -> tuple[Scenario | None, list[Issue]]:
    """Read a ``.json`` or ``.xlsx`` scenario; never raises for what the file contains.

    Returns every issue (parse and semantic, blocking and warnings) and the scenario when
    nothing blocks, else None. A file that cannot be read at all gives one issue with
    code ``"unreadable"``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        hint = (
            " (save the workbook as .xlsx)" if suffix in (".xls", ".xlsm", ".ods", ".csv") else ""
        )
        return _unreadable(
            f"{path.name}: unsupported file type {suffix or '(none)'!r}; use .json or .xlsx{hint}"
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _unreadable(f"{path}: no such file")
    except IsADirectoryError:
        return _unreadable(f"{path}: is a folder, not a file")
    except OSError as err:
        return _unreadable(f"{path}: cannot be read ({err.strerror or err})")
    if suffix == ".json":
        from allocator.io.json_io import read_json_bytes

        return read_json_bytes(data)
    from allocator.io.excel import read_workbook_bytes

    return read_workbook_bytes(data)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file, or raise `ScenarioInvalid` with every blocking issue."""
    scenario, issues = load_and_validate(path)
    problems = blocking(issues)
    if scenario is None or problems:
        raise ScenarioInvalid(
            f"{Path(path).name} has {len(problems)} problem(s)", problems or issues
        )
    return scenario
