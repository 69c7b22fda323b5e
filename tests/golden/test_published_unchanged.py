"""Published results stay byte-identical (clocks aside) unless a change means to move them.

The golden files were made from the code before the package layout changed; a diff here
is a change in behaviour. Regenerate deliberately with ``python -m tests.golden.scenarios``.
"""

from __future__ import annotations

import difflib

import pytest

from tests.golden.published import published_form, read_golden
from tests.golden.scenarios import GOLDEN_NAMES, golden_result

SLOW = {"two-regions", "national"}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in GOLDEN_NAMES],
)
def test_published_result_is_byte_identical_to_its_golden_file(name: str) -> None:
    expected = read_golden(name)
    actual = published_form(golden_result(name))
    if actual != expected:
        diff = difflib.unified_diff(
            expected.decode().splitlines(), actual.decode().splitlines(), lineterm="", n=1
        )
        pytest.fail(f"{name}: published result changed:\n" + "\n".join(list(diff)[:40]))
