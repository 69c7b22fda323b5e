"""Fixtures for the workspace tests: a real server on 127.0.0.1 over a temporary SQLite
database, keys made straight in that database, and a headless Chromium driven by Selenium
(skipped, with the reason, where Chromium or its driver is not installed)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import Role, create_key
from api.storage.db import Database
from tests.api.helpers import make_settings
from tests.web.helpers import client_of

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return create_app(make_settings(tmp_path, web_session_max_age_s=3600))


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    """A browser-like client (it keeps cookies) of a started app."""
    with client_of(app) as client:
        yield client


@dataclass
class Server:
    base_url: str
    database_url: str

    def key(self, role: Role, *systems: str, name: str = "") -> str:
        database = Database.connect(self.database_url)
        try:
            with database.transaction() as session:
                made = create_key(session, role=role, systems=systems, name=name or role.value)
        finally:
            database.dispose()
        return made.token


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """uvicorn serving the app factory, stopped when the module's tests are done."""
    with serving(tmp_path_factory.mktemp("web-server")) as started:
        yield started


PACED_SOLVE = "tests.web.paced_solvers:paced_solve"
PACED_BATCH = "tests.web.paced_solvers:paced_batch"


@pytest.fixture(scope="module")
def job_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server on which every solve is a job whose stages are paced, and batches' runs are
    paced too (`paced_solvers`)."""
    paced = {
        "ALLOCATOR_SYNC_MAX_CELLS": "0",
        "ALLOCATOR_SOLVE_TARGET": PACED_SOLVE,
        "ALLOCATOR_BATCH_TARGET": PACED_BATCH,
    }
    with serving(tmp_path_factory.mktemp("web-job-server"), paced) as started:
        yield started


@contextmanager
def serving(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """uvicorn serving the app factory on a free port over a database in ``data_dir``."""
    port = _free_port()
    env = (
        os.environ
        | {
            "ALLOCATOR_DATA_DIR": str(data_dir),
            "ALLOCATOR_ENVIRONMENT": "test",
            "ALLOCATOR_SOLVE_WORKERS": "1",
            "ALLOCATOR_PRESTART_SOLVERS": "false",
            "ALLOCATOR_SYNC_SOLVE_BUDGET_S": "120",
            "ALLOCATOR_LOG_LEVEL": "WARNING",
        }
        | (extra_env or {})
    )
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # bounded wait for start-up (migrations included)
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: {(data_dir / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{base_url}/health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        yield Server(base_url=base_url, database_url=f"sqlite:///{data_dir / 'allocator.db'}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    found = _chromium()
    if found is None:
        pytest.skip(
            "Chromium and chromedriver are not installed "
            "(apt-get install chromium chromium-driver; .ci/run installs them)"
        )
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--disable-gpu",
        "--no-first-run",
    ):
        options.add_argument(argument)  # fmt: skip
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = webdriver.ChromeService(executable_path=found[1])
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
