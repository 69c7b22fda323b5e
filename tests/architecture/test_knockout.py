"""The rule knockout check runs in the long suite: every rule family's removal is noticed."""

from __future__ import annotations

import pytest

from tests.knockout import ENV, main


@pytest.mark.slow
def test_every_rule_knockout_is_caught(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert main() == 0
    out = capsys.readouterr().out
    assert "NOT caught" not in out
