"""Solved results of the realistic and tiny examples, for the board pack and report tests."""

from __future__ import annotations

import pytest

from allocator.pipeline import solve_scenario
from models import Scenario
from models.results import AllocationResult
from tests.conftest import DATA, load


@pytest.fixture(scope="session")
def realistic() -> Scenario:
    return load(DATA / "realistic" / "realistic.json")


@pytest.fixture(scope="session")
def realistic_result(realistic: Scenario) -> AllocationResult:
    return solve_scenario(realistic)


@pytest.fixture(scope="session")
def tiny_result(tiny: Scenario) -> AllocationResult:
    return solve_scenario(tiny)
