"""The alternatives and "what would it take" pages over HTTP, on the tiny example."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.security import Role
from tests.api.helpers import tiny_for
from tests.web.helpers import key, sign_in, tiny_json
from tests.web.test_results_pages import solve_page


def _pence(page: str, table: str, css: str) -> list[int]:
    body = page.split(f'<table id="{table}"')[1].split("</table>")[0]
    return [int(p) for p in re.findall(rf'class="num {css}" data-pence="(-?\d+)"', body)]


def test_alternatives_from_a_result_reconcile_and_bad_input_is_a_message(
    app: FastAPI, web: TestClient
) -> None:
    csrf = sign_in(web, key(app, Role.PLAN, "S1"))
    _, result = solve_page(web, csrf, tiny_json())
    assert f'href="{result}/alternatives"' in web.get(result).text
    assert 'id="along"' in web.get(f"{result}/alternatives").text
    provider = tiny_for("S1")["providers"][0]["provider_id"]
    answer = web.post(
        f"{result}/alternatives",
        data={"csrf_token": csrf, "along": f"provider {provider}", "within": "5", "count": "2"},
    )
    assert answer.status_code == 200, answer.text
    page = answer.text
    pots = _pence(page, "alternatives-table", "pot")
    assert pots and len(set(pots)) == 1
    assert page.count("reconciles to the penny") == len(pots)
    # A tolerance of zero and an unknown dimension are messages on the page, not a 500.
    zero = web.post(
        f"{result}/alternatives", data={"csrf_token": csrf, "along": "place P1", "within": "0"}
    )
    assert zero.status_code == 422 and 'id="answer-error"' in zero.text
    assert "within_share" in zero.text and 'value="place P1"' in zero.text
    unknown = web.post(
        f"{result}/alternatives", data={"csrf_token": csrf, "along": "wizards", "within": "1"}
    )
    assert unknown.status_code == 422 and 'id="answer-error"' in unknown.text
    refused = web.post(f"{result}/alternatives", data={"along": "place P1"})
    assert refused.status_code in (400, 403)


def test_what_would_it_take_from_a_result(app: FastAPI, web: TestClient) -> None:
    csrf = sign_in(web, key(app, Role.PLAN, "S1"))
    _, result = solve_page(web, csrf, tiny_json())
    assert f'href="{result}/what-would-it-take"' in web.get(result).text
    doc = tiny_for("S1")
    total = sum(f["amount_pence"] for f in doc["funders"])
    answer = web.post(f"{result}/what-would-it-take", data={"csrf_token": csrf, "question": "pot"})
    assert answer.status_code == 200, answer.text
    change = int(re.findall(r'id="answer-change" data-pence="(-?\d+)"', answer.text)[0])
    pot = int(re.findall(r'id="answer-pot" data-pence="(-?\d+)"', answer.text)[0])
    assert pot == total + change  # the table reconciles: today's pot plus the change
    funder = web.post(
        f"{result}/what-would-it-take",
        data={"csrf_token": csrf, "question": "pot", "funder": "nobody"},
    )
    assert funder.status_code == 422 and "no funder &#39;nobody&#39;" in funder.text
    year = web.post(
        f"{result}/what-would-it-take",
        data={"csrf_token": csrf, "question": "pace", "by_year": "9"},
    )
    assert year.status_code == 422 and 'id="answer-error"' in year.text
