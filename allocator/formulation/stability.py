"""Stability: the change from last year, cell by cell, as up and down deviations."""

from __future__ import annotations

import numpy as np

from allocator.formulation.context import (
    BuildContext,
    to_units,
)


def build_stability(ctx: BuildContext) -> None:
    b = ctx.b
    n = ctx.a.num_cells
    labels = b.cols["alloc"].label_columns
    up = b.add_columns("stability.up", labels)
    down = b.add_columns("stability.down", labels)
    b.add_objective("stability", up.start + np.arange(n), 1.0)
    b.add_objective("stability", down.start + np.arange(n), 1.0)
    local = np.arange(n)
    expr = (
        b.selector(ctx.alloc, local, 1.0, n, local)
        + b.selector(up, local, -1.0, n, local)
        + b.selector(down, local, 1.0, n, local)
    )
    ctx.rows(
        "stability.cell",
        labels,
        expr,
        to_units(ctx.cell_baseline),
        to_units(ctx.cell_baseline),
        None,
    )
