"""Every route documents every status it answers: probed route by route, not read from code.

For each operation of the served OpenAPI document: without a key (401), with unknown ids
(404), with a malformed body (400), a body over the limit (413) and a body of a content type
it does not read: the status each answers is among those it documents, as a problem
document. Routes that queue work document 429 with ``Retry-After``; every route that uses
the database documents 503 with ``Retry-After``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import Role
from api.settings import Settings
from tests.api.helpers import API, Headers, make_settings, new_key

QUEUED_WORK = {
    ("POST", "/api/v1/scenarios/{scenario_id}/versions/{version}/solve"),
    ("POST", "/api/v1/batches"),
    ("POST", "/api/v1/batches/{batch_id}/resume"),
}
LIMIT = 4096


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, max_body_bytes=LIMIT, max_workbook_bytes=LIMIT)


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def _url(path: str) -> str:
    return re.sub(r"\{version\}", "1", re.sub(r"\{(\w+_id)\}", "missing0", path))


def _documented(operation: dict[str, Any], response: Any, what: str) -> None:
    documented = operation["responses"]
    status = str(response.status_code)
    assert status in documented, f"{what}: {status} not in {sorted(documented)}"
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "application/problem+json" in documented[status].get("content", {}), what


def test_every_answer_is_documented(client: TestClient, admin: Headers, app: Any) -> None:
    spec = client.get("/openapi.json").json()
    reader = new_key(app, Role.READ, "S1")
    probed = 0
    for method, path, operation in _operations(spec):
        url = _url(path)
        label = f"{method} {path}"
        if operation.get("security"):
            _documented(operation, client.request(method, url), f"{label} without a key")
            if method != "GET":
                forbidden = client.request(method, url, headers=reader)
                _documented(operation, forbidden, f"{label} with a read key")
        if "{" in path:
            _documented(operation, client.request(method, url, headers=admin), f"{label} unknown")
        if "requestBody" in operation:
            json_headers = {**admin, "Content-Type": "application/json"}
            cases = {
                "a malformed body": (b'{"not json', json_headers),
                "a body over the limit": (b"[" + b"0," * LIMIT + b"0]", json_headers),
                "a text body": (b"hello", {**admin, "Content-Type": "text/plain"}),
            }
            for what, (content, headers) in cases.items():
                answer = client.request(method, url, content=content, headers=headers)
                _documented(operation, answer, f"{label} with {what}")
        probed += 1
    assert probed == len(_operations(spec)) > 30


def test_queued_work_and_database_statuses_are_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for method, path, operation in _operations(spec):
        responses = operation["responses"]
        if (method, path) in QUEUED_WORK:
            assert "Retry-After" in responses["429"]["headers"], f"{method} {path}"
        if path.startswith("/api/"):
            assert "Retry-After" in responses["503"]["headers"], f"{method} {path}"
        if "422" in responses:
            assert list(responses["422"]["content"]) == ["application/problem+json"], path
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_a_tagged_union_requires_its_tag(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for variant in ("Normal", "Uniform", "Triangular"):
        assert "kind" in schemas[variant]["required"], variant


def test_a_wrong_method_names_every_method_of_the_path(client: TestClient) -> None:
    answer = client.request("PUT", f"{API}/jobs/j1")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "DELETE, GET"


def test_a_page_over_the_maximum_is_refused(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, max_page_size=20, default_page_size=10))
    with TestClient(app, raise_server_exceptions=False) as client:
        admin = new_key(app, Role.ADMIN, "S1")
        for listing in ("scenarios", "batches"):
            refused = client.get(f"{API}/{listing}", params={"page_size": 21}, headers=admin)
            assert refused.status_code == 422, refused.text
            assert "20" in refused.json()["detail"]
            allowed = client.get(f"{API}/{listing}", params={"page_size": 20}, headers=admin)
            assert allowed.json()["page_size"] == 20


def test_a_key_cannot_revoke_itself(client: TestClient, admin: Headers) -> None:
    me = next(k for k in client.get(f"{API}/keys", headers=admin).json() if k["name"] == "admin")
    answer = client.delete(f"{API}/keys/{me['key_id']}", headers=admin)
    assert answer.status_code == 409, answer.text
    assert "cannot revoke itself" in answer.json()["detail"]
    assert client.get(f"{API}/keys", headers=admin).status_code == 200
