"""Helpers for the workspace's HTTP tests: keys, browsers (clients with cookies), sign-in."""

from __future__ import annotations

import json
import re
import secrets

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.security import Role, create_key
from tests.api.helpers import tiny_for

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def key(app: FastAPI, role: Role, *systems: str) -> str:
    """A new key; key names are unique per system, so each gets its own."""
    name = f"{role.value} key {secrets.token_hex(3)}"
    with app.state.database.transaction() as session:
        return create_key(session, role=role, systems=systems, name=name).token


def client_of(app: FastAPI, base_url: str = "http://testserver") -> TestClient:
    """Another browser: a client with its own cookies (used without ``with``, it shares the
    app started by the ``web`` fixture instead of starting it again)."""
    return TestClient(app, base_url=base_url, raise_server_exceptions=False)


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client: TestClient, token: str) -> str:
    """Sign ``client`` in; returns the CSRF token of its session."""
    page = client.get("/app/signin")
    answer = client.post(
        "/app/signin",
        data={"csrf_token": csrf_of(page.text), "api_key": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/app").text)


def tiny_json(system: str = "S1") -> bytes:
    return json.dumps(tiny_for(system)).encode()


def upload(client: TestClient, csrf: str, name: str, data: bytes) -> TestClient:
    return client.post("/app/scenarios", data={"csrf_token": csrf}, files={"file": (name, data)})


def scenario_id_of(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]
