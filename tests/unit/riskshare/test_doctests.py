"""The worked examples in the riskshare docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["scaling", "agreements", "volume", "pooled", "measures", "histogram", "curve"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"allocator.riskshare.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
