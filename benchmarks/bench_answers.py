"""Alternatives and "what would it take" on the realistic example, timed against one solve.

    python -m benchmarks.bench_answers [--repeat 3] [--out benchmarks/out/answers.json]

Each answer is timed end to end (median of ``--repeat``) and divided by one full
`solve_scenario` of the same scenario: the target for "what would it take" is under 10x.
Also counts, per answer, the linear solves and the full solves that confirmed it, and,
for the pot questions, the independent penny bisection's answer and how many full solves
it needed (so the saving is measured, not assumed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from allocator.explain.alternatives import alternatives
from allocator.explain.pace_cap import pace_cap_for_band
from allocator.explain.scheme_entry import scheme_entry
from allocator.explain.what_it_takes import meets, smallest_pot, with_pot_change
from allocator.io.load import load_scenario
from allocator.pipeline import solve_scenario
from models import Scenario

REALISTIC = Path(__file__).parents[1] / "data" / "realistic" / "realistic.json"
POT_QUESTIONS: list[tuple[str | None, float | None]] = [
    (None, 0.01),
    ("ICB", 0.01),
    (None, None),
    ("BCF", None),
]


def best_of(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """(median seconds over ``repeat`` runs, the last run's answer)."""
    times, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def bisection(
    scenario: Scenario, funder: str | None, bound: float | None, near: int
) -> tuple[int, int]:
    """(answer, full solves): a plain penny bisection from £10m either side of ``near``."""
    lo, hi, solves = near - 1_000_000_000, near + 1_000_000_000, 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        solves += 1
        if meets(with_pot_change(scenario, funder, mid), bound, "highs")[0]:
            hi = mid
        else:
            lo = mid
    return hi, solves


def loose_pace(scenario: Scenario) -> Scenario:
    """Pace caps at 50%: the frailty hub's place can then take it, and it leaves the plan at
    an edge set by the value it adds (the general case of the scheme answer)."""
    rules = tuple(
        r.model_copy(update={"cap_growth_share": 0.5}) if r.cap_growth_share is not None else r
        for r in scenario.pace_of_change
    )
    return scenario.model_copy(update={"pace_of_change": rules})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/answers.json"))
    args = parser.parse_args()
    scenario = load_scenario(REALISTIC)
    one, _ = best_of(args.repeat, lambda: solve_scenario(scenario))
    records: list[dict[str, Any]] = [{"answer": "one solve", "seconds": one, "ratio": 1.0}]
    seconds, menu = best_of(
        args.repeat, lambda: alternatives(scenario, "acute vs community", 0.005)
    )
    records.append(
        {
            "answer": "alternatives, acute vs community, within 0.5%, 3 options",
            "seconds": seconds,
            "ratio": seconds / one,
            "change_from_optimum_pence": [a.change_from_optimum_pence for a in menu.alternatives],
        }
    )
    for funder, bound in POT_QUESTIONS:
        seconds, answer = best_of(
            args.repeat,
            lambda f=funder, b=bound: smallest_pot(scenario, max_shortfall=b, funder_id=f),
        )
        expected, solves = bisection(scenario, funder, bound, answer.change_pence)
        records.append(
            {
                "answer": answer.question,
                "seconds": seconds,
                "ratio": seconds / one,
                "change_pence": answer.change_pence,
                "bisection_pence": expected,
                "difference_pence": answer.change_pence - expected,
                "method": answer.method,
                "linear_solves": answer.linearisations,
                "full_solves": answer.full_solves,
                "bisection_full_solves": solves,
            }
        )
    seconds, entry = best_of(args.repeat, lambda: scheme_entry(scenario, "virtual-ward"))
    records.append(
        {
            "answer": "pot at which virtual-ward leaves the plan",
            "seconds": seconds,
            "ratio": seconds / one,
            "full_solves": entry.full_solves,
            "probes": entry.probes,
            "method": entry.method,
        }
    )
    loose = loose_pace(scenario)
    loose_one, _ = best_of(args.repeat, lambda: solve_scenario(loose))
    seconds, entry = best_of(args.repeat, lambda: scheme_entry(loose, "frailty-hub"))
    records.append(
        {
            "answer": "pot at which frailty-hub leaves the plan, pace caps at 50%",
            "seconds": seconds,
            "ratio": seconds / loose_one,
            "one_solve_seconds": loose_one,
            "full_solves": entry.full_solves,
            "probes": entry.probes,
            "method": entry.method,
        }
    )
    seconds, pace = best_of(
        args.repeat,
        lambda: pace_cap_for_band(scenario, by_year=1, band_share=0.05, parameter="floor"),
    )
    records.append(
        {
            "answer": "place floor for every place within 5% in year 1",
            "seconds": seconds,
            "ratio": seconds / one,
            "plans": pace.plans,
        }
    )
    records.append({"answer": "load average (1, 5, 15 min)", "load": list(os.getloadavg())})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(records, indent=1))
    for record in records:
        if "load" in record:
            print(f"load average: {record['load']}")
            continue
        extra = ""
        if "difference_pence" in record:
            extra = (
                f"  {record['method']}, {record['full_solves']} full solves "
                f"(bisection {record['bisection_full_solves']}), "
                f"off the bisection by {record['difference_pence']}p"
            )
        print(f"{record['answer']}: {record['seconds']:.3f} s = {record['ratio']:.1f}x{extra}")


if __name__ == "__main__":
    main()
