"""Fixtures for the API tests: a fresh SQLite database and app per test, and keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import Role
from api.settings import Settings
from tests.api.helpers import Headers, make_settings, new_key


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def keys(client: TestClient, app: FastAPI) -> Callable[..., Headers]:
    """``keys(Role.PLAN, "S1")`` -> auth headers of a new key (the client is started)."""

    def make(role: Role = Role.ADMIN, *systems: str, name: str = "") -> Headers:
        return new_key(app, role, *systems, name=name)

    return make


@pytest.fixture
def admin(keys: Callable[..., Headers]) -> Headers:
    return keys(Role.ADMIN, "S1")
