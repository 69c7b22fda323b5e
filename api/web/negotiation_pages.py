"""Workspace pages for negotiation about a result: alternatives and "what would it take".

Each form posts with the session's CSRF token and the page calls the API's own route
function with the signed-in key (same tenancy, same limits, same compute slots). A question
the answer cannot be given for (a tolerance of zero, an unknown dimension, funder or scheme)
is a message on the same page with the form kept as filled in, not an error page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from allocator.errors import AllocatorError
from allocator.explain.pace_cap import PaceCapAnswer
from allocator.explain.scheme_entry import SchemeEntry
from allocator.explain.what_it_takes import PotAnswer
from api.deps import DatabaseDep, RunnerDep
from api.routers import negotiation as negotiation_api
from api.web.common import Me, WebRoute, checked_form, render

router = APIRouter(prefix="/app", route_class=WebRoute, include_in_schema=False)

QUESTIONS = ("pot", "scheme", "pace")


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _share(form: FormData, name: str, label: str) -> float | None:
    """A percentage field as a share (blank: None); a located message if it is no number."""
    text = _text(form, name).rstrip("%").strip()
    if not text:
        return None
    try:
        return float(text) / 100
    except ValueError:
        raise ValueError(f"{label}: {text!r} is not a percentage") from None


def _message(error: ValidationError) -> str:
    """The first problem of a request body, named by its field."""
    first = error.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "the form"
    return f"{where}: {first.get('msg', 'not valid')}"


@router.get("/results/{result_id}/alternatives")
async def alternatives_form(result_id: str, request: Request, me: Me) -> Response:
    """The form: the dimension to differ along, the value tolerance, how many."""
    form = {"along": "", "within": "0.5", "count": "3"}
    return render(request, "alternatives.html", me=me, result_id=result_id, form=form)


@router.post("/results/{result_id}/alternatives")
async def alternatives_page(
    result_id: str, request: Request, me: Me, database: DatabaseDep, runner: RunnerDep
) -> Response:
    """The menu: each alternative's position along the dimension and its reconciliation."""
    posted = await checked_form(request, me)
    form = {k: _text(posted, k) for k in ("along", "within", "count")}
    menu, message, status = None, "", 200
    try:
        within = _share(posted, "within", "Value given up at most")
        if form["count"] and not form["count"].isdigit():
            raise ValueError(f"How many: {form['count']!r} is not a whole number")
        body = negotiation_api.AlternativesRequest(
            along=form["along"],
            within_share=0.005 if within is None else within,
            count=int(form["count"] or 3),
        )
        menu = await negotiation_api.alternatives_menu(
            result_id, body, database, me.principal, runner
        )
    except ValidationError as error:
        message, status = _message(error), 422
    except (ValueError, AllocatorError) as error:
        message, status = str(error), 422
    return render(
        request,
        "alternatives.html",
        me=me,
        result_id=result_id,
        form=form,
        menu=menu,
        message=message,
        status=status,
    )


@router.get("/results/{result_id}/what-would-it-take")
async def what_it_takes_form(result_id: str, request: Request, me: Me) -> Response:
    """The three questions' forms."""
    return render(
        request, "what_it_takes.html", me=me, result_id=result_id, form={"question": "pot"}
    )


@router.post("/results/{result_id}/what-would-it-take")
async def what_it_takes_page(
    result_id: str, request: Request, me: Me, database: DatabaseDep, runner: RunnerDep
) -> Response:
    """One question's answer, to within £1, with how it was found."""
    posted = await checked_form(request, me)
    names = ("question", "shortfall", "funder", "scheme", "by_year", "band", "parameter")
    form = {k: _text(posted, k) for k in names}
    answer: PotAnswer | SchemeEntry | PaceCapAnswer | None = None
    message, status = "", 200
    funder = form["funder"] or None
    try:
        if form["question"] == "pot":
            pot = negotiation_api.PotRequest(
                max_shortfall_share=_share(posted, "shortfall", "Largest shortfall"),
                funder_id=funder,
            )
            answer = await negotiation_api.what_would_it_take_pot(
                result_id, pot, database, me.principal, runner
            )
        elif form["question"] == "scheme":
            scheme = negotiation_api.SchemeRequest(scheme_id=form["scheme"], funder_id=funder)
            answer = await negotiation_api.what_would_it_take_scheme(
                result_id, scheme, database, me.principal, runner
            )
        elif form["question"] == "pace":
            if not form["by_year"].isdigit():
                raise ValueError(f"By year: {form['by_year']!r} is not a whole number of years")
            pace = negotiation_api.PaceRequest(
                by_year=int(form["by_year"]),
                band_share=_share(posted, "band", "Band"),
                parameter="floor" if form["parameter"] == "floor" else "cap",
            )
            answer = await negotiation_api.what_would_it_take_pace(
                result_id, pace, database, me.principal, runner
            )
        else:
            raise ValueError(f"the question is one of {', '.join(QUESTIONS)}")
    except ValidationError as error:
        message, status = _message(error), 422
    except (ValueError, AllocatorError) as error:
        message, status = str(error), 422
    return render(
        request,
        "what_it_takes.html",
        me=me,
        result_id=result_id,
        form=form,
        answer=answer,
        message=message,
        status=status,
    )
