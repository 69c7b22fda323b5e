"""The board report's charts, drawn on matplotlib axes (no pyplot: no global state).

Money axes are in £m. Risk uses one sign convention throughout: a positive figure is an
overspend, a cost to the pool; a negative one is an underspend kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from allocator.riskshare.report import RiskReport, reserve_warning
from models.results import AllocationResult

BLUE, GREY, RED, GREEN, AMBER = "#1F3864", "#A6A6A6", "#C00000", "#2E7D32", "#E69F00"
M = 100 * 1_000_000  # pence in £1m


def m(pence: float) -> str:
    """Pence as signed-when-negative £m: 123456789 -> '£1.2m'; -5e8 -> '-£5.0m'."""
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) / M:,.1f}m"


def short(name: str, width: int = 34) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def distance_chart(axes: Any, result: AllocationResult) -> None:
    """Distance from fair-share target, places (left) and neighbourhoods (right), in %."""
    for ax, units, title in (
        (axes[0], result.places, "Places"),
        (axes[1], result.neighbourhoods, "Neighbourhoods"),
    ):
        units = [u for u in units if u.distance_from_target is not None]
        names = [short(u.name or u.unit_id, 24) for u in units]
        values = [100 * (u.distance_from_target or 0.0) for u in units]
        y = np.arange(len(units))
        ax.barh(y, values, color=[RED if v < 0 else GREEN for v in values])
        ax.set_yticks(y, names, fontsize=7 if len(units) > 8 else 9)
        ax.invert_yaxis()
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("distance from target, % (- below, + above)")
        ax.set_title(title, fontsize=11)
        for yi, v in zip(y, values, strict=True):
            ax.annotate(
                f"{v:+.2f}%",
                (v, yi),
                xytext=(3 if v >= 0 else -3, 0),
                textcoords="offset points",
                ha="left" if v >= 0 else "right",
                va="center",
                fontsize=6 if len(units) > 8 else 8,
            )
        ax.margins(x=0.25)


def budgets_chart(ax: Any, result: AllocationResult) -> None:
    """Each provider's budget against its baseline, £m, with the change labelled."""
    providers = result.providers
    y = np.arange(len(providers))
    ax.barh(y - 0.2, [p.baseline_pence / M for p in providers], 0.4, color=GREY, label="baseline")
    ax.barh(y + 0.2, [p.budget_pence / M for p in providers], 0.4, color=BLUE, label="budget")
    ax.set_yticks(y, [short(p.name or p.provider_id, 40) for p in providers], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("£m")
    for yi, p in zip(y, providers, strict=True):
        share = "" if p.change_share is None else f" ({p.change_share:+.1%})"
        sign = "+" if p.change_pence > 0 else ""
        ax.annotate(
            f"{sign}{m(p.change_pence)}{share}",
            (p.budget_pence / M, yi + 0.2),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=6,
        )
    ax.margins(x=0.18)
    ax.legend(loc="lower right", fontsize=8)


def _band(
    ax: Any, x0: float, x1: float, a: tuple[float, float], b: tuple[float, float], colour: str
) -> None:
    t = np.linspace(0.0, 1.0, 40)
    s = 3 * t**2 - 2 * t**3
    xs = x0 + (x1 - x0) * t
    ax.fill_between(
        xs,
        a[0] + (b[0] - a[0]) * s,
        a[1] + (b[1] - a[1]) * s,
        color=colour,
        alpha=0.35,
        linewidth=0,
    )


def _stack(values: list[float], gap: float) -> list[tuple[float, float]]:
    """(bottom, top) of nodes stacked downwards from 1."""
    out, top = [], 1.0
    for v in values:
        out.append((top - v, top))
        top -= v + gap
    return out


def flows_chart(ax: Any, result: AllocationResult) -> None:
    """Pool -> places (and pass-through, reserve) -> providers, band widths by money."""
    pot = result.pot
    providers = [p for p in result.providers if p.budget_pence]
    mids: list[tuple[str, int, dict[str, int]]] = [
        (
            u.name or u.unit_id,
            u.allocation_pence or 0,
            {p.provider_id: p.by_place_pence.get(u.unit_id, 0) for p in providers},
        )
        for u in result.places
    ]
    if pot.pass_through_pence:
        mids.append(
            (
                "Pass-through",
                pot.pass_through_pence,
                {p.provider_id: p.pass_through_pence for p in providers},
            )
        )
    if pot.reserve_pence:
        mids.append(("Reserve (held back)", pot.reserve_pence, {}))
    total = float(pot.total_pence or 1)
    gap_mid, gap_right = 0.03, 0.012
    scale_mid = (1 - gap_mid * (len(mids) - 1)) / total
    scale_right = (1 - gap_right * (len(providers) - 1)) / total
    mid_nodes = _stack([v * scale_mid for _, v, _ in mids], gap_mid)
    right_nodes = _stack([p.budget_pence * scale_right for p in providers], gap_right)
    colours = [BLUE, GREEN, AMBER, "#7B1FA2", "#00838F", "#5D4037"]
    ax.bar(0, 1.0, 0.04, bottom=0.0, color=BLUE)
    ax.text(-0.03, 0.5, f"Pot\n{m(pot.total_pence)}", ha="right", va="center", fontsize=9)
    offset_left = 1.0
    offsets_right = [top for _, top in right_nodes]
    for k, ((name, value, to), (bottom, top)) in enumerate(zip(mids, mid_nodes, strict=True)):
        colour = GREY if not to else colours[k % len(colours)]
        height = value / total
        _band(ax, 0.02, 0.48, (offset_left - height, offset_left), (bottom, top), colour)
        offset_left -= height
        ax.bar(0.5, top - bottom, 0.04, bottom=bottom, color=colour)
        ax.text(
            0.5, top + 0.004, f"{short(name, 22)} {m(value)}", ha="center", va="bottom", fontsize=7
        )
        out = top
        for j, p in enumerate(providers):
            pence = to.get(p.provider_id, 0)
            if not pence:
                continue
            a = (out - pence * scale_mid, out)
            b = (offsets_right[j] - pence * scale_right, offsets_right[j])
            _band(ax, 0.52, 0.98, a, b, colour)
            out -= pence * scale_mid
            offsets_right[j] -= pence * scale_right
    for p, (bottom, top) in zip(providers, right_nodes, strict=True):
        ax.bar(1.0, top - bottom, 0.04, bottom=bottom, color=BLUE)
        ax.text(
            1.03,
            (top + bottom) / 2,
            f"{short(p.name or p.provider_id, 38)} {m(p.budget_pence)}",
            va="center",
            fontsize=6,
        )
    ax.set_xlim(-0.25, 1.6)
    ax.set_ylim(-0.02, 1.05)
    ax.axis("off")
    for x, label in ((0.0, "Pool"), (0.5, "Places"), (1.0, "Providers")):
        ax.text(x, 1.04, label, ha="center", fontsize=10, fontweight="bold")


def risk_chart(ax: Any, report: RiskReport) -> str | None:
    """The pool's call on the reserve over the draws, with the reserve, VaR and CVaR drawn.
    Returns a warning when the reserve is below what the chosen confidence needs."""
    hist = report.pool.histogram
    edges = np.asarray(hist.bin_edges_pence, dtype=np.float64) / M
    ax.stairs(hist.counts, edges, fill=True, color=GREY, label="draws")
    reserve = report.pool.reserve
    call = report.pool.call
    for value, colour, label in (
        (reserve.reserve_pence, GREEN, f"reserve {m(reserve.reserve_pence)}"),
        (call.var_pence, AMBER, f"VaR {report.level:.0%} {m(call.var_pence)}"),
        (call.cvar_pence, RED, f"CVaR {report.level:.0%} {m(call.cvar_pence)}"),
    ):
        ax.axvline(value / M, color=colour, linewidth=2, label=label)
    ax.set_xlabel("pool's call on the reserve, £m (+ overspend, a cost to the pool; - underspend)")
    ax.set_ylabel("draws")
    ax.legend(fontsize=8)
    return reserve_warning(reserve)
