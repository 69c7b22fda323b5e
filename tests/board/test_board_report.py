"""The PDF board report, rendered to PNG (pdftoppm) and read back as text (pdftotext)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from models import Scenario
from models.results import AllocationResult

pytest.importorskip("matplotlib")
POPPLER = shutil.which("pdftoppm") is not None and shutil.which("pdftotext") is not None
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftoppm, pdftotext) absent")


@pytest.fixture(scope="module")
def pdf(
    realistic_result: AllocationResult,
    realistic: Scenario,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    from allocator.report.board import board_report_bytes

    path = tmp_path_factory.mktemp("report") / "board.pdf"
    path.write_bytes(board_report_bytes(realistic_result, realistic, compare=realistic_result))
    return path


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return [page for page in text.split("\f") if page.strip()]


@needs_poppler
def test_every_page_renders_and_carries_the_hash_and_version(
    pdf: Path, realistic_result: AllocationResult
) -> None:
    from matplotlib.image import imread

    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(pdf.with_suffix(""))], check=True)
    images = sorted(pdf.parent.glob("board-*.png"))
    pages = _pages(pdf)
    assert len(images) == len(pages) >= 8
    for image in images:
        assert imread(image).std() > 0.01  # not a blank page
    for page in pages:
        assert realistic_result.scenario_hash in page
        assert f"software version {realistic_result.software_version}" in page


@needs_poppler
def test_summary_charts_rules_and_certificate_are_in_the_text(pdf: Path) -> None:
    pages = _pages(pdf)
    first = pages[0]
    assert "Board report: realistic" in first
    assert "Pot (funders' contributions): £3,092.5m" in first
    assert "Contingency reserve: £23.1m" in first and "Northbridge Teaching Hospitals" in first
    text = "\n".join(pages)
    for title in (
        "Distance from fair-share target",
        "Budgets by provider against baseline",
        "Where the money goes: pool, places, providers",
        "Risk: the pool's call on the reserve",
        "Binding rules, and what relaxing each is worth",
        "Reconciliation certificate",
        "Compared with realistic",
    ):
        assert title in text, title
    assert "reserve £23.1m" in text and "CVaR 95%" in text
    assert "Warning: the reserve of £23.1m is below" in text  # it is, at 95% confidence
    assert "£1m more here buys 35.4 QALYs" in text
    assert "Certified: all 29 lines reconcile to the penny" in text


@needs_poppler
def test_without_the_scenario_the_risk_page_says_why(
    tiny_result: AllocationResult, tmp_path: Path
) -> None:
    from allocator.report.board import board_report_bytes

    path = tmp_path / "tiny.pdf"
    path.write_bytes(board_report_bytes(tiny_result))
    text = "\n".join(_pages(path))
    assert "give the scenario to draw it" in text
    assert "default, as the scenario was not given" in text


@needs_poppler
def test_an_infeasible_result_reports_no_allocation(tiny: Scenario, tmp_path: Path) -> None:
    from allocator.pipeline import solve_scenario
    from allocator.report.board import board_report_bytes
    from tests.explain.planted import floors_above_pot

    scenario = floors_above_pot(tiny)
    path = tmp_path / "infeasible.pdf"
    path.write_bytes(board_report_bytes(solve_scenario(scenario), scenario))
    pages = _pages(path)
    assert "No allocation (infeasible)" in pages[0]
    assert "The hard rules cannot all hold" in "\n".join(pages)
