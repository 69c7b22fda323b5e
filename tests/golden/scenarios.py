"""The scenarios whose published results are kept as golden files, and how to regenerate them.

``python -m tests.golden.scenarios [NAME ...]`` rewrites the golden files from the current
code: do it only when a change is meant to move published figures, and say in the commit
which figures moved and why.
"""

from __future__ import annotations

import sys

from allocator.pipeline import solve_scenario
from allocator.synth.generator import generate_scenario
from benchmarks.registry import DEFAULT_SIZES, SIZES
from models import Scenario
from models.results import AllocationResult
from tests.conftest import DATA, load
from tests.golden.published import write_golden

GOLDEN_NAMES = ("tiny", "realistic", *DEFAULT_SIZES)


def golden_scenario(name: str) -> Scenario:
    if name in ("tiny", "realistic"):
        return load(DATA / name / f"{name}.json")
    size = SIZES[name]
    return generate_scenario(size.config, seed=size.seed)


def golden_result(name: str) -> AllocationResult:
    return solve_scenario(golden_scenario(name))


if __name__ == "__main__":
    for golden_name in sys.argv[1:] or GOLDEN_NAMES:
        write_golden(golden_name, golden_result(golden_name))
        print(f"wrote {golden_name}")
