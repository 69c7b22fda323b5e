"""Which rules bind, and which soft rules were breached, in domain names."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.formulation.formulate import PENCE_PER_UNIT, Formulation, is_rule_block
from allocator.types import FloatArray
from models.results import RuleLine

BINDING_TOLERANCE = 1e-7  # relative to the bound (or to £1,000 for small bounds)


@dataclass(frozen=True)
class RuleRow:
    """A rule row that binds or is breached, with its position and which bound is active."""

    row: int
    at_lower: bool
    at_upper: bool
    line: RuleLine


def rule_rows(f: Formulation, x: FloatArray) -> list[RuleRow]:
    """Every rule row that binds or is breached (soft), in the order rules were added."""
    program = f.program
    activity = program.a @ x
    out: list[RuleRow] = []
    for name, block in program.rows.blocks.items():
        if not is_rule_block(name):
            continue
        rows = block.positions
        act, lo, hi = activity[rows], program.row_lo[rows], program.row_hi[rows]
        finite_lo = np.where(np.isfinite(lo), lo, 0.0)
        finite_hi = np.where(np.isfinite(hi), hi, 0.0)
        scale = np.maximum(1.0, np.maximum(np.abs(finite_lo), np.abs(finite_hi)))
        at_lo = np.isfinite(lo) & (np.abs(act - lo) <= BINDING_TOLERANCE * scale)
        at_hi = np.isfinite(hi) & (np.abs(act - hi) <= BINDING_TOLERANCE * scale)
        breach = np.zeros(block.size)
        for side in ("under", "over"):
            if f"{name}.{side}" in program.cols:
                cols = program.cols[f"{name}.{side}"]
                keep = np.flatnonzero(np.isfinite(lo) if side == "under" else np.isfinite(hi))
                breach[keep] += x[cols.positions]
        names = f.rule_names.get(name, [f"{name} #{k}" for k in range(block.size)])
        labels = block.label_columns  # plain arrays: reading them builds no DataFrame
        unit_col = next(
            (
                c
                for c in ("provider_id", "unit_id", "scheme_id", "rule_id", "funder_id")
                if c in labels
            ),
            None,
        )
        for k in np.flatnonzero(at_lo | at_hi | (breach > 1e-9)):
            line = RuleLine(
                rule=names[k],
                block=name,
                unit_id=None if unit_col is None else str(labels[unit_col][k]),
                binding=bool(at_lo[k] or at_hi[k]),
                breach_pence=round(breach[k] * PENCE_PER_UNIT),
            )
            out.append(RuleRow(block.start + int(k), bool(at_lo[k]), bool(at_hi[k]), line))
    return out
