"""The multi-year plan page: a stored version rolled forward year by year
(`allocator.batch.multiyear.plan_years`, as ``allocator plan``), each place's distance
from its fair-share target by year as a glide-path chart, with the table behind it.

The plan is solved in the request, under the server's compute slots, and stored nowhere
(any key that can read the scenario may look); scenarios larger than `PLAN_MAX_CELLS`
are refused with a pointer to ``allocator plan``, which has no such limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from allocator.batch.multiyear import MAX_YEARS, PlanResult, plan_years
from allocator.errors import Issue, LimitExceeded
from api.deps import DatabaseDep, RunnerDep, SettingsDep
from api.errors import InvalidRequest
from api.storage import repository
from api.web import charts
from api.web.common import Me, WebRoute, render
from models import Scenario

router = APIRouter(prefix="/app", route_class=WebRoute, include_in_schema=False)

PLAN_MAX_CELLS = 20_000  # providers × neighbourhoods × segments solved per year in a request


@dataclass(frozen=True, slots=True)
class PlaceYear:
    financial_year: str
    target_pence: int | None
    allocation_pence: int | None
    distance: float | None


@dataclass(frozen=True, slots=True)
class PlacePath:
    place_id: str
    name: str
    years: list[PlaceYear]


def growth_share(text: str) -> float:
    """'3' or '3%' (per cent a year) as 0.03; a located error otherwise."""
    try:
        share = float(text.strip().rstrip("%")) / 100
    except ValueError:
        raise InvalidRequest(
            "the pot growth is not a number", [Issue(("growth",), f"{text!r} is not a percentage")]
        ) from None
    if not -0.5 <= share <= 0.5:
        raise InvalidRequest(
            "the pot growth is out of range", [Issue(("growth",), "between -50% and 50% a year")]
        )
    return share


def place_paths(plan: PlanResult) -> list[PlacePath]:
    """Each place of year 1 with its figures in every planned year."""
    paths = []
    for first in plan.years[0].result.places:
        years = []
        for planned in plan.years:
            unit = next((u for u in planned.result.places if u.unit_id == first.unit_id), None)
            years.append(
                PlaceYear(
                    planned.financial_year,
                    unit.target_pence if unit else None,
                    unit.allocation_pence if unit else None,
                    unit.distance_from_target if unit else None,
                )
            )
        paths.append(PlacePath(first.unit_id, first.name, years))
    return paths


@router.get("/scenarios/{scenario_id}/versions/{version}/plan")
async def plan_page(
    scenario_id: str,
    version: int,
    request: Request,
    me: Me,
    database: DatabaseDep,
    settings: SettingsDep,
    runner: RunnerDep,
    years: Annotated[int, Query(ge=1, le=MAX_YEARS)] = MAX_YEARS,
    growth: Annotated[str, Query(max_length=20)] = "3",
) -> Response:
    started = time.perf_counter()
    share = growth_share(growth)

    def load() -> Scenario:
        with database.transaction(write=False) as session:
            row = repository.get_version(
                session, principal=me.principal, scenario_pk=scenario_id, version=version
            )
            return Scenario.model_validate_json(row.document)

    scenario = await run_in_threadpool(load)
    cells = repository.scenario_cells(scenario)
    if cells > PLAN_MAX_CELLS:
        raise LimitExceeded(
            f"the scenario has {cells:,} cells; plans of more than {PLAN_MAX_CELLS:,} are "
            "not solved in the workspace: run `allocator plan` on the downloaded JSON"
        )
    limit = min(settings.max_solve_time_s, scenario.objective.time_limit_s or float("inf"))
    async with runner.compute_slots:
        plan = await run_in_threadpool(
            plan_years, scenario, years=years, pot_growth=share, time_limit_s=limit
        )
    paths = place_paths(plan)
    labels = [y.financial_year or f"year {y.year}" for y in plan.years]
    chart = charts.glide_paths(
        labels,
        [(p.name, [y.distance for y in p.years]) for p in paths],
        title="Each place's distance from its fair-share target, year by year",
    )
    return render(
        request,
        "plan.html",
        me=me,
        scenario_id=scenario_id,
        version=version,
        scenario=scenario,
        plan=plan,
        paths=paths,
        labels=labels,
        chart=chart,
        years=years,
        growth=growth,
        max_years=MAX_YEARS,
        built_s=time.perf_counter() - started,
    )
