"""The benchmark runner: ``python -m benchmarks [--sizes ...] [--repeat N] [--out PATH] [--smoke] [--all]``.

For every size, side by side in one run and each in a fresh process: our pipeline with
every backend, the same model written row by row in PuLP, and the solver floor, on the
weighted scenario; then our default lexicographic pipeline end to end, with each backend.
Objectives must agree (relative 1e-6) before any time is reported. Writes
``benchmarks/RESULTS.md`` and the raw records to ``benchmarks/out/core.json``; exits 1
when objectives disagree.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import phases, report
from benchmarks.registry import DEFAULT_SIZES, SMOKE_SIZES, BenchSize, get_size

HERE = Path(__file__).resolve().parent
AGREE_REL = 1e-6
PACKAGES = ("numpy", "scipy", "highspy", "pulp", "ortools", "pandas", "pydantic", "care-allocator")
SMOKE_CONTENDERS = ("highs", "pulp-rowwise", "floor")
# The other benchmark scripts (each owned elsewhere): script, JSON output, wall-clock cap.
OTHERS = (
    ("bench_riskshare.py", "riskshare.json", 300.0),
    ("load_api.py", "load_api.json", 300.0),
    ("bench_batch.py", "batch.json", 420.0),
    ("bench_small.py", "small.json", 180.0),
)


def machine_info() -> dict[str, Any]:
    """CPU model, cores, memory and load when the run started (the machine may be shared)."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gib = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024**2, 1)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": memory_gib,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
    }


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def read_others(out_dir: Path, scripts: list[tuple[str, str]], here: Path) -> dict[str, Any]:
    """The other scripts' JSON outputs, or why they are absent."""
    found: dict[str, Any] = {}
    for script, output in scripts:
        path = out_dir / output
        entry: dict[str, Any] = {"script_exists": (here / script).exists(), "output": output}
        if path.exists():
            try:
                entry["data"] = json.loads(path.read_text())
            except json.JSONDecodeError as error:
                entry["error"] = f"unreadable JSON: {error}"
        found[script] = entry
    return found


TITLES = {
    "bench_riskshare.py": "Risk sharing (Monte Carlo)",
    "load_api.py": "API under load",
    "bench_batch.py": "Batch runs",
    "bench_small.py": "Small systems fast (one system in process, `allocator solve` as a process)",
}


def others_section(others: dict[str, Any], runs: dict[str, str] | None) -> list[str]:
    """The report's section on the other scripts: how they ran and what they wrote."""
    ran = "; ".join(f"`{k}` {v}" for k, v in (runs or {}).items()) or "none found"
    lines = ["Not run by this command (`--all` runs them)." if runs is None else f"Run: {ran}."]
    for script, entry in others.items():
        where = f"`benchmarks/out/{entry['output']}`"
        lines += ["", f"### {TITLES.get(script, script)}", ""]
        if "data" in entry:
            lines += [
                f"From {where} (written by `benchmarks/{script}`):",
                "",
                *_json_rows(entry["data"]),
            ]
        elif "error" in entry:
            lines.append(f"{where}: {report.scrub(entry['error'])}.")
        elif entry["script_exists"]:
            lines.append(f"`benchmarks/{script}` exists but {where} does not: run with `--all`.")
        else:
            lines.append(f"`benchmarks/{script}` is missing: no figures.")
    return lines


def _json_rows(data: Any) -> list[str]:
    """A JSON document as tables: its plain values as key/value rows, then each nested
    list or mapping of records (e.g. one record per configuration) as a table of its own."""
    if not isinstance(data, dict):
        data = {"value": data}
    plain = {k: v for k, v in data.items() if not _is_records(v)}
    lines = ["| key | value |", "|---|---|"]
    lines += [f"| {key} | {_cell(value)} |" for key, value in plain.items()]
    for key, value in data.items():
        if not _is_records(value):
            continue
        records = (
            [{"": name, **record} for name, record in value.items()]
            if isinstance(value, dict)
            else list(value)
        )
        columns = list(dict.fromkeys(column for record in records for column in record))
        lines += ["", f"**{key}**", "", "| " + " | ".join(columns) + " |"]
        lines.append("|" + "---|" * len(columns))
        lines += [
            "| " + " | ".join(_cell(record.get(column, "")) for column in columns) + " |"
            for record in records
        ]
    return lines


def _is_records(value: Any) -> bool:
    """A non-empty list of mappings, or a mapping whose values are all mappings."""
    if isinstance(value, list):
        return bool(value) and all(isinstance(item, dict) for item in value)
    if isinstance(value, dict):
        return bool(value) and all(isinstance(item, dict) for item in value.values())
    return False


def _cell(value: Any) -> str:
    """One table cell: floats to 4 significant figures, small mappings as ``key value``."""
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, dict):
        text = ", ".join(f"{k} {_cell(v)}" for k, v in value.items())
    elif isinstance(value, list):
        text = ", ".join(_cell(v) for v in value)
    else:
        text = str(value)
    return report.scrub(text)[:300].replace("|", "/")


def _agree(a: float, b: float) -> bool:
    return abs(a - b) <= AGREE_REL * max(1.0, abs(a), abs(b))


def _best(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-field minimum of the timings over repeats (the least disturbed run)."""
    best = dict(records[0])
    for record in records[1:]:
        for key, value in record.items():
            if key.endswith("_s") and isinstance(value, float):
                best[key] = min(best.get(key, value), value)
        best["peak_rss_mib"] = max(best.get("peak_rss_mib", 0.0), record.get("peak_rss_mib", 0.0))
    objectives = {r.get("objective") for r in records}
    if len(objectives) > 1:
        best["repeat_objectives"] = sorted(o for o in objectives if o is not None)
    best["repeats"] = len(records)
    return best


def run_size(
    size: BenchSize, contenders: tuple[str, ...], repeat: int, skip_after: dict[str, str]
) -> dict[str, Any]:
    """Every contender on one size; checks the objectives agree."""
    records: dict[str, dict[str, Any]] = {}
    for contender in contenders:
        if contender in skip_after:
            records[contender] = {"status": "skipped", "reason": skip_after[contender]}
            continue
        cap = size.slow_cap_s if contender in phases.SLOW else size.cap_s
        runs = []
        for _ in range(max(1, min(repeat, size.max_repeat))):
            record = phases.run_worker(contender, size, cap)
            print(f"  {size.name:>14} {contender:>14}: {report.brief(record)}", file=sys.stderr)
            runs.append(record)
            if record.get("status") != "optimal":
                break
        records[contender] = _best(runs) if runs[-1].get("status") == "optimal" else runs[-1]
        if records[contender].get("status") == "skipped":
            skip_after[contender] = f"> {cap:.0f} s at {size.name}"
    warnings = []
    hashes = {r["scenario_hash"] for r in records.values() if "scenario_hash" in r}
    if len(hashes) > 1:  # the objectives still have to agree; this flags a mid-run code change
        warnings.append(
            f"workers drew scenarios with {len(hashes)} different content hashes: the "
            "generator or the schema changed during the run"
        )
    reference = next(
        (
            records[c]["objective"]
            for c in ("floor", "highs", "pulp-rowwise", "ortools", "pulp")
            if records.get(c, {}).get("objective") is not None
        ),
        None,
    )
    mismatches = []
    for contender, record in records.items():
        objective = record.get("objective")
        if contender.startswith("lexicographic") or objective is None or reference is None:
            continue
        record["objective_rel_diff"] = abs(objective - reference) / max(1.0, abs(reference))
        if not _agree(objective, reference) or "repeat_objectives" in record:
            record["agree"] = False
            mismatches.append(contender)
        else:
            record["agree"] = True
    return {
        "name": size.name,
        "note": size.note,
        "config": size.to_json()["config"],
        "records": records,
        "reference_objective": reference,
        "mismatches": mismatches,
        "warnings": warnings,
    }


def run_others(out_dir: Path) -> dict[str, str]:
    """Run the other benchmark scripts that exist (``--all``); each writes its own JSON.

    Returns how each run ended. A script over its cap is stopped with its process group.
    """
    ended: dict[str, str] = {}
    for script, output, cap in OTHERS:
        if not (HERE / script).exists():
            print(f"  {script}: missing, reported as such", file=sys.stderr)
            continue
        module = f"benchmarks.{script.removesuffix('.py')}"
        command = [sys.executable, "-m", module, "--out", str(out_dir / output)]
        print(f"  running {script}", file=sys.stderr)
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=HERE.parent, start_new_session=True)
        try:
            code = proc.wait(timeout=cap)
            ended[script] = f"exit {code} after {time.perf_counter() - started:.0f} s"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            ended[script] = f"stopped after the {cap:.0f} s cap"
        print(f"  {script}: {ended[script]}", file=sys.stderr)
    return ended


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--sizes", help=f"comma-separated (default: {','.join(DEFAULT_SIZES)})")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender (best kept)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument(
        "--json", type=Path, default=None, help="raw records (default out/core.json)"
    )
    parser.add_argument(
        "--contenders", help=f"comma-separated subset of {','.join(phases.CONTENDERS)}"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat, 3 contenders")
    parser.add_argument("--all", action="store_true", help="also run the other benchmark scripts")
    parser.add_argument("--render", type=Path, help="only re-render --out from a saved JSON run")
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="cProfile our build and publish at the largest size (default: on, off with --smoke)",
    )
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(args.render.read_text())
        saved["others"] = read_others(HERE / "out", [(s, o) for s, o, _ in OTHERS], HERE)
        args.out.write_text(
            report.render(saved, others_section(saved["others"], saved.get("others_runs")))
        )
        return 0

    smoke = args.smoke
    names = args.sizes.split(",") if args.sizes else list(SMOKE_SIZES if smoke else DEFAULT_SIZES)
    sizes = [get_size(name.strip()) for name in names]
    contenders = tuple(
        args.contenders.split(",")
        if args.contenders
        else SMOKE_CONTENDERS
        if smoke
        else phases.CONTENDERS
    )
    unknown = set(contenders) - set(phases.CONTENDERS)
    if unknown:
        parser.error(f"unknown contenders: {', '.join(sorted(unknown))}")
    repeat = 1 if smoke else max(1, args.repeat)
    out_dir = args.out.resolve().parent / "out" if smoke else HERE / "out"
    json_path = args.json or out_dir / ("smoke.json" if smoke else "core.json")
    command = " ".join(
        ["python -m benchmarks", *map(shlex.quote, sys.argv[1:] if argv is None else argv)]
    )

    started = time.perf_counter()
    doc: dict[str, Any] = {
        "command": command,
        "machine": machine_info(),
        "versions": versions(),
        "repeat": repeat,
        "smoke": smoke,
        "agree_rel": AGREE_REL,
        "sizes": [],
        "profile": None,
    }

    def write(final: bool) -> None:
        """Write the JSON and the report (after every size too: a crash keeps what ran)."""
        doc["generated"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        doc["duration_s"] = time.perf_counter() - started
        doc["complete"] = final
        doc["others"] = read_others(out_dir, [(s, o) for s, o, _ in OTHERS], HERE)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(doc, indent=1))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            report.render(doc, others_section(doc["others"], doc.get("others_runs")))
        )

    skip_after: dict[str, str] = {}
    for size in sizes:
        print(f"size {size.name}: {size.note}", file=sys.stderr)
        doc["sizes"].append(run_size(size, contenders, repeat, skip_after))
        write(final=False)
    if sizes and (not smoke if args.profile is None else args.profile):
        print(f"profiling build and publish at {sizes[-1].name}", file=sys.stderr)
        doc["profile"] = {
            **phases.run_worker("profile", sizes[-1], sizes[-1].cap_s),
            "size": sizes[-1].name,
        }
    if args.all:
        out_dir.mkdir(parents=True, exist_ok=True)
        doc["others_runs"] = run_others(out_dir)
    write(final=True)
    results = doc["sizes"]
    mismatched = [f"{r['name']}: {', '.join(r['mismatches'])}" for r in results if r["mismatches"]]
    print(f"wrote {args.out} in {doc['duration_s']:.0f} s", file=sys.stderr)
    if mismatched:
        print("OBJECTIVES DISAGREE: " + "; ".join(mismatched), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
