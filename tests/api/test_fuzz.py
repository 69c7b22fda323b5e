"""Fuzz every operation from the OpenAPI schema (schemathesis): no 5xx, responses conform.

A bounded number of examples per operation keeps this quick; requests carry a valid admin
key so the fuzzer gets past authentication. (One test per operation; schemathesis's lazy
pytest loader does not work with this pytest, so each test drives its strategy itself.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from api.security import Role, create_key
from api.settings import Settings
from api.storage.db import Database
from api.storage.migrate import upgrade
from tests.api.helpers import make_settings

# A scenario can be valid by the schema and still fail semantic validation (422 with located
# issues: a place with no people, say), so "schema-valid data is accepted" does not hold there;
# nor for a batch spec (exactly one of grid, runs or monte_carlo; its base scenario).
SEMANTIC = {
    ("POST", "/api/v1/scenarios"),
    ("POST", "/api/v1/scenarios/{scenario_id}/versions"),
    ("POST", "/api/v1/batches"),
}

OPERATIONS = [
    (method.upper(), path)
    for path, item in create_app(Settings(data_dir=Path("unused"), environment="test"))
    .openapi()["paths"]
    .items()
    for method in item
]


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, str]]:
    config = make_settings(
        tmp_path_factory.mktemp("fuzz"),
        max_body_bytes=2 * 1024 * 1024,
        max_workbook_bytes=1024 * 1024,
    )
    database = Database.connect(config.sqlalchemy_url)
    upgrade(database.engine)
    with database.transaction() as session:
        key = create_key(session, role=Role.ADMIN, systems=["S1"], name="fuzzer")
    database.dispose()
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(config))
    return schema, {"Authorization": f"Bearer {key.token}"}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms_to_its_schema(
    fuzz_target: tuple[Any, dict[str, str]], method: str, path: str
) -> None:
    schema, auth = fuzz_target
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=auth, excluded_checks=excluded)

    excluded = [positive_data_acceptance] if (method, path) in SEMANTIC else []

    check()
