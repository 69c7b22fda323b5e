"""Re-verify a published result: re-solve its scenario and compare, to the penny.

The answer is one of three verdicts:

* ``identical``: every published money figure is the same penny;
* ``same optimum, different tie``: the stage optima (fairness, value, stability) agree
  within the scenario's stage tolerance, but the re-solve chose another of the equally
  good allocations (e.g. the tie-break rule changed between software versions);
* ``different``: the scenario, the status or an optimum differs.

The report records the software and solver versions of both solves.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from importlib import metadata

from pydantic import BaseModel, Field

from allocator import __version__
from allocator.pipeline import solve_scenario
from models import Scenario
from models.results import AllocationResult

IDENTICAL = "identical"
SAME_OPTIMUM = "same optimum, different tie"
DIFFERENT = "different"
SOLVER_PACKAGES = ("highspy", "ortools", "pulp", "numpy", "scipy")
TIE_BREAK = "tie_break"  # the stage that only picks among equal optima
SHOWN = 20  # figures listed in a report (the count is always complete)


class FigureDifference(BaseModel):
    figure: str
    published_pence: int | None
    resolved_pence: int | None


class StageDifference(BaseModel):
    stage: str
    published: float | None
    resolved: float | None


class VerifyReport(BaseModel):
    verdict: str
    scenario_hash: str
    published_scenario_hash: str
    published_software_version: str
    software_version: str
    backend: str
    versions: dict[str, str] = Field(description="Python and solver library versions used.")
    figures_compared: int
    figures_differing: int
    largest_difference_pence: int
    differences: list[FigureDifference]
    stages: list[StageDifference]
    notes: list[str] = Field(default_factory=list)


def published_pennies(result: AllocationResult) -> dict[str, int]:
    """Every published money figure of a result, keyed by what it is."""
    figures: dict[str, int] = {}
    for level, lines in (
        ("system", result.systems),
        ("place", result.places),
        ("neighbourhood", result.neighbourhoods),
    ):
        for unit in lines:
            if unit.allocation_pence is not None:
                figures[f"{level} {unit.unit_id}"] = unit.allocation_pence
    for p in result.providers:
        figures[f"provider {p.provider_id}"] = p.budget_pence
        for name, parts in (
            ("segment", p.by_segment_pence),
            ("place", p.by_place_pence),
            ("funder", p.by_funder_pence),
        ):
            for key, pence in parts.items():
                figures[f"provider {p.provider_id} {name} {key}"] = pence
    for c in result.cells:
        key = f"cell {c.provider_id}/{c.neighbourhood_id}/{c.segment_id}"
        figures[key] = c.budget_pence
    for f in result.flows:
        figures[f"flow {f.funder_id}->{f.provider_id}/{f.segment_id}"] = f.amount_pence
    for s in result.schemes:
        figures[f"scheme {s.scheme_id}"] = s.cost_pence
    for line in result.pool:
        figures[f"pool {line.funder_id} allocated"] = line.allocated_pence
    return figures


def solver_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in SOLVER_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _stage_differences(
    published: AllocationResult, resolved: AllocationResult, tolerance: float
) -> tuple[list[StageDifference], bool]:
    """Each stage's optimum in both; whether every optimum but the tie-break agrees."""
    ours = {s.stage: s.objective for s in published.stages}
    theirs = {s.stage: s.objective for s in resolved.stages}
    rows, agree = [], True
    for stage in dict.fromkeys([*ours, *theirs]):
        a, b = ours.get(stage), theirs.get(stage)
        rows.append(StageDifference(stage=stage, published=a, resolved=b))
        if stage == TIE_BREAK:
            continue
        if a is None or b is None:
            agree = agree and a is None and b is None
            continue
        # Two allowances: each solve may use the held slack of the other's stages.
        if abs(a - b) > 2 * tolerance * max(1.0, abs(a), abs(b)) + 1e-9:
            agree = False
    return rows, agree


def compare_results(
    published: AllocationResult, resolved: AllocationResult, scenario: Scenario
) -> VerifyReport:
    """The verdict of a re-solve against the published result."""
    ours, theirs = published_pennies(published), published_pennies(resolved)
    keys = sorted(set(ours) | set(theirs))
    # A figure one side does not list (a flow of nothing) is nothing.
    diffs = [
        FigureDifference(figure=k, published_pence=ours.get(k, 0), resolved_pence=theirs.get(k, 0))
        for k in keys
        if ours.get(k, 0) != theirs.get(k, 0)
    ]
    diffs.sort(key=lambda d: -abs((d.published_pence or 0) - (d.resolved_pence or 0)))
    stages, optima_agree = _stage_differences(
        published, resolved, scenario.objective.stage_tolerance_share
    )
    notes: list[str] = []
    same_scenario = published.scenario_hash == resolved.scenario_hash
    if not same_scenario:
        notes.append("the scenario given is not the one the result was solved from")
    if published.status != resolved.status:
        notes.append(f"status: published {published.status}, re-solved {resolved.status}")
    if not optima_agree:
        notes.append("a stage optimum differs beyond the scenario's stage tolerance")
    if not diffs and same_scenario and published.status == resolved.status:
        verdict = IDENTICAL
    elif same_scenario and published.status == resolved.status and optima_agree:
        verdict = SAME_OPTIMUM
    else:
        verdict = DIFFERENT
    return VerifyReport(
        verdict=verdict,
        scenario_hash=resolved.scenario_hash,
        published_scenario_hash=published.scenario_hash,
        published_software_version=published.software_version,
        software_version=__version__,
        backend=resolved.backend,
        versions=solver_versions(),
        figures_compared=len(keys),
        figures_differing=len(diffs),
        largest_difference_pence=max(
            (abs((d.published_pence or 0) - (d.resolved_pence or 0)) for d in diffs), default=0
        ),
        differences=diffs[:SHOWN],
        stages=stages,
        notes=notes,
    )


def verify_result(
    published: AllocationResult,
    scenario: Scenario,
    *,
    backend: str | None = None,
    solve: Callable[[Scenario], AllocationResult] | None = None,
) -> VerifyReport:
    """Re-solve ``scenario`` (with the result's backend unless told) and compare."""
    if solve is None:
        name = backend or published.backend

        def solve(s: Scenario) -> AllocationResult:
            return solve_scenario(s, backend=name, explain=False)

    return compare_results(published, solve(scenario), scenario)
