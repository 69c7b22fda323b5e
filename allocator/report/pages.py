"""The board report's page furniture: an A4 page with the scenario hash and software version in its footer, tables drawn as column text, chart pages and wrapped text pages."""

from __future__ import annotations

import textwrap
from typing import Any

from allocator.report.charts import (
    BLUE,
)
from models.results import AllocationResult

A4 = (11.69, 8.27)
TEXT_LINES = 44  # wrapped lines on a text page


CERT_ROWS = 30


class Pages:
    """Figures added one by one to a PdfPages, each with the footer."""

    def __init__(self, pdf: Any, result: AllocationResult) -> None:
        self.pdf, self.result, self.number = pdf, result, 0

    def new(self, title: str) -> Any:
        from matplotlib.figure import Figure

        figure = Figure(figsize=A4)
        self.number += 1
        figure.text(0.04, 0.94, title, fontsize=17, fontweight="bold", color=BLUE)
        r = self.result
        figure.text(
            0.04,
            0.02,
            f"{r.scenario_id} · scenario hash {r.scenario_hash} · software version {r.software_version}",
            fontsize=7,
            color="#404040",
        )
        figure.text(0.96, 0.02, f"Page {self.number}", fontsize=7, ha="right")
        return figure

    def add(self, figure: Any) -> None:
        self.pdf.savefig(figure)


def draw_table(
    ax: Any, header: list[str], rows: list[list[str]], widths: list[float], size: float = 7.5
) -> None:
    """A table drawn as one text per column (fast to render; its text reads back in order):
    the first column left-aligned, the others right-aligned, under a coloured header band."""
    from matplotlib.patches import Rectangle

    ax.axis("off")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    band = 2.0 * size / 72 / (ax.get_position().height * ax.figure.get_figheight())
    ax.add_patch(Rectangle((0, 1 - band), 1, band, color=BLUE, linewidth=0))
    x = 0.0
    for j, width in enumerate(widths):
        ha, at = ("right", x + width - 0.008) if j else ("left", x + 0.008)
        ax.text(
            at,
            1 - band / 2,
            header[j],
            ha=ha,
            va="center",
            fontsize=size,
            color="white",
            fontweight="bold",
        )
        column = "\n".join(row[j] for row in rows)
        ax.text(at, 1 - band * 1.25, column, ha=ha, va="top", fontsize=size, linespacing=1.75)
        x += width


def chart_page(pages: Pages, title: str, draw: Any, columns: int = 1, note: str = "") -> None:
    figure = pages.new(title)
    axes = figure.subplots(
        1,
        columns,
        gridspec_kw={
            "left": 0.22 if columns == 1 else 0.12,
            "right": 0.95,
            "top": 0.86,
            "bottom": 0.12,
            "wspace": 0.45,
        },
    )
    warning = draw(axes)
    text = warning or note
    if text:
        figure.text(
            0.04,
            0.895,
            textwrap.fill(text, 150),
            fontsize=9,
            va="top",
            color="#C00000" if warning else "#404040",
        )
    pages.add(figure)


def text_pages(pages: Pages, title: str, paragraphs: list[str]) -> None:
    wrapped: list[str] = []
    for paragraph in paragraphs:
        wrapped += textwrap.wrap(paragraph, 150, subsequent_indent="    ") or [""]
        wrapped.append("")
    for start in range(0, max(len(wrapped), 1), TEXT_LINES):
        figure = pages.new(title if start == 0 else f"{title} (continued)")
        figure.text(
            0.04,
            0.89,
            "\n".join(wrapped[start : start + TEXT_LINES]),
            fontsize=8.5,
            va="top",
            linespacing=1.45,
        )
        pages.add(figure)
