"""Every command answers a wrong usage with a short error and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from tests.conftest import DATA

TINY = DATA / "tiny" / "tiny.json"
runner = CliRunner()

Usage = Callable[[Path], list[str]]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a scenario, its result, garbage files and a bad batch spec."""
    root = tmp_path_factory.mktemp("mistakes")
    shutil.copy(TINY, root / "tiny.json")
    done = runner.invoke(app, ["solve", str(root / "tiny.json"), "--out", str(root / "r.json")])
    assert done.exit_code == 0, done.output
    (root / "garbage.json").write_bytes(b"\x00\xff{not json")
    (root / "list.json").write_text("[1, 2, 3]")
    (root / "fake.xlsx").write_text("not a workbook")
    (root / "spec.yaml").write_text("base: nowhere.json\ngrid: [1, 2\n")
    (root / "spec2.json").write_text(json.dumps({"base": "missing.json", "grid": {}}))
    (root / "folder").mkdir()
    return root


MISTAKES: dict[str, list[str]] = {
    "solve to docx": ["solve", "{d}/tiny.json", "--out", "{d}/result.docx"],
    "solve unknown backend": ["solve", "{d}/tiny.json", "--backend", "gurobi"],
    "solve a result": ["solve", "{d}/r.json"],
    "solve missing file": ["solve", "{d}/nowhere.json"],
    "solve a folder": ["solve", "{d}/folder"],
    "solve garbage": ["solve", "{d}/garbage.json"],
    "solve a list": ["solve", "{d}/list.json"],
    "solve a fake workbook": ["solve", "{d}/fake.xlsx"],
    "solve negative time limit": ["solve", "{d}/tiny.json", "--time-limit", "-1"],
    "solve out into a file": ["solve", "{d}/tiny.json", "--out", "{d}/tiny.json/x.json"],
    "validate a result": ["validate", "{d}/r.json"],
    "validate missing file": ["validate", "{d}/nowhere.json"],
    "validate a folder": ["validate", "{d}/folder"],
    "validate garbage": ["validate", "{d}/garbage.json"],
    "compare to pdf": ["compare", "{d}/r.json", "{d}/tiny.json", "--out", "{d}/c.pdf"],
    "compare missing": ["compare", "{d}/r.json", "{d}/nowhere.json"],
    "compare garbage": ["compare", "{d}/garbage.json", "{d}/tiny.json"],
    "compare unknown backend": ["compare", "{d}/tiny.json", "{d}/tiny.json", "--backend", "x"],
    "template to json": ["template", "{d}/t.json"],
    "template over a file": ["template", "{d}/tiny.json/t.xlsx"],
    "generate unknown size": ["generate", "{d}/g.json", "--size", "galaxy"],
    "generate to xlsx folder": ["generate", "{d}/tiny.json/g.json"],
    "import-nhse bad year": ["import-nhse", "1999/00", "{d}/n.json"],
    "targets a result": ["targets", "{d}/r.json"],
    "targets bad allocation": ["targets", "{d}/tiny.json", "--allocation", "{d}/garbage.json"],
    "targets foreign allocation": ["targets", "{d}/tiny.json", "--allocation", "{d}/list.json"],
    "batch missing spec": ["batch", "{d}/nowhere.yaml"],
    "batch broken yaml": ["batch", "{d}/spec.yaml"],
    "batch bad spec": ["batch", "{d}/spec2.json"],
    "plan to pdf": ["plan", "{d}/tiny.json", "--out", "{d}/p.pdf"],
    "plan unknown backend": ["plan", "{d}/tiny.json", "--backend", "gurobi"],
    "plan bad demand growth": ["plan", "{d}/tiny.json", "--demand-growth", "nonsense"],
    "risk a result alone": ["risk", "{d}/r.json"],
    "risk to pdf": ["risk", "{d}/tiny.json", "--draws", "100", "--out", "{d}/k.pdf"],
    "risk garbage": ["risk", "{d}/garbage.json"],
    "risk-design unknown provider": ["risk-design", "{d}/tiny.json", "--provider", "NOPE"],
    "serve bad port": ["serve", "--port", "high"],
    "keys create bad role": ["keys", "create", "--role", "god", "--system", "S1"],
    "keys bad database": [
        "keys",
        "list",
        "--database-url",
        "nosuchdb://x",
    ],
    "keys revoke unknown": [
        "keys",
        "revoke",
        "nope",
        "--database-url",
        "sqlite:///{d}/keys.db",
    ],
}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_a_wrong_usage_gets_a_short_error_and_a_failing_exit(name: str, files: Path) -> None:
    args = [a.replace("{d}", str(files)) for a in MISTAKES[name]]
    done = runner.invoke(app, args)
    assert isinstance(done.exception, SystemExit), (
        f"{name}: {type(done.exception).__name__}: {done.exception}\n{done.output}"
    )
    assert done.exit_code not in (0, None), done.output
    assert "Traceback" not in done.output
    lines = [line for line in done.output.splitlines() if line.strip()]
    assert lines, f"{name}: no message at all"


def test_validate_says_a_result_is_a_result(files: Path) -> None:
    done = runner.invoke(app, ["validate", str(files / "r.json")])
    assert done.exit_code == 2
    lines = [line for line in done.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "is an allocation result, not a scenario" in lines[0], lines


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["solve", "{d}/tiny.json", "--out", "{d}/result.docx"], "use .json, .csv, .xlsx or .pdf"),
        (["solve", "{d}/tiny.json", "--backend", "gurobi"], "unknown solver backend 'gurobi'"),
    ],
)
def test_solve_mistakes_are_one_line(args: list[str], words: str, files: Path) -> None:
    done = runner.invoke(app, [a.replace("{d}", str(files)) for a in args])
    assert done.exit_code == 2, done.output
    lines = [line for line in done.output.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0], lines
    assert not (files / "result.pdf").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["solve", str(TINY), "--backend", "gurobi"],
        ["solve", str(TINY), "--out", str(TINY / "r.json")],  # under a file
    ],
    ids=["unknown backend", "out under a file"],
)
def test_a_command_run_as_a_process_ends_a_failure_in_one_line(args: list[str]) -> None:
    # A process registers only the command it runs; that command must be guarded too.
    done = subprocess.run(
        [sys.executable, "-m", "cli.app", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
