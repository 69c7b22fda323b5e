"""Write a bridge (allocation A to B by input group) as a workbook, money in £ and pence.

Sheets: ``Bridge`` (one row per figure: its total change, each step's effect and the step
that moved it most; the steps add to the total exactly), ``Steps`` (the groups in order and
the scenario fields each switched) and ``Order`` (for the largest steps, the effect under
the stated and the reversed order). Every text cell goes through the inert writer in
`allocator.io.cells`, so no name from a scenario is ever a live formula.
"""

from __future__ import annotations

import pandas as pd

from allocator.explain.bridge import Bridge
from allocator.io.cells import workbook_bytes


def bridge_frames(b: Bridge) -> dict[str, pd.DataFrame]:
    """The bridge as tidy tables (figure kind and id split; money in pence and £)."""
    rows = []
    for figure, total in b.total_change_pence.items():
        kind, _, unit = figure.partition(" ")
        row: dict[str, object] = {"kind": kind, "id": unit, "total_change_pence": total}
        for step in b.steps:
            row[f"{step.group} (pence)"] = step.effect_pence.get(figure, 0)
        row["total_change_gbp"] = total / 100
        row["moved most by"] = b.largest_step.get(figure, "")
        rows.append(row)
    bridge = pd.DataFrame(
        rows,
        columns=[
            "kind",
            "id",
            "total_change_pence",
            *(f"{s.group} (pence)" for s in b.steps),
            "total_change_gbp",
            "moved most by",
        ],
    )
    steps = pd.DataFrame(
        [
            {"step": i + 1, "group": s.group, "fields": ", ".join(s.fields)}
            for i, s in enumerate(b.steps)
        ],
        columns=["step", "group", "fields"],
    )
    order = pd.DataFrame(
        [
            {"group": line.group, "figure": line.figure}
            | {f"{k} order (pence)": v for k, v in line.effect_pence_by_order.items()}
            for line in b.order_spread
        ],
        columns=["group", "figure", "stated order (pence)", "reversed order (pence)"],
    )
    return {"Bridge": bridge, "Steps": steps, "Order": order}


def bridge_workbook(b: Bridge) -> bytes:
    """The bridge as ``.xlsx`` bytes."""
    return workbook_bytes(bridge_frames(b))
