"""Problem details everywhere: bad JSON, NaN, located issues, limits, hostile workbooks, 500s."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from allocator.io.excel import build_workbook
from api.app import create_app
from api.security import Role
from api.storage.tables import AuditEntry, ScenarioRow, ScenarioVersionRow
from models import Scenario
from tests.api.helpers import API, Headers, assert_problem, make_settings, new_key, tiny_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MB = 1024 * 1024


def _post_text(client: TestClient, headers: Headers, text: str | bytes) -> object:
    return client.post(
        f"{API}/scenarios", content=text, headers={**headers, "content-type": "application/json"}
    )


def _workbook(edit: object = None) -> bytes:
    workbook = build_workbook(Scenario.model_validate(tiny_for("S1")))
    if callable(edit):
        edit(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(
    client: TestClient, headers: Headers, data: bytes, name: str = "s.xlsx", kind: str = XLSX
) -> object:
    return client.post(f"{API}/scenarios", files={"file": (name, data, kind)}, headers=headers)


def test_malformed_json_is_located(client: TestClient, admin: Headers) -> None:
    problem = assert_problem(
        _post_text(client, admin, '{"scenario_id": "x",\n  "systems": [}'), 422
    )
    assert "line 2" in problem["errors"][0]["message"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_rejected_where_they_are(
    client: TestClient, admin: Headers, literal: str
) -> None:
    text = (
        '{"systems": [{"system_id": "S1"}], "local_adjustments": '
        f'[{{"neighbourhood_id": "N1", "factor": {literal}}}]}}'
    )
    problem = assert_problem(_post_text(client, admin, text), 422)
    located = [e for e in problem["errors"] if e["loc"] == ["local_adjustments", 0, "factor"]]
    assert located and literal in located[0]["message"]


def test_negative_pence_is_located(client: TestClient, admin: Headers) -> None:
    doc = tiny_for("S1")
    doc["funders"][1]["amount_pence"] = -5
    doc["providers"][2]["baseline_pence"] = -1
    problem = assert_problem(client.post(f"{API}/scenarios", json=doc, headers=admin), 422)
    locs = {tuple(e["loc"]) for e in problem["errors"]}
    assert ("funders", 1, "amount_pence") in locs
    assert ("providers", 2, "baseline_pence") in locs


def test_fastapi_bodies_report_every_issue_as_a_problem(client: TestClient, admin: Headers) -> None:
    bad = client.post(
        f"{API}/keys", content=b"{not json", headers={**admin, "content-type": "application/json"}
    )
    assert_problem(bad, 422)
    invalid = assert_problem(
        client.post(
            f"{API}/keys", json={"role": "nobody", "systems": [], "extra": 1}, headers=admin
        ),
        422,
    )
    assert len(invalid["errors"]) >= 3
    nan = client.post(
        f"{API}/scenarios/x/versions/1/solve",
        content=b'{"time_limit_s": NaN}',
        headers={**admin, "content-type": "application/json"},
    )
    assert_problem(nan, 422)


def test_unsupported_content_type_and_unknown_routes(client: TestClient, admin: Headers) -> None:
    wrong = client.post(
        f"{API}/scenarios", content=b"a,b", headers={**admin, "content-type": "text/csv"}
    )
    assert_problem(wrong, 415)
    assert_problem(_upload(client, admin, b"{}", name="scenario.csv", kind="text/csv"), 415)
    no_file = client.post(f"{API}/scenarios", files={"other": ("a.json", b"{}")}, headers=admin)
    assert assert_problem(no_file, 422)["errors"][0]["loc"] == ["file"]
    assert_problem(client.get(f"{API}/nowhere", headers=admin), 404)
    assert_problem(client.put(f"{API}/scenarios", headers=admin), 405)


def test_client_request_id_is_kept_alongside_the_servers(
    client: TestClient, admin: Headers
) -> None:
    response = client.get(f"{API}/scenarios/missing", headers={**admin, "X-Request-ID": "abc-123"})
    server_id = response.headers["x-request-id"]
    assert server_id != "abc-123" and len(server_id) == 32
    assert response.headers["x-client-request-id"] == "abc-123"
    assert assert_problem(response, 404)["request_id"] == server_id


def test_fifty_megabyte_body_is_refused(client: TestClient, admin: Headers) -> None:
    response = _post_text(client, admin, b" " * (50 * MB))
    problem = assert_problem(response, 413)
    assert "limit" in problem["detail"]


def test_oversized_workbook_and_scenario(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, max_workbook_bytes=20_000, max_scenario_cells=10))
    with TestClient(app) as client:
        headers = new_key(app, Role.PLAN, "S1")
        assert "workbook" in assert_problem(_upload(client, headers, _workbook()), 413)["detail"]
        big = assert_problem(
            client.post(f"{API}/scenarios", json=tiny_for("S1"), headers=headers), 413
        )
        assert "cells" in big["detail"]


def test_zip_bomb_disguised_as_a_workbook(client: TestClient, admin: Headers) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (200 * MB))
    data = buffer.getvalue()
    assert len(data) < 1 * MB
    problem = assert_problem(_upload(client, admin, data), 422)
    assert "expands" in problem["errors"][0]["message"] or "bomb" in problem["errors"][0]["message"]


def test_not_a_workbook(client: TestClient, admin: Headers) -> None:
    problem = assert_problem(_upload(client, admin, b"just text"), 422)
    assert "zip" in problem["errors"][0]["message"]


def test_workbook_with_a_formula_and_a_wrong_type_is_located(
    client: TestClient, admin: Headers
) -> None:
    def edit(workbook: object) -> None:
        funders = workbook["Funders"]  # type: ignore[index]
        funders["D2"] = "=1+1"
        providers = workbook["Providers"]  # type: ignore[index]
        header = [cell.value for cell in providers[1]]
        providers.cell(row=3, column=header.index("Baseline (£)") + 1, value="lots")

    problem = assert_problem(_upload(client, admin, _workbook(edit)), 422)
    by_sheet = {(e["sheet"], e["row"]) for e in problem["errors"]}
    assert ("Funders", 2) in by_sheet
    assert ("Providers", 3) in by_sheet
    formula = [e for e in problem["errors"] if e["sheet"] == "Funders"]
    assert "formula" in formula[0]["message"].lower()


def test_unexpected_errors_are_500_problems_without_internals(
    client: TestClient, admin: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> object:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("api.storage.repository.list_scenarios", explode)
    response = client.get(f"{API}/scenarios", headers=admin)
    problem = assert_problem(response, 500)
    assert problem["request_id"] in problem["detail"]
    assert "secret" not in response.text and "Traceback" not in response.text


def test_a_write_failing_part_way_leaves_nothing_behind(
    client: TestClient, app: object, admin: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = app.state.database  # type: ignore[attr-defined]

    def count(table: type) -> int:
        with database.transaction(write=False) as session:
            return int(session.scalar(select(func.count()).select_from(table)) or 0)

    before = count(AuditEntry)

    def fail_after_insert(*args: object, **kwargs: object) -> object:
        raise RuntimeError("disk full")

    # create_scenario has inserted the scenario, its systems and version 1 when this runs.
    monkeypatch.setattr("api.storage.repository.add_audit", fail_after_insert)
    response = client.post(f"{API}/scenarios", json=tiny_for("S1"), headers=admin)
    assert_problem(response, 500)
    assert count(ScenarioRow) == 0 and count(ScenarioVersionRow) == 0
    assert count(AuditEntry) == before
    monkeypatch.undo()
    assert client.get(f"{API}/scenarios", headers=admin).json()["total"] == 0


def test_a_failing_commit_is_a_500_and_stores_nothing(
    client: TestClient, app: object, admin: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.orm import Session

    from api.storage.db import WRITE_OPTION

    commit = Session.commit

    def refuse_writes(self: Session) -> None:
        if self.get_bind().get_execution_options().get(WRITE_OPTION):
            raise RuntimeError("the disk is full")
        commit(self)

    monkeypatch.setattr(Session, "commit", refuse_writes)
    assert_problem(client.post(f"{API}/scenarios", json=tiny_for("S1"), headers=admin), 500)
    monkeypatch.undo()
    assert client.get(f"{API}/scenarios", headers=admin).json()["total"] == 0
