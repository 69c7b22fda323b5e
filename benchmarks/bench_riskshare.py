"""Risk-sharing benchmark: 100,000 draws × 200 providers of sharing arithmetic and simulation.

``python benchmarks/bench_riskshare.py [--draws N] [--providers P] [--repeat R] [--out PATH]``

Times, best of ``--repeat`` runs each, on seeded inputs:

* ``share``: :func:`allocator.riskshare.share_variance` on a ``(draws, providers)`` int64
  variance under a mix of agreements (a three-band corridor with caps both ways, a 50/50
  split, a gain-share, no agreement), outputs freshly allocated as in real use;
* ``simulate``: :func:`allocator.riskshare.simulate_outturn` with 8 segments;
* ``measures``: :func:`allocator.riskshare.tail_measures` (mean, VaR, CVaR, SEs) per column.

Reports draws × providers per second and writes JSON to ``--out`` (default
``benchmarks/out/riskshare.json``), which ``python -m benchmarks --all`` folds into RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from allocator.riskshare import (
    PROVIDER_BEARS_ALL,
    compile_agreements,
    share_variance,
    simulate_outturn,
    tail_measures,
)
from models.risk import OutturnVolatility, RiskShareAgreement, VarianceBand

M = 100_000_000  # £1m in pence
SEGMENTS = 8


def agreements(providers: int) -> list[RiskShareAgreement]:
    corridor = (
        VarianceBand(width_pence=2 * M, provider_share=1.0),
        VarianceBand(width_pence=10 * M, provider_share=0.5),
        VarianceBand(provider_share=0.25),
    )
    kinds = [
        RiskShareAgreement(
            agreement_id="corridor",
            overspend_bands=corridor,
            underspend_bands=corridor,
            loss_cap_pence=15 * M,
            gain_cap_pence=10 * M,
        ),
        RiskShareAgreement(
            agreement_id="half",
            overspend_bands=(VarianceBand(provider_share=0.5),),
            underspend_bands=(VarianceBand(provider_share=0.5),),
        ),
        RiskShareAgreement(
            agreement_id="gain-share",
            overspend_bands=(VarianceBand(width_pence=M, provider_share=1.0),),
            underspend_bands=(VarianceBand(width_pence=5 * M, provider_share=0.2),),
            gain_cap_pence=M,
        ),
        PROVIDER_BEARS_ALL,
    ]
    return [kinds[k % len(kinds)] for k in range(providers)]


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--providers", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "out" / "riskshare.json"
    )
    args = parser.parse_args(argv)
    n, p = args.draws, args.providers
    rng = np.random.default_rng(1)
    budgets = rng.integers(5 * M, 500 * M, size=p)
    mix = rng.dirichlet(np.ones(SEGMENTS), size=p)
    volatility = OutturnVolatility()
    table = compile_agreements(agreements(p))

    variance = simulate_outturn(budgets, mix, volatility, draws=n, seed=1).variance_pence
    timings = {
        "share_s": best(lambda: share_variance(variance, table), args.repeat),
        "simulate_s": best(
            lambda: simulate_outturn(budgets, mix, volatility, draws=n, seed=1), args.repeat
        ),
        "measures_s": best(lambda: tail_measures(variance, 0.95), args.repeat),
    }
    cells = n * p
    record: dict[str, Any] = {
        "draws": n,
        "providers": p,
        "segments": SEGMENTS,
        "repeat": args.repeat,
        **{key: round(value, 4) for key, value in timings.items()},
        "share_cells_per_s": round(cells / timings["share_s"]),
        "simulate_cells_per_s": round(cells / timings["simulate_s"]),
        "measures_cells_per_s": round(cells / timings["measures_s"]),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    for key, value in record.items():
        print(f"{key:>38}: {value}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
