"""Histograms of simulated pence: exact integer bins, a terminal rendering and a PNG."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from allocator.domain.money import pence_to_gbp_short
from allocator.errors import PlotUnavailable
from allocator.riskshare.report import Histogram, LossStats
from allocator.types import NumArray

_EIGHTHS = " ▏▎▍▌▋▊▉█"


def histogram(values_pence: NumArray, bins: int = 30) -> Histogram:
    """At most ``bins`` equal-width integer bins from the smallest value past the largest.

    >>> histogram(np.array([0, 1, 2, 9]), bins=3).model_dump()
    {'bin_edges_pence': (0, 4, 8, 12), 'counts': (3, 0, 1)}
    """
    x = np.asarray(values_pence, dtype=np.int64).reshape(-1)
    if x.size == 0:
        return Histogram(bin_edges_pence=(0, 1), counts=(0,))
    low, high = int(x.min()), int(x.max())
    count = max(1, min(bins, high - low + 1))
    width = -(-(high - low + 1) // count)
    counts = np.bincount((x - low) // width, minlength=count)
    edges = tuple(low + width * i for i in range(count + 1))
    return Histogram(bin_edges_pence=edges, counts=tuple(int(c) for c in counts))


def coarsen(hist: Histogram, bins: int) -> Histogram:
    """At most ``bins`` bins, each merging neighbouring bins (widths stay equal).

    >>> coarsen(histogram(np.arange(10), bins=10), 3).model_dump()
    {'bin_edges_pence': (0, 4, 8, 10), 'counts': (4, 4, 2)}
    """
    group = max(1, math.ceil(len(hist.counts) / max(1, bins)))
    if group == 1:
        return hist
    edges = hist.bin_edges_pence
    starts = range(0, len(hist.counts), group)
    return Histogram(
        bin_edges_pence=(*(edges[j] for j in starts), edges[-1]),
        counts=tuple(sum(hist.counts[j : j + group]) for j in starts),
    )


def histogram_lines(hist: Histogram, width: int = 40) -> list[str]:
    """One line per bin: its lower edge in £, a bar of unicode eighth-blocks, its count."""
    peak = max(hist.counts, default=0)
    edges = hist.bin_edges_pence
    # An edge within a hundredth of a bin of zero is zero to the eye: "0p", not "8p".
    near_zero = (edges[1] - edges[0]) / 100 if len(edges) > 1 else 0
    labels = [pence_to_gbp_short(0 if abs(edge) < near_zero else edge) for edge in edges[:-1]]
    pad = max((len(label) for label in labels), default=0)
    lines = []
    for label, count in zip(labels, hist.counts, strict=True):
        eighths = math.ceil(count * width * 8 / peak) if count else 0
        bar = "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")
        lines.append(f"{label:>{pad}} │{bar:<{width}} {count}")
    return lines


def require_matplotlib() -> None:
    """Raise `PlotUnavailable` (with how to install it) unless matplotlib can be imported."""
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError as error:
        raise PlotUnavailable(
            "writing a PNG needs matplotlib: pip install matplotlib (or the 'dev' extra)"
        ) from error


M = 100 * 1_000_000  # pence in £1m


def _m(pence: int) -> str:
    return f"{'-' if pence < 0 else ''}£{abs(pence) / M:,.2f}m"


def draw_risk(
    axes: Any,
    hist: Histogram,
    *,
    title: str = "",
    stats: LossStats | None = None,
    level: float | None = None,
    reserve_pence: int | None = None,
    bearer: str = "the pool",
    warning: str | None = None,
) -> None:
    """A histogram of a loss in £m on matplotlib ``axes``, with VaR, CVaR and the reserve
    drawn as labelled lines. One sign convention: + is an overspend, a cost to ``bearer``."""
    edges = np.asarray(hist.bin_edges_pence, dtype=np.float64) / M
    axes.stairs(hist.counts, edges, fill=True, color="#A6A6A6", label="draws")
    at = "" if level is None else f" {level:.0%}"
    lines: list[tuple[int, str, str]] = []
    if stats is not None:
        lines += [
            (stats.var_pence, "#E69F00", f"VaR{at} {_m(stats.var_pence)}"),
            (stats.cvar_pence, "#C00000", f"CVaR{at} {_m(stats.cvar_pence)}"),
        ]
    if reserve_pence is not None:
        lines.append((reserve_pence, "#2E7D32", f"reserve {_m(reserve_pence)}"))
    for value, colour, label in lines:
        axes.axvline(value / M, color=colour, linewidth=2, label=label)
    axes.axvline(0.0, color="black", linewidth=0.8)
    axes.set_xlabel(f"£m: + overspend, a cost to {bearer}; − underspend, kept")
    axes.set_ylabel(f"draws (of {sum(hist.counts):,})")
    axes.legend(fontsize=8)
    if title:
        axes.set_title(title)
    if warning:
        axes.text(
            0.5, -0.28, warning, transform=axes.transAxes, ha="center", color="#C00000", wrap=True
        )


def write_histogram_png(
    hist: Histogram,
    path: Path | str,
    *,
    title: str = "",
    stats: LossStats | None = None,
    level: float | None = None,
    reserve_pence: int | None = None,
    bearer: str = "the pool",
    warning: str | None = None,
) -> Path:
    """Draw `draw_risk` to a PNG with matplotlib (``pip install matplotlib``)."""
    require_matplotlib()
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 4.5))  # no pyplot: no global state, no GUI backend
    draw_risk(
        figure.subplots(),
        hist,
        title=title,
        stats=stats,
        level=level,
        reserve_pence=reserve_pence,
        bearer=bearer,
        warning=warning,
    )
    out = Path(path)
    figure.savefig(out, dpi=100, bbox_inches="tight")
    return out
