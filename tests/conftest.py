"""Shared fixtures and hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from models import Scenario

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

settings.register_profile(
    "ci",
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def load(path: Path) -> Scenario:
    return Scenario.model_validate_json(path.read_text())


@pytest.fixture(scope="session")
def tiny() -> Scenario:
    return load(DATA / "tiny" / "tiny.json")
