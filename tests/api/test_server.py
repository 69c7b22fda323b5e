"""The real thing: `allocator serve` in a subprocess, `allocator keys`, raw-socket body limits."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.security import authenticate
from api.storage.db import Database
from cli.app import app as cli

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_keys_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    runner = CliRunner()
    created = runner.invoke(
        cli,
        [
            "keys",
            "create",
            "--role",
            "plan",
            "--system",
            "S1",
            "--system",
            "S2",
            "--name",
            "ci",
            "--database-url",
            url,
        ],
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("alc_")
    database = Database.connect(url)
    with database.transaction(write=False) as session:
        principal = authenticate(session, token)
    assert principal is not None and principal.systems == {"S1", "S2"}
    listed = runner.invoke(cli, ["keys", "list", "--database-url", url])
    assert principal.key_id in listed.stdout and "plan" in listed.stdout
    assert (
        runner.invoke(cli, ["keys", "revoke", principal.key_id, "--database-url", url]).exit_code
        == 0
    )
    with database.transaction(write=False) as session:
        assert authenticate(session, token) is None
    database.dispose()
    bad = runner.invoke(
        cli, ["keys", "create", "--role", "boss", "--system", "S1", "--database-url", url]
    )
    assert bad.exit_code != 0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    data_dir = tmp_path_factory.mktemp("served")
    env = {**os.environ, "ALLOCATOR_PRESTART_SOLVERS": "false", "PYTHONPATH": str(ROOT)}
    url = f"sqlite:///{data_dir / 'allocator.db'}"
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.app",
            "keys",
            "create",
            "--role",
            "admin",
            "--system",
            "S1",
            "--database-url",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
    )
    token = created.stdout.strip().splitlines()[-1]
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.app",
            "serve",
            "--port",
            str(port),
            "--database-url",
            url,
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield base, {"Authorization": f"Bearer {token}"}
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def _read_status(sock: socket.socket) -> tuple[int, bytes]:
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data


def test_served_api_answers(server: tuple[str, dict[str, str]]) -> None:
    base, headers = server
    assert httpx.get(f"{base}/ready", headers=headers).json()["status"] == "ready"
    assert httpx.get(f"{base}/api/v1/scenarios", headers=headers).json()["total"] == 0


def test_declared_fifty_megabytes_refused_before_any_body(
    server: tuple[str, dict[str, str]],
) -> None:
    base, headers = server
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /api/v1/scenarios HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: {headers['Authorization']}\r\n".encode()
            + f"Content-Length: {50 * MB}\r\n\r\n".encode()
        )
        status, response = _read_status(sock)
        # No body was sent: an answer at all means the server refused before reading one.
        assert status == 413 and b"application/problem+json" in response


def test_streamed_body_cut_off_at_the_limit(server: tuple[str, dict[str, str]]) -> None:
    base, headers = server
    port = int(base.rsplit(":", 1)[1])
    chunk = b" " * MB
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /api/v1/scenarios HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: {headers['Authorization']}\r\n".encode()
            + b"Transfer-Encoding: chunked\r\n\r\n"
        )
        sock.settimeout(0.05)
        answered = b""
        try:
            while sent < 50 * MB:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
                try:
                    answered = sock.recv(65536)
                except TimeoutError:
                    continue
                if answered:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        if not answered:
            _status, answered = _read_status(sock)
    assert b" 413 " in answered.split(b"\r\n", 1)[0]
    assert sent < 40 * MB  # answered long before the client finished sending
