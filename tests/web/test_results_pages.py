"""The solve, allocation and comparison pages over HTTP, on the tiny example."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import Role, authenticate
from api.storage import job_rows, repository
from tests.api.helpers import make_settings, tiny_for
from tests.web.helpers import client_of, key, scenario_id_of, sign_in, tiny_json, upload


def solve_page(web: TestClient, csrf: str, document: bytes) -> tuple[str, str]:
    """Upload and solve ``document``; (scenario id, the page the solve led to)."""
    scenario_id = scenario_id_of(str(upload(web, csrf, "s.json", document).url))
    answer = web.post(f"/app/scenarios/{scenario_id}/versions/1/solve", data={"csrf_token": csrf})
    return scenario_id, answer.url.path


def test_allocation_page_has_a_table_behind_every_chart(app: FastAPI, web: TestClient) -> None:
    csrf = sign_in(web, key(app, Role.PLAN, "S1"))
    _, result = solve_page(web, csrf, tiny_json())
    page = web.get(result).text
    for chart, table in (("sankey", "flows"), ("distance", "distance"), ("providers", "providers")):
        assert f'class="chart {chart}"' in page and f'<table id="{table}"' in page
    doc = tiny_for("S1")
    rows = len(re.findall(r"<tr>", page.split('<table id="distance"')[1].split("</table>")[0]))
    assert rows == 1 + len(doc["places"]) + len(doc["neighbourhoods"])  # heading + areas
    assert "Every total reconciles to the penny." in page
    assert "pace-of-change cap" in page  # the tiny example's binding rules, in words
    assert "each £1m of room" in page


def test_an_infeasible_result_shows_the_conflict_and_least_change(
    app: FastAPI, web: TestClient
) -> None:
    csrf = sign_in(web, key(app, Role.APPROVE, "S1"))
    doc = tiny_for("S1")
    doc["pace_of_change"][0].update(floor_growth_share=0.5, cap_growth_share=0.6)
    _, result = solve_page(web, csrf, json.dumps(doc).encode())
    page = web.get(result).text
    assert 'id="status">infeasible' in page and "cannot all hold" in page
    assert '<table id="least-change">' in page and "pace-of-change floor" in page
    assert 'id="approve"' not in page and "svg" not in page.split("<main")[1]
    refused = web.post(f"{result}/approve", data={"csrf_token": csrf})
    assert refused.status_code == 409 and "only feasible results" in refused.text


def test_compare_two_results(app: FastAPI, web: TestClient) -> None:
    csrf = sign_in(web, key(app, Role.PLAN, "S1"))
    _, first = solve_page(web, csrf, tiny_json())
    doc = tiny_for("S1")
    for funder in doc["funders"]:
        funder["amount_pence"] = round(funder["amount_pence"] * 0.98)
    _, second = solve_page(web, csrf, json.dumps(doc).encode())
    a, b = first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]
    page = web.get(f"/app/compare?a={a}&b={b}")
    assert page.status_code == 200 and 'class="chart waterfall"' in page.text
    assert '<table id="changes-provider"' in page.text
    assert re.search(r'id="pot-change">−£', page.text)


def test_a_large_solve_is_a_job_whose_page_leads_to_the_result(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, sync_max_cells=0))  # every solve is a job
    with client_of(app) as web:
        csrf = sign_in(web, key(app, Role.PLAN, "S1"))
        _, job = solve_page(web, csrf, tiny_json())
        assert job.startswith("/app/jobs/")
        page = web.get(job, follow_redirects=False)
        for _ in range(600):  # bounded: until the job finishes, as the page's polling does
            if page.status_code == 303:
                break
            assert page.status_code == 200 and 'id="job-state"' in page.text
            assert '<div id="live" data-poll=' in page.text  # app.js fetches it again
            time.sleep(0.1)
            page = web.get(job, follow_redirects=False)
        assert page.headers["location"].startswith("/app/results/")
        assert web.get(page.headers["location"]).status_code == 200


def test_risk_page_compares_the_reserve_needed_with_the_reserve_held(
    app: FastAPI, web: TestClient
) -> None:
    csrf = sign_in(web, key(app, Role.PLAN, "S1"))
    _, result = solve_page(web, csrf, tiny_json())
    reader = client_of(app)
    sign_in(reader, key(app, Role.READ, "S1"))  # reading risk needs only the read role
    loose, strict = (reader.get(f"{result}/risk?confidence={c}") for c in (0.8, 0.99))
    assert loose.status_code == strict.status_code == 200
    assert 'class="chart histogram"' in loose.text and '<table id="provider-risk"' in loose.text

    def needed(page: str) -> float:
        found = re.search(r'id="reserve-needed">(−?)£([\d,.]+)m', page)
        assert found, "no reserve-needed figure"
        return (-1 if found.group(1) else 1) * float(found.group(2).replace(",", ""))

    assert needed(strict.text) >= needed(loose.text)  # more confidence needs more reserve
    assert len(re.findall(r"<tr><td>", loose.text.split('id="provider-risk"')[1])) == len(
        tiny_for("S1")["providers"]
    )


def test_approving_marks_the_plan_of_record_and_replacing_it_needs_saying_so(
    app: FastAPI, web: TestClient
) -> None:
    csrf = sign_in(web, key(app, Role.APPROVE, "S1"))
    scenario_id, first = solve_page(web, csrf, tiny_json())
    second = web.post(
        f"/app/scenarios/{scenario_id}/versions/1/solve", data={"csrf_token": csrf}
    ).url.path
    approved = web.post(f"{first}/approve", data={"csrf_token": csrf, "note": "Board, 3 March"})
    assert 'id="plan-of-record"' in approved.text and "Board, 3 March" in approved.text
    assert first.rsplit("/", 1)[1] in web.get("/app").text  # the list names the plan
    page = web.get(second).text
    assert 'id="supersede"' in page  # another result is the plan: offer to replace it
    refused = web.post(f"{second}/approve", data={"csrf_token": csrf})
    assert refused.status_code == 409 and "supersede" in refused.text
    replaced = web.post(f"{second}/approve", data={"csrf_token": csrf, "supersede": "yes"})
    assert 'id="plan-of-record"' in replaced.text
    assert 'id="plan-of-record"' not in web.get(first).text


def test_a_queued_job_shows_its_progress_and_can_be_cancelled(
    app: FastAPI, web: TestClient
) -> None:
    token = key(app, Role.PLAN, "S1")
    csrf = sign_in(web, token)
    scenario_id = scenario_id_of(str(upload(web, csrf, "s.json", tiny_json()).url))
    with app.state.database.transaction() as session:
        principal = authenticate(session, token)
        assert principal is not None
        version = repository.get_version(
            session, principal=principal, scenario_pk=scenario_id, version=1
        )
        job = job_rows.create_job(  # queued for a runner that never takes it
            session, principal=principal, version=version, backend=None,
            time_limit_s=10.0, runner_id="a-runner-elsewhere",
        )  # fmt: skip
        job_id = job.id
    page = web.get(f"/app/jobs/{job_id}", follow_redirects=False)
    assert page.status_code == 200 and 'id="job-state">queued' in page.text
    assert '<progress id="job-progress"' in page.text and '<div id="live" data-poll=' in page.text
    assert "Cancel the job" in page.text
    cancelled = web.post(f"/app/jobs/{job_id}/cancel", data={"csrf_token": csrf})
    assert cancelled.status_code == 200 and 'id="job-state">cancelled' in cancelled.text
    assert "data-poll" not in cancelled.text and "Cancel the job" not in cancelled.text
