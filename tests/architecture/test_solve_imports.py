"""`allocator solve` starts fast: it never imports the service, Dask, pandas, plotting or Excel.

The command runs in a fresh interpreter on the tiny example; the modules it loaded are
read at exit. (Not timed: what is imported decides the start-up, and it can be checked.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    "pandas",  # the formulation and publishing use numpy and plain Python
)
# Our own modules a plain solve has no use for (the risk-aware solve, risk sharing).
NOT_FOR_SOLVE_OURS = ("allocator.riskaware", "allocator.riskshare", "allocator.batch")
PROBE = """
import atexit, json, runpy, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["allocator", "solve", sys.argv[2]]
runpy.run_module("cli.app", run_name="__main__")
"""


def test_solve_does_not_import_the_service_dask_pandas_or_plotting(tmp_path: Path) -> None:
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), str(ROOT / "data" / "tiny" / "tiny.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads(out.read_text())
    loaded = {name.split(".")[0] for name in modules}
    assert "allocator" in loaded and "highspy" in loaded  # the probe really solved
    assert sorted(loaded.intersection(NOT_FOR_SOLVE)) == []
    ours = [m for m in modules if any(m == o or m.startswith(o + ".") for o in NOT_FOR_SOLVE_OURS)]
    assert ours == []
