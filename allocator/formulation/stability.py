"""Stability: the change from last year, cell by cell, as up and down deviations."""

from __future__ import annotations

import numpy as np

from allocator.formulation.context import (
    BuildContext,
    Cells,
    to_units,
)
from allocator.types import RowFamily, Stage


def build_stability(ctx: BuildContext, cells: Cells) -> None:
    b = ctx.b
    n = ctx.a.num_cells
    labels = b.cols["alloc"].label_columns
    up = b.add_columns("stability.up", labels)
    down = b.add_columns("stability.down", labels)
    b.add_objective(Stage.STABILITY, up.start + np.arange(n), 1.0)
    b.add_objective(Stage.STABILITY, down.start + np.arange(n), 1.0)
    local = np.arange(n)
    expr = (
        b.selector(cells.cols, local, 1.0, n, local)
        + b.selector(up, local, -1.0, n, local)
        + b.selector(down, local, 1.0, n, local)
    )
    ctx.rows(
        RowFamily.STABILITY.block("cell"),
        labels,
        expr,
        to_units(cells.baseline_pence),
        to_units(cells.baseline_pence),
        None,
    )
