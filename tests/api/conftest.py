"""Fixtures for the API tests: a fresh SQLite database and app per test, and keys.

``database_url`` is SQLite and, when ALLOCATOR_TEST_POSTGRES_URL is set, PostgreSQL (a
fresh schema per test, dropped afterwards): a test module runs its HTTP tests on both by
overriding ``settings`` with ``make_settings(tmp_path, database_url=database_url)``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from api.security import Role
from api.settings import Settings
from tests.api.helpers import Headers, make_settings, new_key

POSTGRES_URL = os.environ.get("ALLOCATOR_TEST_POSTGRES_URL")


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'allocator.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("ALLOCATOR_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL, pool_pre_ping=True)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


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
