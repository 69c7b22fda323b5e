"""The lexicographic pipeline end to end, and whether its explanation reads the published optima.

    python -m benchmarks.bench_stages [--sizes region,national] [--repeat 1] [--out PATH]

Per size (`registry.py`, seed 1): `solve_scenario` with explanations, timed end to end
(median of ``--repeat``) with its phases; the time of each stage's solves (the integer
search, then the fixed-integer LP chain); and the check of issue 18: the stage optima the
explanation's duals come from against the searched optima and the published ones, as
relative differences. A stage whose explanation optimum lies outside the hold of the
published one is a failure (exit 1).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RELATIVE = 1e-7


SAMPLER = """
import sys, time
pid, out = sys.argv[1], sys.argv[2]
with open(out, "w") as sink:
    while True:
        try:
            with open(f"/proc/{pid}/status") as status:
                kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
        except (OSError, StopIteration):
            break
        sink.write(f"{time.time()} {kb}\\n")
        sink.flush()
        time.sleep(0.01)
"""


def _rss_by_phase(samples: Path, started: float, timings: dict[str, float]) -> dict[str, float]:
    """Peak resident memory (MiB) in each phase of one run, from the sampler's readings."""
    edges, at = {}, started
    for phase in ("validate_s", "build_s", "solve_s", "assemble_s"):
        edges[phase.removesuffix("_s")] = (at, at + timings[phase])
        at += timings[phase]
    peaks = dict.fromkeys(edges, 0.0)
    for line in samples.read_text().splitlines():
        t, kb = line.split()
        for phase, (lo, hi) in edges.items():
            if lo <= float(t) <= hi:
                peaks[phase] = max(peaks[phase], int(kb) / 1024)
    return peaks


def measure(size_name: str, repeat: int) -> dict[str, Any]:
    from allocator.explain.shadow import stage_duals
    from allocator.formulation.formulate import formulate
    from allocator.pipeline import solve_options, solve_scenario
    from allocator.stages.sequence import held_bound, solve_sequence
    from benchmarks.registry import get_size, lexicographic

    scenario = lexicographic(get_size(size_name))
    totals, phases = [], []
    result = None
    samples = HERE / "out" / f"rss-{size_name}.txt"
    samples.parent.mkdir(parents=True, exist_ok=True)
    sampler = subprocess.Popen([sys.executable, "-c", SAMPLER, str(os.getpid()), str(samples)])
    try:
        time.sleep(0.1)
        wall = time.time()
        for _ in range(repeat):
            started = time.perf_counter()
            result = solve_scenario(scenario)
            totals.append(time.perf_counter() - started)
            phases.append(result.timings.model_dump())
    finally:
        sampler.terminate()
        sampler.wait()
    assert result is not None
    rss = _rss_by_phase(samples, wall, phases[0])
    assert result is not None
    f = formulate(scenario)
    options = solve_options(scenario)
    outcome = solve_sequence(f, "highs", options)
    duals = stage_duals(f, outcome, "highs", options)
    tolerance = scenario.objective.stage_tolerance_share
    stages = []
    ok = duals is not None
    for k, st in enumerate(outcome.lp_stages):
        searched = outcome.stages[k] if k < len(outcome.stages) else None
        published = st.solution.objective
        explained = None if duals is None else float(st.objective @ duals.stages[k].x)
        row: dict[str, Any] = {
            "stage": str(st.stage),
            "search_s": None if searched is None else searched.solution.solve_time_s,
            "chain_s": st.solution.solve_time_s if outcome.chain else None,
            "searched": None if searched is None else searched.solution.objective,
            "published": published,
            "explained": explained,
        }
        if published is not None and explained is not None:
            scale = max(1.0, abs(published))
            row["explained_vs_published"] = abs(explained - published) / scale
            ok &= row["explained_vs_published"] <= RELATIVE
        if searched is not None and searched.solution.objective is not None and published:
            bound = held_bound(searched.solution.objective, tolerance, searched.stage)
            row["published_within_hold"] = published <= bound + RELATIVE * max(1.0, abs(bound))
            ok &= row["published_within_hold"]
        stages.append(row)
    return {
        "size": size_name,
        "mip": f.program.is_mip,
        "end_to_end_s": statistics.median(totals),
        "runs_s": totals,
        "phases": phases,
        "peak_rss_mib_by_phase": rss,
        "stages": stages,
        "notes": result.notes,
        "consistent": bool(ok),
        "load": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="region,national")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "stages.json")
    args = parser.parse_args(argv)
    records = []
    for name in args.sizes.split(","):
        record = measure(name, args.repeat)
        records.append(record)
        print(json.dumps(record, default=str), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(records, indent=2, default=str))
    return 0 if all(r["consistent"] for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
