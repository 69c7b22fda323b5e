"""Answers for negotiation about one stored result: alternatives and "what would it take".

The scenario is the stored, content-hashed version the result was solved from; the
solves run in a worker thread, one of the runner's compute slots at a time.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from allocator.explain.alternatives import DEFAULT_COUNT, MAX_COUNT, AlternativesMenu, alternatives
from allocator.explain.pace_cap import PaceCapAnswer, pace_cap_for_band
from allocator.explain.scheme_entry import SchemeEntry, scheme_entry
from allocator.explain.what_it_takes import PotAnswer, smallest_pot
from api.deps import DatabaseDep, Reader, RunnerDep
from api.errors import problem_responses
from api.routers.answers import _load

router = APIRouter(
    prefix="/results", tags=["results"], responses=problem_responses(401, 403, 404, 422)
)


class AlternativesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    along: str = Field(
        min_length=1,
        max_length=200,
        description="'KIND vs KIND' (e.g. 'acute vs community'), a kind, 'place ID' or 'provider ID'.",
    )
    within_share: float = Field(
        default=0.005, gt=0.0, lt=1.0, description="Value given up at most (0.005 = 0.5%)."
    )
    count: int = Field(default=DEFAULT_COUNT, ge=1, le=MAX_COUNT)


@router.post(
    "/{result_id}/alternatives",
    summary="A menu of alternatives as fair as the result, value within a share of it",
)
async def alternatives_menu(
    result_id: str,
    body: AlternativesRequest,
    database: DatabaseDep,
    principal: Reader,
    runner: RunnerDep,
) -> AlternativesMenu:
    """Each alternative holds every fairness stage at the optimum, keeps value within
    ``within_share`` of it and goes as far as it can along the named dimension (its two
    ends, then points towards the farther end), published in pence and re-checked like any
    result. An unknown dimension is 422 (docs/alternatives.md)."""
    _, scenario = await run_in_threadpool(_load, database, principal, result_id)
    async with runner.compute_slots:
        return await run_in_threadpool(
            alternatives, scenario, body.along, body.within_share, count=body.count
        )


class PotRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_shortfall_share: float | None = Field(
        default=None, ge=0.0, lt=1.0, description="Largest shortfall allowed (0.01 = 1%)."
    )
    funder_id: str | None = Field(
        default=None, max_length=200, description="Move only this funder's money."
    )


@router.post(
    "/{result_id}/what-would-it-take/pot",
    summary="The smallest pot (or uplift from one funder) meeting the rules and a shortfall bound",
)
async def what_would_it_take_pot(
    result_id: str,
    body: PotRequest,
    database: DatabaseDep,
    principal: Reader,
    runner: RunnerDep,
) -> PotAnswer:
    """One parametric solve (the pot a variable of the program), confirmed by full solves
    a penny either side; to within £1. An unknown funder is 422 (docs/alternatives.md)."""
    _, scenario = await run_in_threadpool(_load, database, principal, result_id)
    async with runner.compute_slots:
        return await run_in_threadpool(
            smallest_pot,
            scenario,
            max_shortfall=body.max_shortfall_share,
            funder_id=body.funder_id,
        )


class SchemeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scheme_id: str = Field(min_length=1, max_length=200)
    funder_id: str | None = Field(
        default=None, max_length=200, description="Move only this funder's money."
    )


@router.post(
    "/{result_id}/what-would-it-take/scheme",
    summary="The pot (or uplift from one funder) at which a scheme enters the optimal plan",
)
async def what_would_it_take_scheme(
    result_id: str,
    body: SchemeRequest,
    database: DatabaseDep,
    principal: Reader,
    runner: RunnerDep,
) -> SchemeEntry:
    """The pot at which the scheme enters the exact optimal plan (or, if it is in today's,
    leaves it), to £1: a secant search on the value the scheme adds, confirmed by full
    solves, since whether a whole-or-nothing scheme is funded is an integer decision no
    single LP gives. A scheme that never enters before the rules stop holding is a 422
    problem saying so."""
    _, scenario = await run_in_threadpool(_load, database, principal, result_id)
    async with runner.compute_slots:
        return await run_in_threadpool(
            scheme_entry, scenario, body.scheme_id, funder_id=body.funder_id
        )


class PaceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by_year: int = Field(ge=1, le=5)
    band_share: float | None = Field(default=None, ge=0.0, lt=1.0)
    rule_id: str | None = Field(default=None, max_length=200)
    parameter: Literal["cap", "floor"] = "cap"
    pot_growth: float = Field(default=0.03, ge=-0.5, le=1.0)


@router.post(
    "/{result_id}/what-would-it-take/pace",
    summary="The place pace cap (or floor) that brings every place within a band by year n",
)
async def what_would_it_take_pace(
    result_id: str,
    body: PaceRequest,
    database: DatabaseDep,
    principal: Reader,
    runner: RunnerDep,
) -> PaceCapAnswer:
    """By secant and bisection steps over whole multi-year plans (each year is solved on
    its own, so no single program holds every year's cap), to the share that moves the
    largest place by £1."""
    _, scenario = await run_in_threadpool(_load, database, principal, result_id)
    async with runner.compute_slots:
        return await run_in_threadpool(
            pace_cap_for_band,
            scenario,
            by_year=body.by_year,
            band_share=body.band_share,
            rule_id=body.rule_id,
            parameter=body.parameter,
            pot_growth=body.pot_growth,
        )
