"""Bounded work: capped issue lists, capped workbook parsing, and per-key / per-system queues."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import event, update

from allocator.io.excel_read import read_workbook_bytes
from allocator.io.excel_write import build_workbook
from allocator.io.read_limits import ReadLimits
from api import quotas
from api.app import create_app
from api.quotas import RefusalMemory
from api.security import Role
from api.storage.tables import JobRow
from models import Scenario
from tests.api.helpers import (
    API,
    Headers,
    assert_problem,
    make_settings,
    new_key,
    submit,
    tiny_for,
    wait_for_job,
)

SLOW = "tests.api.fault_solvers:slow_solve"


def workbook(rows: int, *, bad: bool) -> bytes:
    """The tiny scenario as a workbook with ``rows`` more Providers rows (invalid if ``bad``)."""
    wb: Workbook = build_workbook(Scenario.model_validate(tiny_for("S1")))
    sheet = wb["Providers"]
    for number in range(rows):
        money = "lots" if bad else "1.00"  # 'lots' is a cell problem: not an amount
        sheet.append([f"X{number}", "extra", "general_practice", "P1", "well", money, money])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def upload(client: TestClient, headers: Headers, data: bytes) -> Any:
    files = {"file": ("big.xlsx", data, "application/octet-stream")}
    return client.post(f"{API}/scenarios", files=files, headers=headers)


def test_a_long_list_of_issues_is_capped_and_counted(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, max_issues_reported=25))
    with TestClient(app, raise_server_exceptions=False) as client:
        body = assert_problem(
            upload(client, new_key(app, Role.PLAN, "S1"), workbook(400, bad=True)), 422
        )
    assert len(body["errors"]) == 25
    assert body["errors_total"] > 400
    assert sum(body["error_counts"].values()) == body["errors_total"]


def test_a_short_list_of_issues_is_not_summarised(client: TestClient, admin: Headers) -> None:
    body = assert_problem(upload(client, admin, workbook(2, bad=True)), 422)
    assert 0 < len(body["errors"]) < 300
    assert "errors_total" not in body and "error_counts" not in body


def test_reading_stops_at_the_row_limit() -> None:
    limits = ReadLimits(max_rows_per_sheet=50, max_cells=10**9, max_issues=10**9)
    scenario, issues = read_workbook_bytes(workbook(200, bad=False), limits)
    assert scenario is None
    stopped = [i for i in issues if i.code == "too-large"]
    assert len(stopped) == 1 and stopped[0].sheet == "Providers" and stopped[0].row == 52
    assert "more than 50 rows" in stopped[0].message


def test_reading_stops_at_the_cell_and_problem_limits() -> None:
    few_cells = ReadLimits(max_rows_per_sheet=10**9, max_cells=100, max_issues=10**9)
    _, issues = read_workbook_bytes(workbook(200, bad=False), few_cells)
    assert next(i.message for i in issues if i.code == "too-large").endswith(
        "more than 100 cells in the workbook (the limit)"
    )
    few_problems = ReadLimits(max_rows_per_sheet=10**9, max_cells=10**9, max_issues=30)
    _, issues = read_workbook_bytes(workbook(2_000, bad=True), few_problems)
    assert len(issues) < 100 and any(i.code == "too-large" for i in issues)


def test_the_row_limit_is_a_setting(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, max_sheet_rows=20))
    with TestClient(app, raise_server_exceptions=False) as client:
        body = assert_problem(
            upload(client, new_key(app, Role.PLAN, "S1"), workbook(60, bad=False)), 422
        )
    assert [e["code"] for e in body["errors"]] == ["too-large"]


def _solve(client: TestClient, headers: Headers, scenario_id: str) -> Any:
    return client.post(
        f"{API}/scenarios/{scenario_id}/versions/1/solve", json={"mode": "job"}, headers=headers
    )


def test_queued_jobs_are_limited_per_key_and_per_system(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        solve_target=SLOW,
        max_active_jobs_per_key=2,
        max_active_jobs_per_system=3,
        queue_retry_after_s=7,
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        flood, other, elsewhere = (
            new_key(app, Role.PLAN, "S1"),
            new_key(app, Role.PLAN, "S1"),
            new_key(app, Role.PLAN, "S2"),
        )
        scenario_id = submit(client, flood)
        jobs = [_solve(client, flood, scenario_id) for _ in range(2)]
        assert [j.status_code for j in jobs] == [202, 202]
        refused = _solve(client, flood, scenario_id)
        body = assert_problem(refused, 429)
        assert refused.headers["Retry-After"] == "7"
        assert body["type"].endswith(":queue-full") and "this key" in body["detail"]
        assert _solve(client, other, scenario_id).status_code == 202  # the system's third
        system_full = assert_problem(_solve(client, other, scenario_id), 429)
        assert "system S1" in system_full["detail"]
        other_id = submit(client, elsewhere, tiny_for("S2"))
        assert (
            _solve(client, elsewhere, other_id).status_code == 202
        )  # another tenant is not blocked
        first = jobs[0].json()["job"]["id"]
        assert client.post(f"{API}/jobs/{first}/cancel", headers=flood).status_code in (200, 202)
        wait_for_job(client, flood, first, ("cancelled",))
        assert _solve(client, flood, scenario_id).status_code == 202  # room again
        spec = client.get("/openapi.json").json()
        solve_op = spec["paths"]["/api/v1/scenarios/{scenario_id}/versions/{version}/solve"]["post"]
        assert "Retry-After" in solve_op["responses"]["429"]["headers"]


def test_batches_are_limited_per_key(tmp_path: Path) -> None:
    app = create_app(
        make_settings(
            tmp_path,
            batch_target="tests.api.fault_solvers:sleepy_batch",
            max_active_batches_per_key=1,
        )
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        planner = new_key(app, Role.PLAN, "S1")
        scenario_id = submit(client, planner)
        body = {
            "name": "sweep",
            "base": {"scenario_id": scenario_id, "version": 1},
            "grid": [{"name": "g", "change": {"kind": "pot_growth"}, "values": [0.0, 0.01, 0.02]}],
        }
        first = client.post(f"{API}/batches", json=body, headers=planner)
        assert first.status_code == 202, first.text
        second = client.post(f"{API}/batches", json=body, headers=planner)
        assert_problem(second, 429)
        assert second.headers["Retry-After"] == "30"


def _statements(app: Any) -> list[str]:
    """Every SQL statement the app's database runs from now on."""
    seen: list[str] = []
    event.listen(app.state.database.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


@contextmanager
def _full_queue(
    tmp_path: Path, memory_s: float, **extra: Any
) -> Iterator[tuple[Any, TestClient, Headers, str]]:
    """A server whose one plan key has its one allowed solve job running, and its scenario."""
    settings = make_settings(
        tmp_path,
        solve_target=SLOW,
        max_active_jobs_per_key=1,
        queue_refusal_memory_s=memory_s,
        **extra,
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        flood = new_key(app, Role.PLAN, "S1")
        scenario_id = submit(client, flood)
        yield app, client, flood, scenario_id


def test_a_refusal_is_remembered_briefly_so_a_flood_of_retries_costs_no_counting(
    tmp_path: Path,
) -> None:
    # Answered at once (not held back to the end of the period: the next test does that).
    with _full_queue(tmp_path, 0.5, queue_refusal_delay_s=0.0) as (app, client, flood, scenario_id):
        first = _solve(client, flood, scenario_id)
        assert first.status_code == 202
        assert_problem(_solve(client, flood, scenario_id), 429)  # counted: the queue is full
        statements = _statements(app)
        again = _solve(client, flood, scenario_id)
        assert_problem(again, 429)
        assert again.headers["Retry-After"]
        assert not any("count" in sql.lower() for sql in statements), statements
        # Room made elsewhere (another server's worker ended the job) is seen after 0.5 s.
        with app.state.database.transaction(write=True) as session:
            session.execute(update(JobRow).values(state="failed", error="ended elsewhere"))
        assert_problem(_solve(client, flood, scenario_id), 429)
        time.sleep(0.6)
        assert _solve(client, flood, scenario_id).status_code == 202


def test_a_retry_that_ignores_retry_after_is_answered_late_and_holds_up_no_one(
    tmp_path: Path,
) -> None:
    with _full_queue(tmp_path, 1.5) as (_, client, flood, scenario_id):
        assert _solve(client, flood, scenario_id).status_code == 202
        assert_problem(_solve(client, flood, scenario_id), 429)  # counted: remembered 1.5 s
        with ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            held = pool.submit(_solve, client, flood, scenario_id)
            time.sleep(0.1)
            assert client.get("/health").status_code == 200  # the server is not held up
            served = time.monotonic() - started
            assert not held.done()
            assert_problem(held.result(timeout=10), 429)
            answered = time.monotonic() - started
        assert served < 0.75 < answered < 3


@pytest.mark.parametrize("why", ["no delay set", "too many held"])
def test_a_remembered_refusal_is_answered_at_once_when_it_may_not_be_held(
    tmp_path: Path, why: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = {"queue_refusal_delay_s": 0.0} if why == "no delay set" else {}
    if why == "too many held":
        monkeypatch.setattr(RefusalMemory, "MAX_HELD", 0)
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(quotas, "sleep", record)
    with _full_queue(tmp_path, 60, **extra) as (_, client, flood, scenario_id):
        assert _solve(client, flood, scenario_id).status_code == 202
        assert_problem(_solve(client, flood, scenario_id), 429)
        assert_problem(_solve(client, flood, scenario_id), 429)  # from memory
    assert waits == []
    if why == "too many held":  # while one may be held, it is held to the end of the period
        monkeypatch.undo()
        monkeypatch.setattr(quotas, "sleep", record)
        with _full_queue(tmp_path / "held", 60) as (_, client, flood, scenario_id):
            assert _solve(client, flood, scenario_id).status_code == 202
            assert_problem(_solve(client, flood, scenario_id), 429)
            assert_problem(_solve(client, flood, scenario_id), 429)
        assert len(waits) == 1 and 0 < waits[0] <= 1.0  # the delay's default, 1 s


def test_a_cancel_on_this_server_makes_room_at_once(tmp_path: Path) -> None:
    with _full_queue(tmp_path, 60) as (_, client, flood, scenario_id):
        job = _solve(client, flood, scenario_id).json()["job"]["id"]
        assert_problem(_solve(client, flood, scenario_id), 429)
        assert client.post(f"{API}/jobs/{job}/cancel", headers=flood).status_code in (200, 202)
        wait_for_job(client, flood, job, ("cancelled",))
        assert _solve(client, flood, scenario_id).status_code == 202
