"""Applies the rule knockout named by ``ALLOCATOR_KNOCKOUT`` (see `tests.knockout`)."""

from __future__ import annotations

import pytest

from tests.knockout import apply_knockout


@pytest.fixture(autouse=True)
def _knockout(monkeypatch: pytest.MonkeyPatch) -> None:
    apply_knockout(monkeypatch)
