"""Storage on SQLite and PostgreSQL: migrations, versions and conflicts, tenancy, append-only.

The PostgreSQL variants run when ALLOCATOR_TEST_POSTGRES_URL is set (see
scripts/ci_postgres.sh; the ``database_url`` fixture is in conftest.py); each test gets its
own schema there, dropped afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from allocator.errors import NotFound, VersionConflict
from api.app import create_app
from api.security import Principal, Role, create_key
from api.storage import job_rows, repository
from api.storage.db import Database
from api.storage.migrate import current_revision, head_revision, upgrade
from api.storage.tables import (
    AuditEntry,
    Base,
    JobRow,
    RunnerRow,
    ScenarioRow,
    ScenarioVersionRow,
)
from models import Scenario
from tests.api.helpers import API, make_settings, new_key, solved_result, submit, tiny_for

S1 = Principal(key_id="k1", name="one", role=Role.ADMIN, systems=frozenset({"S1"}))
S2 = Principal(key_id="k2", name="two", role=Role.ADMIN, systems=frozenset({"S2"}))
BOTH = Principal(key_id="k3", name="both", role=Role.ADMIN, systems=frozenset({"S1", "S2"}))


def _scenario(system: str = "S1", **changes: object) -> Scenario:
    return Scenario.model_validate(tiny_for(system, **changes))


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.connect(database_url)
    upgrade(db.engine)
    yield db
    db.dispose()


def test_migrations_reach_head_and_match_the_models(database: Database) -> None:
    assert current_revision(database.engine) == head_revision() == "0004"
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    upgrade(database.engine)  # applying again is a no-op


def test_downgrade_and_upgrade_again(database: Database) -> None:
    upgrade(database.engine, "head")
    from alembic import command

    from api.storage.migrate import alembic_config

    with database.engine.connect() as connection:
        command.downgrade(alembic_config(connection), "base")
        connection.commit()
    assert current_revision(database.engine) is None
    upgrade(database.engine)
    assert current_revision(database.engine) == "0004"


def test_versions_and_stale_edits(database: Database) -> None:
    with database.transaction() as session:
        row, first = repository.create_scenario(
            session, principal=S1, scenario=_scenario(), source_format="json"
        )
    with database.transaction() as session:
        row = repository.get_scenario(session, principal=S1, scenario_pk=row.id)
        second = repository.add_version(
            session,
            principal=S1,
            row=row,
            base_version=1,
            scenario=_scenario(name="v2"),
            source_format="json",
        )
    assert (first.version, second.version) == (1, 2)
    scenario_pk = row.id

    def late_edit_of_version_1() -> None:
        with database.transaction() as session:
            fresh = repository.get_scenario(session, principal=S1, scenario_pk=scenario_pk)
            repository.add_version(
                session,
                principal=S1,
                row=fresh,
                base_version=1,
                scenario=_scenario(name="late"),
                source_format="json",
            )

    with pytest.raises(VersionConflict):
        late_edit_of_version_1()
    with database.transaction(write=False) as session:
        versions = repository.list_versions(session, principal=S1, scenario_pk=scenario_pk)
        assert [v.version for v in versions] == [1, 2]
        stored = Scenario.model_validate_json(versions[1].document)
        assert stored.name == "v2" and versions[1].content_hash == stored.content_hash()


def test_concurrent_edits_of_one_version_one_wins(database: Database) -> None:
    with database.transaction() as session:
        row, _ = repository.create_scenario(
            session, principal=S1, scenario=_scenario(), source_format="json"
        )
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def edit(name: str) -> None:
        barrier.wait()
        try:
            with database.transaction() as session:
                fresh = repository.get_scenario(session, principal=S1, scenario_pk=row.id)
                repository.add_version(
                    session,
                    principal=S1,
                    row=fresh,
                    base_version=1,
                    scenario=_scenario(name=name),
                    source_format="json",
                )
            outcomes.append("stored")
        except VersionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(f"edit {i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "stored"]
    with database.transaction(write=False) as session:
        assert session.get(ScenarioRow, row.id).latest_version == 2  # type: ignore[union-attr]


def test_tenancy_filters(database: Database) -> None:
    two = _scenario("S1")
    two_doc = two.model_dump(mode="json")
    two_doc["systems"].append({"system_id": "S2", "name": ""})
    two_doc["places"][1]["system_id"] = "S2"
    with database.transaction() as session:
        one, _ = repository.create_scenario(
            session, principal=S1, scenario=_scenario("S1"), source_format="json"
        )
        other, _ = repository.create_scenario(
            session, principal=S2, scenario=_scenario("S2"), source_format="json"
        )
        shared, _ = repository.create_scenario(
            session,
            principal=BOTH,
            scenario=Scenario.model_validate(two_doc),
            source_format="json",
        )
    with database.transaction(write=False) as session:

        def visible(principal: Principal) -> set[str]:
            rows, total = repository.list_scenarios(
                session, principal=principal, page=1, page_size=10
            )
            assert total == len(rows)
            return {r.id for r in rows}

        assert visible(S1) == {one.id}
        assert visible(S2) == {other.id}
        assert visible(BOTH) == {one.id, other.id, shared.id}
        with pytest.raises(NotFound):
            repository.get_scenario(session, principal=S1, scenario_pk=shared.id)


def test_append_only_tables(database: Database) -> None:
    with database.transaction() as session:
        repository.add_audit(session, principal=S1, request_id="r1", action="test", systems=["S1"])
    statements = ["UPDATE audit_log SET action = 'changed'", "DELETE FROM audit_log"]
    if database.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as connection:
            connection.execute(text(statement))
    with database.transaction(write=False) as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert entry.action == "test" and entry.at.tzinfo is not None


def test_a_failed_transaction_writes_nothing(database: Database) -> None:
    def insert_then_fail() -> None:
        with database.transaction() as session:
            repository.create_scenario(
                session, principal=S1, scenario=_scenario(), source_format="json"
            )
            raise RuntimeError("fails after the insert")

    with pytest.raises(RuntimeError):
        insert_then_fail()
    with database.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(ScenarioRow)) == 0


def test_orphaned_jobs_are_found_and_failed(database: Database) -> None:
    from datetime import datetime

    with database.transaction() as session:
        _row, version = repository.create_scenario(
            session, principal=S1, scenario=_scenario(), source_format="json"
        )
        session.add(RunnerRow(id="alive"))
        session.add(RunnerRow(id="dead", heartbeat_at=datetime.now(UTC) - timedelta(minutes=5)))
        session.flush()
        jobs = {
            runner: job_rows.create_job(
                session,
                principal=S1,
                version=version,
                backend=None,
                time_limit_s=1,
                runner_id=runner,
            ).id
            for runner in ("alive", "dead", "gone", "me")
        }
    with database.transaction() as session:
        orphans = job_rows.orphaned_jobs(
            session, stale_after=timedelta(seconds=30), own_runner="me"
        )
        assert set(orphans) == {jobs["dead"], jobs["gone"]}
        assert job_rows.finish_jobs(session, job_ids=orphans, state="failed", error="x") == 2
        assert job_rows.finish_jobs(session, job_ids=orphans, state="failed", error="x") == 0
    with database.transaction(write=False) as session:
        states = {job.runner_id: job.state for job in session.scalars(select(JobRow))}
    assert states == {"alive": "queued", "dead": "failed", "gone": "failed", "me": "queued"}


def test_keys_round_trip(database: Database) -> None:
    from api.security import authenticate

    with database.transaction() as session:
        key = create_key(session, role=Role.PLAN, systems=["S2", "S1", "S1"], name="n")
    with database.transaction(write=False) as session:
        principal = authenticate(session, key.token)
        assert principal is not None and principal.systems == {"S1", "S2"}
        assert authenticate(session, key.token + "x") is None


def test_the_api_end_to_end(database_url: str, tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, database_url=database_url))
    with TestClient(app) as client:
        headers = new_key(app, Role.APPROVE, "S1")
        scenario_id = submit(client, headers)
        result_id = solved_result(client, headers, scenario_id)
        assert client.post(f"{API}/results/{result_id}/approve", headers=headers).status_code == 200
        ready = client.get("/ready", headers=headers).json()
        assert ready["database"] == app.state.database.engine.dialect.name
        listed = client.get(f"{API}/scenarios", headers=headers).json()
        assert listed["total"] == 1 and listed["items"][0]["plan_of_record"] == result_id


def test_stored_records_cannot_be_changed_or_removed(database: Database) -> None:
    """Results, scenario versions, approvals and audit rows: the database refuses it."""
    with database.transaction() as session:
        repository.add_audit(session, principal=S1, request_id="r1", action="test", systems=["S1"])
        row, _ = repository.create_scenario(
            session, principal=S1, scenario=_scenario(), source_format="json"
        )
    with database.engine.begin() as connection:  # a result and an approval, written raw
        connection.execute(
            text(
                "INSERT INTO results (id, scenario_pk, version, status, feasible, backend,"
                " scenario_hash, document, created_at, created_by) VALUES"
                " ('r1', :pk, 1, 'optimal', true, 'highs', 'h', '{}', '2026-01-01', 'k')"
            ),
            {"pk": row.id},
        )
        connection.execute(
            text(
                "INSERT INTO approvals (scenario_pk, sequence, result_id, approved_at,"
                " approved_by, note) VALUES (:pk, 1, 'r1', '2026-01-01', 'k', '')"
            ),
            {"pk": row.id},
        )
    tables = {
        "results": "status = 'x'",
        "scenario_versions": "comment = 'x'",
        "audit_log": "action = 'x'",
        "approvals": "note = 'x'",
    }
    statements = [f"UPDATE {t} SET {change}" for t, change in tables.items()]
    statements += [f"DELETE FROM {t}" for t in tables]
    if database.engine.dialect.name == "postgresql":
        statements += [f"TRUNCATE {t} CASCADE" for t in tables]
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as connection:
            connection.execute(text(statement))
    with database.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(ScenarioVersionRow)) == 1
