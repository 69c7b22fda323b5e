"""The batch and multi-year plan pages over HTTP: roles, located form errors, tenancy,
a sweep followed to its tables and CSV, and a plan's glide-path chart and table."""

from __future__ import annotations

import re
import time

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.security import Role
from tests.web.helpers import client_of, key, scenario_id_of, sign_in, tiny_json, upload


def _scenario(app: FastAPI, web: TestClient) -> tuple[str, str]:
    csrf = sign_in(web, key(app, Role.PLAN, "S1"))
    created = upload(web, csrf, "tiny.json", tiny_json())
    return csrf, scenario_id_of(str(created.url))


def _finished(web: TestClient, url: str, deadline_s: float = 120) -> str:
    """The batch page once the batch has finished (a bounded wait, not a speed claim)."""
    deadline = time.monotonic() + deadline_s
    while True:
        page = web.get(url).text
        state = re.search(r'id="batch-state">(\w+)<', page)
        assert state, page[:500]
        if state.group(1) in ("succeeded", "failed", "cancelled"):
            return page
        assert time.monotonic() < deadline, f"the batch is still {state.group(1)}"
        time.sleep(0.2)


def test_a_sweep_runs_and_shows_its_tables(app: FastAPI, web: TestClient) -> None:
    csrf, scenario_id = _scenario(app, web)
    answer = web.post(
        f"/app/scenarios/{scenario_id}/versions/1/batch",
        data={"csrf_token": csrf, "name": "growth", "pot_growth": "-1, 0, 2.5"},
    )
    assert answer.url.path.startswith("/app/batches/"), answer.text[:500]
    page = _finished(web, str(answer.url))
    assert 'id="batch-state">succeeded<' in page and 'id="batch-done">3<' in page
    assert "data-poll" not in page.split('id="live"')[1].split(">")[0]  # finished: no polling
    assert page.count('<tr class="run-optimal">') == 3
    assert 'id="batch-elapsed">Ran for ' in page  # inside the live part, so it is current
    assert "pot_growth = 0.025" in page and "pot_growth = -0.01" in page
    places = web.get(f"{answer.url.path}/export", params={"table": "places"})
    assert places.headers["content-type"].startswith("text/csv")
    assert len(places.text.strip().splitlines()) == 1 + 3 * 2  # 3 runs × 2 places
    listed = web.get("/app/batches").text
    assert answer.url.path in listed and "growth" in listed
    # Another system's key sees neither the batch nor its tables.
    stranger = client_of(app)
    sign_in(stranger, key(app, Role.ADMIN, "S2"))
    assert stranger.get(answer.url.path).status_code == 404
    assert stranger.get(f"{answer.url.path}/export").status_code == 404
    assert answer.url.path not in stranger.get("/app/batches").text


def test_batch_forms_are_checked_and_located(app: FastAPI, web: TestClient) -> None:
    csrf, scenario_id = _scenario(app, web)
    url = f"/app/scenarios/{scenario_id}/versions/1/batch"
    not_numbers = web.post(url, data={"csrf_token": csrf, "pot_growth": "1, lots"})
    assert not_numbers.status_code == 422 and "pot_growth[1]" in not_numbers.text
    bad_json = web.post(url, data={"csrf_token": csrf, "spec": '{"grid": ['})
    assert bad_json.status_code == 422 and "line 1, column" in bad_json.text
    bad_spec = web.post(url, data={"csrf_token": csrf, "spec": '{"grid": [{"name": "x"}]}'})
    assert bad_spec.status_code == 422 and "spec.grid[0].values" in bad_spec.text
    assert web.post(url, data={"pot_growth": "1"}).status_code == 403  # no CSRF token
    assert "/app/batches/" not in web.get("/app/batches").text  # nothing was started


def test_a_read_key_sees_no_batch_form_and_is_refused(app: FastAPI, web: TestClient) -> None:
    _, scenario_id = _scenario(app, web)
    reader = client_of(app)
    csrf = sign_in(reader, key(app, Role.READ, "S1"))
    page = reader.get(f"/app/scenarios/{scenario_id}").text
    assert 'id="start-batch"' not in page and 'id="plan"' in page  # plans store nothing
    refused = reader.post(
        f"/app/scenarios/{scenario_id}/versions/1/batch",
        data={"csrf_token": csrf, "pot_growth": "1"},
    )
    assert refused.status_code == 403


def test_a_plan_draws_each_place_s_glide_path(app: FastAPI, web: TestClient) -> None:
    _, scenario_id = _scenario(app, web)
    reader = client_of(app)
    sign_in(reader, key(app, Role.READ, "S1"))  # a plan stores nothing: reading is enough
    page = reader.get(f"/app/scenarios/{scenario_id}/versions/1/plan", params={"years": 3})
    assert page.status_code == 200, page.text[:500]
    assert 'class="chart glide-path"' in page.text
    assert page.text.count('class="glide"') == 2  # the tiny example's two places
    assert page.text.count('class="glide-point"') == 2 * 3
    table = page.text.split('<table id="glide">')[1].split("</table>")[0]
    assert table.count('<th scope="row">') == 2 and table.count("<td") == 2 * 3
    wrong = web.get(f"/app/scenarios/{scenario_id}/versions/1/plan", params={"growth": "fast"})
    assert wrong.status_code == 422 and "not a percentage" in wrong.text
    too_long = web.get(f"/app/scenarios/{scenario_id}/versions/1/plan", params={"years": 6})
    assert too_long.status_code == 422
    assert web.get("/app/scenarios/nope/versions/1/plan").status_code == 404
