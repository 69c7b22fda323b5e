"""Charts drawn on the server as SVG: a Sankey diagram, signed bar charts and a waterfall.

Plain SVG needs no script, obeys a strict Content-Security-Policy (presentation attributes
only, no inline styles) and prints. Each chart is a picture with a title; the page puts
the same figures in a table beside it for screen readers and for copying.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

PALETTE = ("#1d5c96", "#2e7d32", "#8a4f00", "#6a1b9a", "#00695c", "#ad1457")
TEXT = "#1a1a1a"


@dataclass(frozen=True, slots=True)
class Node:
    node_id: str
    label: str
    column: int
    value: int


@dataclass(frozen=True, slots=True)
class Link:
    source: str
    target: str
    value: int


def _svg(width: float, height: float, title: str, body: list[str], css_class: str) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def sankey(nodes: list[Node], links: list[Link], *, title: str, label_of: dict[str, str]) -> Markup:
    """Columns of nodes whose heights are their values, joined by bands as wide as the flows.

    ``label_of`` gives each node's value as text (e.g. '£82.9m'), drawn after its name.
    """
    columns: dict[int, list[Node]] = defaultdict(list)
    for node in nodes:
        columns[node.column].append(node)
    count = max(len(c) for c in columns.values())
    gap, top, width, label_room = 14.0, 10.0, 1200.0, 330.0
    height = max(420.0, count * 26.0)
    scale = min(
        (height - gap * (len(column) - 1)) / max(1, sum(n.value for n in column))
        for column in columns.values()
    )
    step = (width - label_room - 20) / max(1, len(columns) - 1)
    node_w = 14.0
    box: dict[str, tuple[float, float, float]] = {}  # id -> x, y, height
    for index, column in sorted(columns.items()):
        y = top
        for node in column:
            h = max(1.5, node.value * scale)
            box[node.node_id] = (10 + index * step, y, h)
            y += h + gap
    out_y = {key: value[1] for key, value in box.items()}
    in_y = dict(out_y)
    body: list[str] = []
    for link in links:
        if link.value <= 0 or link.source not in box or link.target not in box:
            continue
        x0, _, _ = box[link.source]
        x1, _, _ = box[link.target]
        h = max(0.8, link.value * scale)
        y0, y1 = out_y[link.source], in_y[link.target]
        out_y[link.source] += h
        in_y[link.target] += h
        a, b, mid = x0 + node_w, x1, (x0 + node_w + x1) / 2
        colour = _colour(link.source, nodes)
        body.append(
            f'<path class="sankey-link" d="M{a:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},'
            f"{y1:.1f} {b:.1f},{y1:.1f} L{b:.1f},{y1 + h:.1f} C{mid:.1f},{y1 + h:.1f} "
            f'{mid:.1f},{y0 + h:.1f} {a:.1f},{y0 + h:.1f} Z" fill="{colour}" '
            f'fill-opacity="0.28"><title>{escape(link.source)} → {escape(link.target)}: '
            f"{escape(label_of.get('link:' + link.source + '>' + link.target, ''))}</title></path>"
        )
    for node in nodes:
        x, y, h = box[node.node_id]
        body.append(
            f'<rect class="sankey-node" x="{x:.1f}" y="{y:.1f}" width="{node_w:.0f}" '
            f'height="{h:.1f}" fill="{_colour(node.node_id, nodes)}"/>'
            f'<text x="{x + node_w + 4:.1f}" y="{y + h / 2 + 4:.1f}" font-size="12" '
            f'fill="{TEXT}">{escape(short(node.label))} {escape(label_of.get(node.node_id, ""))}'
            f"<title>{escape(node.label)}</title></text>"
        )
    return _svg(width, height + 2 * top, title, body, "sankey")


def _colour(node_id: str, nodes: list[Node]) -> str:
    for index, node in enumerate(nodes):
        if node.node_id == node_id:
            return PALETTE[(node.column + index) % len(PALETTE)]
    return PALETTE[0]


def short(label: str, limit: int = 40) -> str:
    """A label cut to ``limit`` characters (the full one is the element's title)."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def signed_bars(rows: list[tuple[str, float, str]], *, title: str, css_class: str) -> Markup:
    """Horizontal bars either side of zero: (label, value, value as text) per row; a label
    starting with spaces is indented (a neighbourhood under its place)."""
    row_h, label_w, width = 22.0, 300.0, 1000.0
    half = (width - label_w - 90) / 2
    zero = label_w + half
    biggest = max((abs(v) for _, v, _ in rows), default=0.0) or 1.0
    body = [
        f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{len(rows) * row_h + 4:.1f}" '
        f'stroke="{TEXT}" stroke-width="1"/>'
    ]
    for index, (label, value, text) in enumerate(rows):
        y = 4 + index * row_h
        length = abs(value) / biggest * half
        x = zero if value >= 0 else zero - length
        fill = "#1d5c96" if value >= 0 else "#b3261e"
        anchor_x = x + length + 4 if value >= 0 else x - 4
        anchor = "start" if value >= 0 else "end"
        indented = label.startswith(" ")
        name = label.strip()
        weight = "normal" if indented else "bold"
        body.append(
            f'<text x="{8 + (16 if indented else 0)}" y="{y + 14:.1f}" font-size="12" '
            f'font-weight="{weight}" fill="{TEXT}">{escape(short(name, 44))}'
            f"<title>{escape(name)}</title></text>"
            f'<rect class="bar" x="{x:.1f}" y="{y + 3:.1f}" width="{max(length, 0.5):.1f}" '
            f'height="{row_h - 6:.1f}" fill="{fill}"><title>{escape(name)}: {escape(text)}'
            f"</title></rect>"
            f'<text x="{anchor_x:.1f}" y="{y + 14:.1f}" font-size="11" text-anchor="{anchor}" '
            f'fill="{TEXT}">{escape(text)}</text>'
        )
    return _svg(width, len(rows) * row_h + 8, title, body, css_class)


def waterfall(
    start: tuple[str, int], steps: list[tuple[str, int]], end: tuple[str, int], *, title: str
) -> Markup:
    """From one total to another through signed steps, as horizontal bars (pence)."""
    row_h, label_w, width = 22.0, 300.0, 1000.0
    rows = [start, *steps, end]
    levels, level = [start[1], end[1]], start[1]
    for _, value in steps:
        level += value
        levels.append(level)
    # The band the totals move in (with a margin), not the whole bar from zero, so that
    # steps of a few £m out of £3bn are visible; the end bars start at the band's floor.
    high, low = max(levels), min(levels)
    margin = max(1, (high - low) // 4)
    floor = max(0, low - margin)
    span = max(1, high - floor)
    plot = width - label_w - 120

    def x_of(pence: int) -> float:
        return label_w + (pence - floor) / span * plot

    body: list[str] = []
    running = start[1]
    for index, (label, value) in enumerate(rows):
        y = 4 + index * row_h
        if index in (0, len(rows) - 1):
            a, b, fill = x_of(floor), x_of(value), "#555555"
        else:
            a, b = x_of(running), x_of(running + value)
            fill = "#1d5c96" if value >= 0 else "#b3261e"
            running += value
        left, right = min(a, b), max(a, b)
        text = _gbp(value) if index in (0, len(rows) - 1) else _signed_gbp(value)
        body.append(
            f'<text x="{label_w - 6:.1f}" y="{y + 14:.1f}" font-size="12" text-anchor="end" '
            f'fill="{TEXT}">{escape(short(label, 44))}</text>'
            f'<rect class="bar" x="{left:.1f}" y="{y + 3:.1f}" width="{max(right - left, 0.5):.1f}" '
            f'height="{row_h - 6:.1f}" fill="{fill}"/>'
            f'<text x="{right + 4:.1f}" y="{y + 14:.1f}" font-size="11" fill="{TEXT}">'
            f"{escape(text)}</text>"
        )
    return _svg(width, len(rows) * row_h + 8, title, body, "waterfall")


def _gbp(pence: int) -> str:
    sign = "−" if pence < 0 else ""
    return f"{sign}£{abs(pence) / 100_000_000:,.2f}m"


def _signed_gbp(pence: int) -> str:
    return ("+" if pence >= 0 else "−") + _gbp(abs(pence))


def histogram(
    edges: tuple[int, ...], counts: tuple[int, ...], *, title: str, marks: list[tuple[str, int]]
) -> Markup:
    """Vertical bars of draw counts over pence bins, with labelled vertical lines at
    ``marks`` (e.g. the reserve held and the reserve needed)."""
    width, height, left, bottom = 1000.0, 300.0, 20.0, 40.0
    low, high = edges[0], edges[-1]
    for _, pence in marks:
        low, high = min(low, pence), max(high, pence)
    span = max(1, high - low)
    tallest = max(counts, default=0) or 1

    def x_of(pence: int) -> float:
        return left + (pence - low) / span * (width - 2 * left)

    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" '
        f'stroke="{TEXT}"/>'
    ]
    for index, count in enumerate(counts):
        a, b = x_of(edges[index]), x_of(edges[index + 1])
        h = count / tallest * (height - bottom - 40)
        body.append(
            f'<rect class="bar" x="{a:.1f}" y="{height - bottom - h:.1f}" '
            f'width="{max(b - a - 1, 0.5):.1f}" height="{h:.1f}" fill="#1d5c96">'
            f"<title>{_gbp(edges[index])} to {_gbp(edges[index + 1])}: {count} draws</title></rect>"
        )
    for number, (label, pence) in enumerate(marks):
        x = x_of(pence)
        y = 14 + 16 * number
        body.append(
            f'<line class="mark" x1="{x:.1f}" y1="{y + 4}" x2="{x:.1f}" y2="{height - bottom}" '
            f'stroke="#b3261e" stroke-width="2" stroke-dasharray="5,3"/>'
            f'<text x="{x + 4:.1f}" y="{y + 2}" font-size="12" fill="{TEXT}">'
            f"{escape(label)} {_gbp(pence)}</text>"
        )
    for pence, anchor in ((edges[0], "start"), (edges[-1], "end")):
        body.append(
            f'<text x="{x_of(pence):.1f}" y="{height - bottom + 16}" font-size="11" '
            f'text-anchor="{anchor}" fill="{TEXT}">{_gbp(pence)}</text>'
        )
    return _svg(width, height, title, body, "histogram")


def glide_paths(
    years: list[str], series: list[tuple[str, list[float | None]]], *, title: str
) -> Markup:
    """One line per series (a place) over ``years``: its distance from target as a share,
    0 being on target, with a labelled dashed line at the target. A missing value (a year
    without an allocation) breaks the line."""
    width, height, left, right, top, bottom = 1000.0, 380.0, 70.0, 260.0, 20.0, 40.0
    values = [v for _, points in series for v in points if v is not None] + [0.0]
    low, high = min(values), max(values)
    pad = max((high - low) * 0.08, 0.0025)
    low, high = low - pad, high + pad
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(years) - 1)

    def x_of(index: int) -> float:
        return left + index * step

    def y_of(share: float) -> float:
        return top + (high - share) / (high - low) * plot_h

    body = [
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="{TEXT}"/>',
        f'<line class="target" x1="{left}" y1="{y_of(0.0):.1f}" x2="{width - right}" '
        f'y2="{y_of(0.0):.1f}" stroke="{TEXT}" stroke-dasharray="6,4"/>'
        f'<text x="{left - 6}" y="{y_of(0.0) + 4:.1f}" font-size="11" text-anchor="end" '
        f'fill="{TEXT}">target</text>',
    ]
    for share in (low + pad, high - pad):
        body.append(
            f'<text x="{left - 6}" y="{y_of(share) + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="{TEXT}">{share * 100:+.1f}%</text>'
        )
    for index, label in enumerate(years):
        body.append(
            f'<text x="{x_of(index):.1f}" y="{height - bottom + 18}" font-size="12" '
            f'text-anchor="middle" fill="{TEXT}">{escape(label)}</text>'
        )
    ends: list[tuple[float, str, str]] = []
    for number, (name, points) in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        known = [(i, v) for i, v in enumerate(points) if v is not None]
        path = " ".join(
            f"{'M' if n == 0 or known[n - 1][0] != i - 1 else 'L'}{x_of(i):.1f},{y_of(v):.1f}"
            for n, (i, v) in enumerate(known)
        )
        body.append(
            f'<path class="glide" d="{path}" fill="none" stroke="{colour}" stroke-width="2.5">'
            f"<title>{escape(name)}</title></path>"
        )
        for i, v in known:
            body.append(
                f'<circle class="glide-point" cx="{x_of(i):.1f}" cy="{y_of(v):.1f}" r="4" '
                f'fill="{colour}"><title>{escape(name)}, {escape(years[i])}: '
                f"{v * 100:+.2f}%</title></circle>"
            )
        if known:
            i, v = known[-1]
            ends.append((y_of(v), name, colour))
    last_y = -1e9
    for y, name, colour in sorted(ends):  # labels at the right, nudged apart
        y = max(y, last_y + 14)
        last_y = y
        body.append(
            f'<text x="{width - right + 10:.1f}" y="{y + 4:.1f}" font-size="12" '
            f'fill="{colour}">{escape(short(name, 34))}</text>'
        )
    return _svg(width, max(height, last_y + 10), title, body, "glide-path")
