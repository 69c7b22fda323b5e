"""Batch throughput: a sweep on the realistic example with 1 and 2 workers, exact and warm.

    python -m benchmarks.bench_batch [--runs 1000] [--configs exact-1,warm-1,exact-2,warm-2]
                                     [--out benchmarks/out/batch.json]

Each configuration runs the same sweep (pot growth × frailty demand × provider pace
floor, cut to ``--runs``) into a fresh output folder and reports runs per second over the
whole `run_batch` call (workers' start-up, solving, recording, tables). Warm runs are
compared with the exact ones, run for run: how many differ in any provider budget or
place allocation, and by how many pence at most. Prints a markdown table and writes JSON
after every configuration (so a time cap still leaves the finished ones). Not collected
by pytest; nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from allocator.batch import BatchSpec, RunStore, run_batch  # noqa: E402

REALISTIC = ROOT / "data" / "realistic" / "realistic.json"
# One worker first, so a run stopped by a time cap still compares warm with exact.
CONFIGS = ("exact-1", "warm-1", "exact-2", "warm-2")


def sweep(runs: int, reuse: str) -> BatchSpec:
    """A pot × demand × floor grid on the realistic example with at least ``runs`` runs."""
    pots = [round(-0.02 + 0.005 * k, 4) for k in range(10)]
    demand = [round(0.005 * k, 4) for k in range(10)]
    floors = [round(0.0015 * k, 4) for k in range(10)]
    per_floor = len(pots) * len(demand)
    floors = floors[: max(1, -(-runs // per_floor))]
    doc = {
        "name": f"bench-{reuse}",
        "base": str(REALISTIC),
        "grid": [
            {
                "name": "provider_floor",
                "change": {"kind": "pace_of_change", "rule_id": "provider-pace"},
                "field": "floor_growth_share",
                "values": floors,
            },
            {"name": "pot_growth", "change": {"kind": "pot_growth"}, "values": pots},
            {
                "name": "frailty_demand",
                "change": {"kind": "demand_growth", "segment_id": "frailty"},
                "values": demand,
            },
        ],
        "options": {"reuse": reuse, "chunk_size": 25},
    }
    return BatchSpec.model_validate(doc)


def allocations(store_dir: Path) -> dict[int, tuple[str, dict[str, int | None]]]:
    """Each run's status and published budgets (providers) and allocations (places)."""
    store = RunStore(store_dir)
    out: dict[int, tuple[str, dict[str, int | None]]] = {}
    for run_id in store.finished_ids():
        record = store.load(run_id)
        figures = {f"p:{p.provider_id}": p.budget_pence for p in record.providers}
        figures.update({f"u:{u.place_id}": u.allocation_pence for u in record.places})
        out[record.run_index] = (record.status, figures)
    return out


def run_config(name: str, runs: int, work: Path) -> dict[str, Any]:
    reuse, workers = name.split("-")
    spec = sweep(runs, reuse)
    out = work / name
    started = time.perf_counter()
    summary = run_batch(spec, workers=int(workers), store_dir=out, excel=False)
    elapsed = time.perf_counter() - started
    return {
        "config": name,
        "reuse": reuse,
        "workers": int(workers),
        "runs": summary.solved,
        "elapsed_s": round(elapsed, 2),
        "runs_per_s": round(summary.solved / elapsed, 2),
        "statuses": summary.statuses,
        "reuse_counts": summary.reuse,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def compare(exact: Path, warm: Path) -> dict[str, Any]:
    a, b = allocations(exact), allocations(warm)
    differing, worst = 0, 0
    for index, (status, figures) in a.items():
        other_status, other = b.get(index, ("missing", {}))
        gaps = [
            abs((v or 0) - (other.get(k) or 0)) for k, v in figures.items() if v != other.get(k)
        ]
        if gaps or status != other_status:
            differing += 1
            worst = max([worst, *gaps])
    return {"runs_compared": len(a), "runs_differing": differing, "max_difference_pence": worst}


def render(doc: dict[str, Any]) -> str:
    lines = [
        f"Batch throughput, realistic example, {doc['runs']} runs "
        f"({doc['machine']['cores']} cores, load {doc['machine']['load_average']})",
        "",
        "| configuration | workers | runs | seconds | runs/s | in place | warm rebuilds | cache hits |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["results"]:
        counts = r["reuse_counts"]
        lines.append(
            f"| {r['reuse']} | {r['workers']} | {r['runs']} | {r['elapsed_s']:.1f} | "
            f"{r['runs_per_s']:.2f} | {counts.get('in_place_updates', 0)} | "
            f"{counts.get('warm_rebuilds', 0)} | {counts.get('cache_hits', 0)} |"
        )
    for key, value in doc.get("warm_vs_exact", {}).items():
        lines.append("")
        lines.append(
            f"{key}: {value['runs_differing']} of {value['runs_compared']} runs differ from exact "
            f"(largest difference {value['max_difference_pence']} p)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--out", type=Path, default=HERE / "out" / "batch.json")
    args = parser.parse_args(argv)
    doc: dict[str, Any] = {
        "runs": args.runs,
        "machine": {
            "cores": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "results": [],
        "warm_vs_exact": {},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        work = Path(tmp)
        for name in args.configs.split(","):
            print(f"running {name} ...", file=sys.stderr)
            doc["results"].append(run_config(name, args.runs, work))
            reuse, workers = name.split("-")
            if reuse == "warm" and (work / f"exact-{workers}").exists():
                doc["warm_vs_exact"][name] = compare(work / f"exact-{workers}", work / name)
            args.out.write_text(json.dumps(doc, indent=1))
    print(render(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
