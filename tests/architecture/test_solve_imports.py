"""`allocator solve` starts fast: it imports only what a plain solve uses.

The command runs in a fresh interpreter on an example; the modules it loaded are read at
exit. (Not timed: what is imported decides the start-up, and it can be checked.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOT_FOR_SOLVE = (
    "api",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "dask",
    "distributed",
    "matplotlib",
    "openpyxl",
    "reportlab",
    "pandas",  # the formulation and publishing use numpy and plain Python
    "pulp",  # the PuLP backend's solver: only with --backend pulp
)
# Our own modules a plain solve has no use for (the risk-aware solve, risk sharing).
NOT_FOR_SOLVE_OURS = ("allocator.riskaware", "allocator.riskshare", "allocator.batch")
# Loaded only when asked for: the other backends, OR-Tools' LP solver (the min-cost flow
# that rounds tables is OR-Tools' too, so `ortools` itself is loaded), the explanations a
# plain solve does not print, files other than the scenario's JSON, and other commands.
ONLY_WHEN_ASKED = (
    "allocator.backends.ortools",
    "allocator.backends.pulp",
    "ortools.linear_solver",
    "allocator.explain.sensitivity",  # --sensitivity
    "allocator.explain.infeasibility",  # an infeasible scenario
    "allocator.explain.trace",
    "allocator.explain.compare",
    "allocator.explain.bridge",
    "allocator.explain.alternatives",
    "allocator.explain.what_it_takes",
    "allocator.explain.verify",
    "allocator.io.excel",  # and the other excel_* modules: a .xlsx scenario or --out
    "allocator.io.result_export",  # --out
    "allocator.io.board_pack",
    "allocator.report",
    "allocator.synth",
    "cli.risk_report",  # a risk-aware result's limits
    "cli.compare",
    "cli.report",
    "cli.batch",
    "cli.serve",
    "cli.validate",
)
PROBE = """
import atexit, json, runpy, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["allocator", "solve", sys.argv[2]]
runpy.run_module("cli.app", run_name="__main__")
"""


def _solve_modules(tmp_path: Path, example: str) -> list[str]:
    """The modules loaded by `allocator solve` on ``data/<example>/<example>.json``."""
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), str(ROOT / "data" / example / f"{example}.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modules: list[str] = json.loads(out.read_text())
    assert "allocator.pipeline" in modules and "highspy" in modules  # the probe really solved
    return modules


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    # A prefix names a module and its submodules; "allocator.io.excel" names excel_* too.
    return any(module == p or module.startswith((p + ".", p + "_")) for p in prefixes)


def test_solve_does_not_import_the_service_dask_pandas_or_plotting(tmp_path: Path) -> None:
    modules = _solve_modules(tmp_path, "tiny")
    loaded = {name.split(".")[0] for name in modules}
    assert sorted(loaded.intersection(NOT_FOR_SOLVE)) == []
    assert [m for m in modules if _within(m, NOT_FOR_SOLVE_OURS)] == []


@pytest.mark.parametrize("example", ["tiny", "realistic"])
def test_solve_imports_only_the_chosen_backend_and_what_it_prints(
    tmp_path: Path, example: str
) -> None:
    modules = _solve_modules(tmp_path, example)
    assert "allocator.backends.highs" in modules  # the default backend
    assert [m for m in modules if _within(m, ONLY_WHEN_ASKED)] == []


def test_the_probe_sees_a_module_that_is_loaded() -> None:
    # The check above is by name: make sure a name it lists would be caught.
    assert _within("allocator.io.excel_read", ONLY_WHEN_ASKED)
    assert _within("ortools.linear_solver.python.model_builder_helper", ONLY_WHEN_ASKED)
    assert not _within("ortools.graph.python.min_cost_flow", ONLY_WHEN_ASKED)
