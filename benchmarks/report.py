"""Render the runner's records as ``benchmarks/RESULTS.md``: tables, ratios and growth exponents.

Pure functions of the runner's document (also saved as ``benchmarks/out/core.json``):
the machine and versions, the targets, ratios and growth exponents, a table per size,
the profile of our build and publish, and the other benchmark scripts' JSON outputs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from allocator.backends.registry import DEFAULT_BACKEND

BUILD_TARGET = 10.0  # model build at least this many times faster than PuLP row by row
OVERHEAD_TARGET = 1.3  # end to end within this factor of the solver floor
LINEAR = 1.1  # a fitted exponent up to this counts as linear in nonzeros
ORDER = ("highs", "ortools", "pulp", "pulp-rowwise", "floor")
# The default (lexicographic) pipeline's contender for each backend.
LEXICOGRAPHIC = {
    "highs": "lexicographic",
    "ortools": "lexicographic-ortools",
    "pulp": "lexicographic-pulp",
}
LABEL = {
    "highs": "ours, HiGHS backend",
    "ortools": "ours, OR-Tools backend",
    "pulp": "ours, PuLP/CBC backend",
    "pulp-rowwise": "PuLP row by row + HiGHS",
    "floor": "floor: bare highspy run()",
}


REPO = Path(__file__).resolve().parents[1]


def scrub(text: str) -> str:
    """Text for the report without this machine's paths (the repository, temporary files)."""
    text = text.replace(str(REPO) + "/", "").replace(str(REPO), ".")
    text = re.sub(r"/\S*/site-packages/", "", text)
    return re.sub(r"/tmp/[^\s\"',;)]*", "<tmp>", text)


def fit_exponent(x: list[float], y: list[float]) -> float | None:
    """Slope of log(y) against log(x) by least squares (None with fewer than two points)."""
    keep = [(a, b) for a, b in zip(x, y, strict=True) if a > 0 and b > 0]
    if len(keep) < 2:
        return None
    logs = np.log(np.array(keep))
    return float(np.polyfit(logs[:, 0], logs[:, 1], 1)[0])


def secs(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 1.0:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


def brief(record: dict[str, Any]) -> str:
    """One line of progress for a record."""
    status = record.get("status", "?")
    if status != "optimal":
        return f"{status} {record.get('error', record.get('reason', ''))}".strip()
    parts = [f"{k[:-2]} {secs(record[k])}" for k in ("build_s", "run_s", "e2e_s") if k in record]
    return f"optimal, objective {record.get('objective')}, " + ", ".join(parts)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def _get(size: dict[str, Any], contender: str, key: str) -> float | None:
    record = size["records"].get(contender, {})
    if record.get("status") != "optimal" or record.get("agree") is False:
        return None
    value = record.get(key)
    return float(value) if isinstance(value, int | float) else None


def ratios(size: dict[str, Any]) -> dict[str, float | None]:
    """The headline ratios of one size (None where a contender is missing).

    ``e2e_over_own_solver`` divides our end to end by the solver time inside the same
    call: the same solve as the floor's, in the same process, so it is immune to the
    solver's run-to-run spread on a busy machine (MIP times vary most).
    """
    ours_build = _get(size, "highs", "build_s")
    pulp_build = _get(size, "pulp-rowwise", "build_s")
    e2e = _get(size, "highs", "e2e_s")
    solver = _get(size, "highs", "solver_s")
    fastest = min(
        (v for c in ("highs", "ortools", "pulp") if (v := _get(size, c, "solver_s")) is not None),
        default=None,
    )
    lex_e2e = _get(size, "lexicographic", "e2e_s")
    return {
        "build_ours_over_pulp": _ratio(ours_build, pulp_build),
        "build_speedup": _ratio(pulp_build, ours_build),
        "e2e_over_floor": _ratio(e2e, _get(size, "floor", "run_s")),
        "e2e_over_own_solver": _ratio(e2e, solver),
        "non_solver_s": None if e2e is None or solver is None else e2e - solver,
        "pulp_e2e_over_ours": _ratio(_get(size, "pulp-rowwise", "e2e_s"), e2e),
        "highs_over_fastest_solver": _ratio(solver, fastest),
        "lex_e2e_over_solver": _ratio(lex_e2e, _get(size, "lexicographic", "solver_s")),
    }


def nonzeros(size: dict[str, Any]) -> int | None:
    for contender in ("highs", "floor", "lexicographic"):
        nnz = size["records"].get(contender, {}).get("nnz")
        if nnz:
            return int(nnz)
    return None


GROWTH = (
    ("ours: validate", "highs", "validate_s"),
    ("ours: build (formulate)", "highs", "build_s"),
    ("ours: publish (assemble/reconcile)", "highs", "publish_s"),
    ("ours: solve (incl. solver)", "highs", "solve_s"),
    ("ours: end to end", "highs", "e2e_s"),
    ("lexicographic: build", "lexicographic", "build_s"),
    ("lexicographic: publish + explain", "lexicographic", "publish_s"),
    ("PuLP row by row: build", "pulp-rowwise", "build_s"),
    ("PuLP: translate to HiGHS", "pulp-rowwise", "translate_s"),
    ("floor: HiGHS run()", "floor", "run_s"),
)


def exponents(sizes: list[dict[str, Any]], last: int | None = None) -> dict[str, float | None]:
    """Fitted exponent of every phase in `GROWTH`, over all sizes or the ``last`` largest."""
    chosen = sizes if last is None else sorted(sizes, key=lambda s: nonzeros(s) or 0)[-last:]
    out = {}
    for label, contender, key in GROWTH:
        points = [(nonzeros(s), _get(s, contender, key)) for s in chosen]
        pts = [(float(x), y) for x, y in points if x is not None and y is not None]
        out[label] = fit_exponent([p[0] for p in pts], [p[1] for p in pts])
    return out


def _growth(sizes: list[dict[str, Any]]) -> list[str]:
    every, upper = exponents(sizes), exponents(sizes, last=4)
    lines = [
        "Least-squares slope of log(time) on log(nonzeros) (1 = linear). Fixed costs flatten "
        "the small sizes, so the slope over the four largest sizes is the one to watch.",
        "",
        f"| phase | all {len(sizes)} sizes | largest {min(4, len(sizes))} sizes |",
        "|---|---|---|",
    ]
    lines += [f"| {k} | {_fmt(v, 2, '')} | {_fmt(upper[k], 2, '')} |" for k, v in every.items()]
    return lines


def _cell(record: dict[str, Any], key: str) -> str:
    return secs(record.get(key)) if isinstance(record.get(key), int | float) else "–"


def size_table(size: dict[str, Any]) -> list[str]:
    lines = [
        "| contender | status | validate | build | solve (solver alone) | publish | end to end "
        "| peak RSS (Δ over import) | objective rel. diff |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for contender in ORDER:
        record = size["records"].get(contender)
        if record is None:
            continue
        status = record.get("status", "?")
        if status == "skipped":
            note = record.get("reason") or f"> {record.get('cap_s', 0):.0f} s"
            lines.append(f"| {LABEL[contender]} | skipped: {note} |" + " |" * 7)
            continue
        if status != "optimal":
            error = scrub(str(record.get("error", ""))).replace("|", "/").replace("\n", " ")[-160:]
            lines.append(f"| {LABEL[contender]} | **{status}** {error} |" + " |" * 7)
            continue
        if record.get("agree") is False:
            lines.append(f"| {LABEL[contender]} | **OBJECTIVE MISMATCH** |" + " |" * 7)
            continue
        rss = record.get("peak_rss_mib")
        delta = None if rss is None else rss - record.get("baseline_rss_kib", 0) / 1024
        memory = "–" if rss is None else f"{rss:.0f} MiB ({delta:+.0f})"
        diff = record.get("objective_rel_diff")
        diff_text = "ref." if diff == 0 else "–" if diff is None else f"{diff:.1e}"
        if contender == "pulp-rowwise":
            solve = f"{_cell(record, 'solve_s')} ({_cell(record, 'run_s')}; translate {_cell(record, 'translate_s')})"
            row = ["–", _cell(record, "build_s"), solve, "–", _cell(record, "e2e_s")]
        elif contender == "floor":
            solve = f"{_cell(record, 'run_s')} (pass {_cell(record, 'pass_s')})"
            row = ["–", "(built by ours)", solve, "–", _cell(record, "run_s")]
        else:
            solve = f"{_cell(record, 'solve_s')} ({_cell(record, 'solver_s')})"
            row = [
                _cell(record, "validate_s"),
                _cell(record, "build_s"),
                solve,
                _cell(record, "publish_s"),
                _cell(record, "e2e_s"),
            ]
        lines.append(
            f"| {LABEL[contender]} | optimal | " + " | ".join(row) + f" | {memory} | {diff_text} |"
        )
    return lines


def _fmt(value: float | None, digits: int = 2, suffix: str = "×") -> str:
    return "–" if value is None else f"{value:.{digits}f}{suffix}"


RATIO_COLUMNS = (
    ("our build ÷ PuLP build", "build_ours_over_pulp", 3, "×"),
    ("build speed-up over PuLP", "build_speedup", 1, "×"),
    ("our end to end ÷ floor run", "e2e_over_floor", 3, "×"),
    ("our end to end ÷ our solver time", "e2e_over_own_solver", 3, "×"),
    ("PuLP end to end ÷ ours", "pulp_e2e_over_ours", 2, "×"),
    ("HiGHS solve ÷ fastest backend's", "highs_over_fastest_solver", 1, "×"),
    ("lexicographic end to end ÷ its solver time", "lex_e2e_over_solver", 2, "×"),
)


def _ratio_table(sizes: list[dict[str, Any]]) -> list[str]:
    names = ["size", "nonzeros", *(c[0] for c in RATIO_COLUMNS), "ours outside the solver"]
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for s in sizes:
        r = ratios(s)
        cells = [_fmt(r[key], digits, suffix) for _, key, digits, suffix in RATIO_COLUMNS]
        row = [s["name"], str(nonzeros(s) or "–"), *cells, secs(r["non_solver_s"])]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _verdict(ok: bool | None, missed: str) -> str:
    return "–" if ok is None else "met" if ok else f"**missed**: {missed}"


def _targets(sizes: list[dict[str, Any]]) -> list[str]:
    if not sizes:
        return []
    top = sizes[-1]
    r = ratios(top)
    every, upper = exponents(sizes), exponents(sizes, last=4)
    overheads = [v for v in (r["e2e_over_floor"], r["e2e_over_own_solver"]) if v is not None]
    worst = max(overheads, default=None)
    speed = r["build_speedup"]
    lines = [
        f"Measured at the largest size run, **{top['name']}** ({nonzeros(top) or '?'} nonzeros).",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        f"| end to end ≤ {OVERHEAD_TARGET}× solver floor | {_fmt(r['e2e_over_floor'])} of the "
        f"floor's run, {_fmt(r['e2e_over_own_solver'])} of its own solver time; "
        f"{secs(r['non_solver_s'])} outside the solver | "
        + _verdict(
            None if worst is None else worst <= OVERHEAD_TARGET,
            f"{(worst or 0) / OVERHEAD_TARGET - 1:.0%} over",
        )
        + " |",
        f"| build ≥ {BUILD_TARGET:.0f}× faster than PuLP row by row | {_fmt(speed, 1)} | "
        + _verdict(
            None if speed is None else speed >= BUILD_TARGET,
            f"{speed or 0:.1f}× of {BUILD_TARGET:.0f}×: our build must get "
            f"{BUILD_TARGET / (speed or 1):.1f}× faster",
        )
        + " |",
    ]
    for label in ("ours: build (formulate)", "ours: publish (assemble/reconcile)"):
        values = [v for v in (every[label], upper[label]) if v is not None]
        lines.append(
            f"| {label} grows ≤ linearly in nonzeros | exponent {_fmt(every[label], 2, '')} "
            f"(all sizes), {_fmt(upper[label], 2, '')} (largest 4) | "
            + _verdict(None if not values else max(values) <= LINEAR, "super-linear")
            + " |"
        )
    by_backend = lexicographic_by_backend(top)
    fastest = min(by_backend, key=by_backend.__getitem__, default=None)
    measured = ", ".join(f"{b} {secs(t)}" for b, t in by_backend.items()) or "–"
    elsewhere = [
        f"{winner} at {size['name']}"
        for size in sizes[:-1]
        if (times := lexicographic_by_backend(size))
        and (winner := min(times, key=times.__getitem__)) != DEFAULT_BACKEND
    ]
    if elsewhere:
        measured += f"; fastest at smaller sizes: {', '.join(elsewhere)}"
    lines.append(
        f"| default backend (`{DEFAULT_BACKEND}`) is the fastest end to end on the default "
        f"(lexicographic) objective | {measured} | "
        + _verdict(
            None if fastest is None or len(by_backend) < 2 else fastest == DEFAULT_BACKEND,
            f"{fastest} is faster",
        )
        + " |"
    )
    return lines


def lexicographic_by_backend(size: dict[str, Any]) -> dict[str, float]:
    """End to end of the default (lexicographic) pipeline per backend that finished."""
    out = {}
    for backend, contender in LEXICOGRAPHIC.items():
        record = size["records"].get(contender, {})
        if record.get("status") == "optimal" and isinstance(record.get("e2e_s"), int | float):
            out[backend] = float(record["e2e_s"])
    return out


def _lexicographic(sizes: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| size | backend | status | stages | stage solver times | validate | build | solve "
        "| publish + explain | end to end |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        for backend, contender in LEXICOGRAPHIC.items():
            record = size["records"].get(contender)
            if record is None:
                continue
            status = record.get("status")
            if status != "optimal":
                note = record.get("reason") or record.get("cap_s") or ""
                lines.append(f"| {size['name']} | {backend} | {status} {note} |" + " |" * 7)
                continue
            stages = ", ".join(f"{s['stage']} {secs(s['s'])}" for s in record.get("stages", []))
            cells = [
                _cell(record, k) for k in ("validate_s", "build_s", "solve_s", "publish_s", "e2e_s")
            ]
            lines.append(
                f"| {size['name']} | {backend} | optimal | {len(record.get('stages', []))} | "
                f"{stages} | " + " | ".join(cells) + " |"
            )
    return lines


def _profile(profile: dict[str, Any] | None) -> list[str]:
    if not profile:
        return ["Not profiled in this run (`--profile`)."]
    if profile.get("status") not in ("optimal", None) or "build" not in profile:
        return [scrub(f"Profiling failed: {profile.get('status')} {profile.get('error', '')}")]
    lines = [
        f"cProfile of one build (`formulate`) and one publish (`plan_pence`, `rule_rows`, "
        f"`assemble`) of the default scenario at **{profile['size']}**, in a fresh process. "
        "cProfile slows Python-heavy code more than numpy-heavy code: read the shares, not "
        "the seconds.",
    ]
    for phase in ("build", "publish"):
        top = profile.get(phase)
        if not top:
            continue
        total = top["total_s"] or 1.0
        lines += [
            "",
            f"**{phase}** ({secs(top['total_s'])} under the profiler): our functions by cumulative time",
            "",
        ]
        lines += ["| function | calls | cumulative | share | own time |", "|---|---|---|---|---|"]
        lines += [
            f"| `{r['where']}` | {r['calls']} | {secs(r['cum_s'])} | {r['cum_s'] / total:.0%} | {secs(r['own_s'])} |"
            for r in top["ours_by_cumulative"]
        ]
        lines += [
            "",
            f"**{phase}**: any function by own time (where the time is actually spent)",
            "",
        ]
        lines += ["| function | calls | own time | share |", "|---|---|---|---|"]
        lines += [
            f"| `{r['where']}` | {r['calls']} | {secs(r['own_s'])} | {r['own_s'] / total:.0%} |"
            for r in top["all_by_own_time"]
        ]
    return lines


def render(doc: dict[str, Any], others: list[str] | None = None) -> str:
    """The whole of RESULTS.md; ``others`` is the rendered section of the other scripts."""
    sizes: list[dict[str, Any]] = doc["sizes"]
    m, v = doc["machine"], doc["versions"]
    out = [
        "# Benchmark results",
        "",
        f"Generated {doc['generated']} in {doc['duration_s']:.0f} s by `{scrub(doc['command'])}` "
        f"(best of up to {doc['repeat']} runs per contender, each in a fresh process).",
        "",
        *(
            []
            if doc.get("complete", True)
            else ["**Incomplete: the run is still going or stopped early.**", ""]
        ),
        "## Machine and versions",
        "",
        f"- CPU: {m['cpu']}; {m['cores']} cores ({m['usable_cores']} usable); {m['memory_gib']} GiB memory; "
        f"load average at start {', '.join(map(str, m['load_average']))}; {m['os']}",
        "- " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "",
        "## Targets",
        "",
        *_targets(sizes),
    ]
    failures = [s for s in sizes if s["mismatches"]]
    if failures:
        out += ["", "## OBJECTIVES DISAGREE", ""]
        out += [
            f"- **{s['name']}**: {c} reached {s['records'][c].get('objective')}, "
            f"{s['records'][c].get('objective_rel_diff', 0):.2e} (relative) from the reference "
            f"{s['reference_objective']}"
            + (
                f" (and varied between repeats: {s['records'][c]['repeat_objectives']})"
                if "repeat_objectives" in s["records"][c]
                else ""
            )
            + f"; allowed {doc['agree_rel']:g}. Its times are not reported."
            for s in failures
            for c in s["mismatches"]
        ]
    out += [
        "",
        "## Ratios",
        "",
        *_ratio_table(sizes),
        "",
        "## Growth with size",
        "",
        *_growth(sizes),
    ]
    out += ["", "## Per size (weighted objective: one LP/MIP per contender)", ""]
    for s in sizes:
        rec = s["records"].get("highs") or s["records"].get("floor") or {}
        shape = f"{rec.get('rows', '?')} rows × {rec.get('cols', '?')} columns, {rec.get('nnz', '?')} nonzeros, {rec.get('integer_cols', '?')} integer"
        out += [
            f"### {s['name']}: {s['note']}",
            "",
            f"{shape}; reference objective {s['reference_objective']}.",
            "",
            *(f"**Warning:** {w}.\n" for w in s.get("warnings", [])),
            *size_table(s),
            "",
        ]
    out += [
        "## Our default pipeline (lexicographic, explanations on), by backend",
        "",
        *_lexicographic(sizes),
    ]
    out += ["", "## Where our time goes", "", *_profile(doc.get("profile"))]
    out += ["", "## Other benchmarks", "", *(others or ["Not included in this run."])]
    out += [
        "",
        "## Method",
        "",
        "See `benchmarks/README.md`: what each contender runs, how phases, memory and agreement are measured.",
    ]
    return "\n".join(out) + "\n"
