"""The layout rules of issue 11: no import cycle, the core never imports the service or the CLI,
modules stay small, and the top of `allocator/` holds only the package's face."""

from __future__ import annotations

import re

import pytest

from tests.architecture.imports import ROOT, cycles, import_graph, source_modules

CORE = ("allocator", "models")
OUTER = ("api", "cli")
TOP_LEVEL = {"__init__.py", "errors.py", "types.py", "pipeline.py"}
MAX_LINES = 400


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(f"{p}.") for p in packages)


def test_there_is_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_a_planted_cycle_is_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_core_imports_neither_the_service_nor_the_cli() -> None:
    wrong = sorted(
        f"{module} imports {other}"
        for module, imports in import_graph().items()
        if _within(module, CORE)
        for other in imports
        if _within(other, OUTER)
    )
    assert wrong == []


def test_models_import_nothing_from_the_allocator() -> None:
    wrong = sorted(
        f"{module} imports {other}"
        for module, imports in import_graph().items()
        if _within(module, ("models",))
        for other in imports
        if _within(other, ("allocator",))
    )
    assert wrong == []


def test_the_top_of_the_allocator_holds_only_its_face() -> None:
    loose = {p.name for p in (ROOT / "allocator").glob("*.py")}
    assert loose <= TOP_LEVEL, sorted(loose - TOP_LEVEL)


@pytest.mark.parametrize("package", ["allocator", "api", "cli", "models"])
def test_no_module_is_over_the_size_limit(package: str) -> None:
    long = {
        name: n
        for name, path in source_modules().items()
        if _within(name, (package,)) and (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_two_core_modules_share_a_name() -> None:
    # Within the core, a module's name says its job: two modules of one name would be two jobs.
    # (The schema in `models/` may share a topic's name with the step that uses it.)
    seen: dict[str, list[str]] = {}
    for name, path in source_modules().items():
        if _within(name, ("allocator",)) and path.name != "__init__.py":
            seen.setdefault(path.stem, []).append(name)
    assert {stem: names for stem, names in seen.items() if len(names) > 1} == {}


# A wait bound named `deadline` (a hang would fail it) is not a speed claim.
TIMED = re.compile(
    r"assert\b(?!.*< deadline).*(perf_counter|time\.time\(|monotonic\(|_time_s\s*<|total_s\s*<)"
)


def test_no_test_asserts_on_elapsed_time() -> None:
    # Speed is measured in benchmarks/, never asserted in a test.
    timed = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if TIMED.search(line)
    ]
    assert timed == []
