"""Histograms: exact integer bins, terminal bars and a PNG."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from allocator.errors import PlotUnavailable
from allocator.riskshare.histogram import histogram, histogram_lines, write_histogram_png
from allocator.riskshare.report import Histogram


def test_bins_are_exact_integers_and_count_every_draw() -> None:
    # Values 0..9 and 100 in 5 bins: width ceil(101/5) = 21, edges 0, 21, ..., 105.
    hist = histogram(np.array([*range(10), 100]), bins=5)
    assert hist.bin_edges_pence == (0, 21, 42, 63, 84, 105)
    assert hist.counts == (10, 0, 0, 0, 1)


def test_a_constant_sample_has_one_bin() -> None:
    hist = histogram(np.full(7, -3))
    assert hist.bin_edges_pence == (-3, -2)
    assert hist.counts == (7,)


def test_terminal_lines_scale_bars_to_the_peak() -> None:
    # Edges −£2.5m, −£1.17m, £166,666.68, £1.5m (width 133,333,334p); counts 2, 2, 1:
    # the peak fills 8 cells, a count of 1 half of them.
    hist = histogram(np.array([-250_000_000, -250_000_000, 0, 10, 150_000_000]), bins=3)
    assert histogram_lines(hist, width=8) == [
        " -£2.5m │████████ 2",
        " -£1.2m │████████ 2",
        "£166.7k │████     1",
    ]
    # Counts 8 and 3 over 3 cells: 3 × 3/8 = 1⅛ cells → one block and an eighth.
    small = histogram(np.array([0] * 8 + [1] * 3), bins=2)
    assert histogram_lines(small, width=3) == ["0p │███ 8", "1p │█▏  3"]


def test_png_is_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = write_histogram_png(histogram(np.arange(1_000)), tmp_path / "h.png", title="test")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_without_matplotlib_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(PlotUnavailable, match="pip install matplotlib"):
        write_histogram_png(histogram(np.arange(10)), tmp_path / "h.png")


def test_an_edge_a_few_pence_from_zero_reads_as_zero() -> None:
    hist = Histogram(bin_edges_pence=(-1_000_000, 8, 1_000_008), counts=(2, 1))
    assert [line.split(" │")[0].strip() for line in histogram_lines(hist, width=4)] == [
        "-£10.0k",
        "0p",
    ]
