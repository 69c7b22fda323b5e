"""A fair floor: the fastest solver available here on the very problem our pipeline solves.

    python -m benchmarks.fair_floor [--sizes region] [--repeat 3] [--cap 120] [--out PATH]

Per size (`registry.py`, seed 1) the scenario's weighted single-objective program is built
once by our formulation and written as MPS; each contender then reads that file in a
fresh process and only its solve is timed (median of ``--repeat``): HiGHS with each of its
algorithms (simplex, interior point, PDLP; for a MIP, branch and bound), OR-Tools'
GLOP, PDLP and SCIP through `model_builder`, and CBC (PuLP's binary; its time includes
reading the file, which it cannot separate). A contender that cannot solve the program's
kind (an LP method on a MIP) is listed as not applicable. The floor is the fastest
contender whose objective agrees with HiGHS's within 1e-6 relative; our end to end
weighted solve (`solve_scenario`, explanations off) is measured in the same run and
reported as a ratio to it. Machine load is recorded before each size.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
AGREE = 1e-6

# contender -> (engine, option, whether it solves MIPs, whether it solves LPs)
CONTENDERS: dict[str, tuple[str, str, bool, bool]] = {
    "highs-simplex": ("highs", "simplex", True, True),
    "highs-ipm": ("highs", "ipm", False, True),
    "highs-pdlp": ("highs", "pdlp", False, True),
    "ortools-glop": ("ortools", "glop", False, True),
    "ortools-pdlp": ("ortools", "pdlp", False, True),
    "ortools-scip": ("ortools", "scip", True, True),
    "cbc": ("cbc", "", True, True),
}

WORKER = r"""
import json, sys, time, subprocess
engine, option, path, gap = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
out = {}
if engine == "highs":
    import highspy
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(path)
    h.setOptionValue("mip_rel_gap", gap)
    is_mip = any(int(v) != 0 for v in h.getLp().integrality_)
    if not is_mip:  # a MIP is solved by branch and bound, with simplex inside
        h.setOptionValue("solver", option)
    t = time.perf_counter(); h.run(); out["solve_s"] = time.perf_counter() - t
    out["status"] = h.getModelStatus().name
    out["objective"] = h.getInfo().objective_function_value
elif engine == "ortools":
    from ortools.linear_solver.python import model_builder as mb
    model = mb.Model()
    model.import_from_mps_file(path)
    solver = mb.Solver(option)
    if option == "scip":
        solver.set_solver_specific_parameters(f"limits/gap = {gap}")
    t = time.perf_counter(); status = solver.solve(model); out["solve_s"] = time.perf_counter() - t
    out["status"] = status.name
    out["objective"] = solver.objective_value if status.name in ("OPTIMAL", "FEASIBLE") else None
else:
    import pulp
    cbc = pulp.PULP_CBC_CMD().path
    t = time.perf_counter()
    done = subprocess.run([cbc, path, "-ratio", str(gap), "-solve", "-solu", path + ".sol"],
                          capture_output=True, text=True)
    out["solve_s"] = time.perf_counter() - t
    head = open(path + ".sol").readline()
    out["status"] = head.split()[0] if head else "error"
    out["objective"] = float(head.split("objective value")[1]) if "objective value" in head else None
print(json.dumps(out))
"""


def _write_mps(size_name: str, folder: Path) -> tuple[Path, bool, float]:
    import highspy
    import numpy as np

    from allocator.formulation.formulate import formulate
    from allocator.stages.sequence import stage_sequence
    from benchmarks.floor import _highs_lp
    from benchmarks.registry import get_size, lexicographic, weighted

    scenario = weighted(lexicographic(get_size(size_name)))
    f = formulate(scenario)
    (_, c), *_ = stage_sequence(f)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(_highs_lp(highspy, f.program.with_objective(np.asarray(c, dtype=np.float64))))
    path = folder / f"{size_name}.mps"
    h.writeModel(str(path))
    return path, f.program.is_mip, scenario.objective.mip_gap_share


def _run(contender: str, path: Path, gap: float, cap: float) -> dict[str, Any]:
    engine, option, _, _ = CONTENDERS[contender]
    try:
        done = subprocess.run(
            [sys.executable, "-c", WORKER, engine, option, str(path), str(gap)],
            capture_output=True,
            text=True,
            timeout=cap,
        )
    except subprocess.TimeoutExpired:
        return {"status": f"skipped: > {cap:.0f} s"}
    if done.returncode != 0:
        return {"status": "error", "detail": done.stderr.strip().splitlines()[-1:]}
    record: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return record


def _ours(size_name: str) -> float:
    from allocator.pipeline import solve_scenario
    from benchmarks.registry import get_size, lexicographic, weighted

    scenario = weighted(lexicographic(get_size(size_name)))
    started = time.perf_counter()
    solve_scenario(scenario, explain=False)
    return time.perf_counter() - started


def measure(size_name: str, repeat: int, cap: float) -> dict[str, Any]:
    load = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="fair-floor-"))
    try:
        path, is_mip, gap = _write_mps(size_name, folder)
        rows: dict[str, Any] = {}
        for name, (_, _, mip_ok, lp_ok) in CONTENDERS.items():
            if not (mip_ok if is_mip else lp_ok):
                rows[name] = {"status": "not applicable (the program is a MIP)"}
                continue
            runs = [_run(name, path, gap, cap) for _ in range(repeat)]
            timed = [r["solve_s"] for r in runs if "solve_s" in r]
            rows[name] = {**runs[-1], "solve_s": statistics.median(timed) if timed else None}
        reference = rows["highs-simplex"].get("objective")
        agreeing = {
            name: row["solve_s"]
            for name, row in rows.items()
            if row.get("solve_s") is not None
            and reference is not None
            and row.get("objective") is not None
            and abs(row["objective"] - reference) <= AGREE * max(1.0, abs(reference))
        }
        floor_name = min(agreeing, key=lambda n: agreeing[n]) if agreeing else None
        ours = statistics.median(_ours(size_name) for _ in range(repeat))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    floor_s = agreeing[floor_name] if floor_name else None
    return {
        "size": size_name,
        "mip": is_mip,
        "load_before": load,
        "contenders": rows,
        "floor": floor_name,
        "floor_s": floor_s,
        "ours_end_to_end_s": ours,
        "ratio_to_floor": None if not floor_s else ours / floor_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="region")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cap", type=float, default=120.0, help="seconds per contender run")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "fair_floor.json")
    args = parser.parse_args(argv)
    records = []
    for name in args.sizes.split(","):
        record = measure(name, args.repeat, args.cap)
        records.append(record)
        print(json.dumps(record, default=str), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(records, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
