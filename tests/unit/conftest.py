"""Fixtures for the validation and file-format tests: the tiny example as an editable document."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from allocator.errors import Issue
from tests.conftest import DATA

TINY_DOCUMENT: dict[str, Any] = json.loads((DATA / "tiny" / "tiny.json").read_text())


@pytest.fixture
def tiny_doc() -> dict[str, Any]:
    """A fresh, editable copy of data/tiny/tiny.json as a dict."""
    return copy.deepcopy(TINY_DOCUMENT)


def find(issues: list[Issue], loc: tuple[str | int, ...], fragment: str = "") -> Issue:
    """The issue at ``loc`` whose message contains ``fragment``, or fail listing all issues."""
    for issue in issues:
        if issue.loc == loc and fragment.lower() in issue.message.lower():
            return issue
    listing = "\n".join(f"  {i.loc} [{i.code}] {i.message}" for i in issues)
    raise AssertionError(f"no issue at {loc} containing {fragment!r}; got:\n{listing}")


@pytest.fixture
def find_issue() -> Callable[..., Issue]:
    return find
