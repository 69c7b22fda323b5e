"""Timed phases of every contender, each run in a fresh worker process.

A worker (``python -m benchmarks.phases SPEC OUT``) draws the size's scenario from its
seed, notes its resident memory, runs one contender and writes a JSON record: the
phase timings, the objective it reached and the model's size. The parent starts it in
its own session, caps its wall-clock time (killing the whole process group, CBC
included, when the cap is reached) and reads the worker's peak resident memory from
``os.wait4``: the honest per-process figure, since nothing else ran in that process.

Contenders (`CONTENDERS`):

* ``highs``, ``ortools``, ``pulp``: our pipeline (`allocator.pipeline.solve_scenario`,
  explanations off) on the weighted scenario, with each backend;
* ``pulp-rowwise``: the same model written row by row in PuLP (`benchmarks.pulp_rowwise`),
  solved through PuLP's HiGHS (highspy) interface;
* ``floor``: our built matrix handed straight to HiGHS (`benchmarks.floor`);
* ``lexicographic``: our default pipeline end to end (every stage, explanations on, HiGHS);
  ``lexicographic-ortools`` and ``lexicographic-pulp``: the same with the other backends,
  so the report shows which backend is fastest on the default objective;
* ``profile`` (not a contender: run once, at the largest size): cProfile of our build and
  publish phases on the default scenario, for the report's list of costliest functions.
"""

from __future__ import annotations

import cProfile
import importlib
import json
import os
import pstats
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pulp

from benchmarks.registry import SMOKE_SIZES, BenchSize, lexicographic, size_from_json, weighted

REPO = Path(__file__).resolve().parents[1]
OURS = ("highs", "ortools", "pulp")
# The default (lexicographic) pipeline with the other backends ("lexicographic" is HiGHS).
LEXICOGRAPHIC_OTHERS = ("lexicographic-ortools", "lexicographic-pulp")
CONTENDERS = (*OURS, "pulp-rowwise", "floor", "lexicographic", *LEXICOGRAPHIC_OTHERS)
# May not finish at national: capped at the size's slow_cap_s.
SLOW = ("ortools", "pulp", *LEXICOGRAPHIC_OTHERS)


def _rss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# In the worker -------------------------------------------------------------------------------


def _ours(scenario: Any, backend: str, explain: bool) -> dict[str, Any]:
    from allocator.pipeline import solve_scenario

    started = time.perf_counter()
    result = solve_scenario(scenario, backend=backend, explain=explain)
    e2e = time.perf_counter() - started
    t = result.timings
    stages = [
        {"stage": st.stage, "status": st.status, "objective": st.objective, "s": st.solve_time_s}
        for st in result.stages
    ]
    return {
        "status": result.status,
        # the last stage that optimises (the tie-break after it only picks among its optima)
        "objective": next(
            (st.objective for st in reversed(result.stages) if st.stage != "tie_break"), None
        ),
        "validate_s": t.validate_s,
        "build_s": t.build_s,
        "solve_s": t.solve_s,
        "solver_s": sum(st.solve_time_s for st in result.stages),
        "publish_s": max(e2e - t.validate_s - t.build_s - t.solve_s, 0.0),
        "e2e_s": e2e,
        "stages": stages,
        "rows": result.model_size.rows,
        "cols": result.model_size.columns,
        "nnz": result.model_size.nonzeros,
        "integer_cols": result.model_size.integer_columns,
    }


def _rowwise(scenario: Any) -> dict[str, Any]:
    from benchmarks.pulp_rowwise import build_rowwise

    model = build_rowwise(scenario)
    out = solve_rowwise(model, mip_gap=scenario.objective.mip_gap_share)
    return {
        **out,
        "build_s": model.build_s,
        "e2e_s": model.build_s + out["solve_s"],
        "rows": model.num_rows,
        "cols": model.num_cols,
        "nnz": sum(len(row) for row in model.prob.constraints.values()),
        "integer_cols": model.integer_cols,
    }


def _floor(scenario: Any) -> dict[str, Any]:
    from allocator.formulation.formulate import formulate
    from allocator.stages.sequence import stage_sequence
    from benchmarks.floor import solve_floor

    started = time.perf_counter()
    formulation = formulate(scenario)
    built = time.perf_counter() - started
    (_, c), *_ = stage_sequence(formulation)  # the weighted stage (a tie-break follows)
    program = formulation.program
    floor = solve_floor(program, c, mip_gap=scenario.objective.mip_gap_share)
    return {
        **floor.to_json(),
        "build_s": built,
        "rows": program.num_rows,
        "cols": program.num_cols,
        "nnz": program.num_nonzeros,
        "integer_cols": int(program.is_integer.sum()),
    }


def _top(profile: cProfile.Profile, limit: int = 12) -> dict[str, Any]:
    """The costliest functions of a profile: ours by cumulative time, anyone's by own time."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    rows = []
    for (path, line, func), (_, calls, own, cumulative, _) in stats.items():
        where = Path(path)
        short = str(where.relative_to(REPO)) if where.is_relative_to(REPO) else where.name
        if "site-packages" in path:
            short = path.split("site-packages/", 1)[1]
        rows.append(
            {"where": f"{short}:{line} {func}", "calls": calls, "own_s": own, "cum_s": cumulative}
        )
    ours = [r for r in rows if r["where"].startswith(("allocator/", "models/"))]
    return {
        "total_s": max((r["cum_s"] for r in rows), default=0.0),
        "ours_by_cumulative": sorted(ours, key=lambda r: -r["cum_s"])[:limit],
        "all_by_own_time": sorted(rows, key=lambda r: -r["own_s"])[:limit],
    }


def _profile(scenario: Any) -> dict[str, Any]:
    """cProfile of our build (formulate) and publish (plan, rules, assemble) on ``scenario``."""
    from allocator.backends.interface import SolveOptions
    from allocator.formulation.formulate import formulate
    from allocator.publish.assemble import assemble
    from allocator.publish.pence_plan import plan_pence
    from allocator.publish.rule_lines import rule_rows
    from allocator.stages.sequence import solve_sequence
    from models.results import Timings

    formulate(scenario)  # warm: first-call imports and caches are not the build
    build = cProfile.Profile()
    formulation = build.runcall(formulate, scenario)
    options = SolveOptions(mip_gap=scenario.objective.mip_gap_share)
    outcome = solve_sequence(formulation, "highs", options)
    x = outcome.final.x
    if x is None:
        return {"status": outcome.final.termination.reason.value, "build": _top(build)}

    def publish() -> None:
        plan = plan_pence(formulation, x)
        lines = [r.line for r in rule_rows(formulation, x)]
        assemble(formulation, outcome, plan, Timings(), lines)

    publish_profile = cProfile.Profile()
    publish_profile.runcall(publish)
    return {"status": "optimal", "build": _top(build), "publish": _top(publish_profile)}


def _run(contender: str, scenario: Any) -> dict[str, Any]:
    if contender in OURS:
        return _ours(weighted(scenario), contender, explain=False)
    if contender == "pulp-rowwise":
        return _rowwise(weighted(scenario))
    if contender == "floor":
        return _floor(weighted(scenario))
    if contender == "lexicographic":
        return _ours(scenario, "highs", explain=True)
    if contender in LEXICOGRAPHIC_OTHERS:
        return _ours(scenario, contender.removeprefix("lexicographic-"), explain=True)
    if contender == "profile":
        return _profile(scenario)
    raise ValueError(f"unknown contender {contender!r}; known: {', '.join(CONTENDERS)}")


def run_contender(contender: str, size: BenchSize, *, warm: bool = True) -> dict[str, Any]:
    """Draw the size's scenario and run one contender on it (in this process).

    With ``warm``, the contender first runs once, untimed, on the tiny smoke scenario, so
    first-call costs (lazy imports, caches) are not charged to any phase: the figures are
    steady-state, as they would be in a server or a batch run.
    """
    scenario = lexicographic(size)
    scenario_hash = scenario.content_hash()
    for module in ("allocator.pipeline", "benchmarks.pulp_rowwise", "benchmarks.floor", "highspy"):
        importlib.import_module(module)
    if warm:
        _run(contender, lexicographic(SMOKE_SIZES["tiny"]))
    # Every contender has done the same imports (and a tiny warm-up) before this baseline,
    # so "peak - baseline" is the memory its work needs, comparable between contenders.
    baseline_kib = _rss_kib()
    out = _run(contender, scenario)
    return {
        **out,
        "contender": contender,
        "scenario_hash": scenario_hash,
        "baseline_rss_kib": baseline_kib,
    }


class TimedHiGHS(pulp.HiGHS):  # type: ignore[misc]
    """PuLP's HiGHS (highspy) interface, timing its three steps separately."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.times: dict[str, float] = {}

    def _timed(self, step: str, method: Any, lp: pulp.LpProblem) -> Any:
        started = time.perf_counter()
        out = method(lp)
        self.times[step] = time.perf_counter() - started
        return out

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:  # PuLP's name
        self._timed("translate_s", super().buildSolverModel, lp)

    def callSolver(self, lp: pulp.LpProblem) -> None:  # PuLP's name
        self._timed("run_s", super().callSolver, lp)

    def findSolutionValues(self, lp: pulp.LpProblem) -> Any:  # PuLP's name
        return self._timed("read_s", super().findSolutionValues, lp)


def solve_rowwise(model: Any, *, mip_gap: float) -> dict[str, Any]:
    """Solve with PuLP's HiGHS interface: timings of translate, run and read; the objective."""
    if not pulp.HiGHS().available():
        raise RuntimeError("this PuLP has no HiGHS (highspy) interface: pip install highspy")
    solver = TimedHiGHS(msg=False, gapRel=mip_gap)
    started = time.perf_counter()
    model.prob.solve(solver)
    solve_s = time.perf_counter() - started
    objective = pulp.value(model.prob.objective)
    return {
        "status": str(pulp.LpStatus[model.prob.status]).lower(),
        "objective": None if objective is None else float(objective),
        "solve_s": solve_s,
        **solver.times,
    }


def _worker(spec_path: str, out_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    size = size_from_json(spec["size"])
    try:
        record = run_contender(spec["contender"], size)
    except Exception as error:  # reported, not raised: one contender must not stop the run
        record = {"contender": spec["contender"], "status": "error", "error": repr(error)}
    Path(out_path).write_text(json.dumps(record))


# In the parent -------------------------------------------------------------------------------


def run_worker(contender: str, size: BenchSize, cap_s: float) -> dict[str, Any]:
    """Run one contender in a fresh process; ``status`` is ``"skipped"`` past ``cap_s``."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        spec, out = Path(tmp, "spec.json"), Path(tmp, "out.json")
        spec.write_text(json.dumps({"contender": contender, "size": size.to_json()}))
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.phases", str(spec), str(out)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        assert proc.stderr is not None
        os.set_blocking(proc.stderr.fileno(), False)
        errors: list[bytes] = []
        with proc.stderr:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                errors.append(proc.stderr.read() or b"")
                if pid:
                    break
                if time.perf_counter() - started > cap_s:
                    os.killpg(proc.pid, signal.SIGKILL)
                    os.wait4(proc.pid, 0)
                    return {"contender": contender, "status": "skipped", "cap_s": cap_s}
                time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if not out.exists():
            tail = b"".join(errors).decode(errors="replace")[-2000:]
            return {"contender": contender, "status": "error", "error": tail or f"exit {status}"}
        record: dict[str, Any] = json.loads(out.read_text())
    record["peak_rss_mib"] = usage.ru_maxrss / 1024
    record["worker_wall_s"] = wall
    return record


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2])
