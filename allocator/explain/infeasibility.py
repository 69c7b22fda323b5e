"""Why a scenario is infeasible, and the least change that fixes it (spec section 4, stage 1).

Every hard rule becomes elastic: its bound may move, at a cost of 1 per £ moved (leaving
pooled money unspent costs more). Minimising the total move gives the least change in £
that makes the rules consistent. The rules whose relaxation would reduce that change
(non-zero duals of the elastic LP) are the ones in conflict. A second elastic solve lets
only the pot grow: if it is feasible, that is the pot increase that would suffice alone.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from allocator.backends.interface import SolveOptions, TerminationReason
from allocator.backends.registry import get_backend
from allocator.domain.money import pence_to_gbp_str
from allocator.formulation.formulate import (
    PENCE_PER_UNIT,
    Extension,
    Formulation,
    formulate,
    is_rule_block,
)
from allocator.formulation.program import Sense
from allocator.stages.sequence import fix_integers
from allocator.types import FloatArray, RowFamily, Stage
from models import Scenario
from models.results import InfeasibilityReport, Relaxation

DUAL_TOLERANCE = 1e-7


def _slack_blocks(f: Formulation) -> list[tuple[str, str, str]]:
    """(slack column block, row block, side) for every elastic slack."""
    c = f.objectives[Stage.ELASTIC]
    out = []
    for name, block in f.program.cols.blocks.items():
        for side in ("under", "over"):
            suffix = f".{side}"
            if name.endswith(suffix) and c[block.positions].any():
                out.append((name, name[: -len(suffix)], side))
    return out


def _relaxations(f: Formulation, x: FloatArray) -> list[Relaxation]:
    program = f.program
    out = []
    for col_block, row_block, side in _slack_blocks(f):
        cols = program.cols[col_block]
        rows = program.rows[row_block]
        bound = program.row_lo if side == "under" else program.row_hi
        finite = np.flatnonzero(
            np.isfinite(bound[rows.positions])
        )  # slack k belongs to row finite[k]
        names = f.rule_names.get(row_block, [])
        labels = rows.labels
        unit_col = next(
            (
                c
                for c in ("provider_id", "unit_id", "scheme_id", "funder_id", "rule_id")
                if c in labels
            ),
            None,
        )
        values = x[cols.positions]
        for k in np.flatnonzero(values > 1e-9):
            r = int(finite[k])
            is_units = row_block == RowFamily.SCHEME_REQUIRED
            amount = values[k] if is_units else values[k] * PENCE_PER_UNIT
            bound_value = bound[rows.start + r]
            bound_value = bound_value if is_units else bound_value * PENCE_PER_UNIT
            direction = "lower" if side == "under" else "raise"
            if row_block == RowFamily.CONSERVATION_FUNDER:
                direction = "raise" if side == "over" else "lower"
            out.append(
                Relaxation(
                    rule=names[r] if r < len(names) else f"{row_block} #{r}",
                    block=row_block,
                    unit_id=None if unit_col is None else str(labels[unit_col].iloc[r]),
                    direction=direction,
                    amount_pence=math.ceil(amount - 1e-6)
                    if not is_units
                    else math.ceil(amount - 1e-9),
                    bound_pence=None if is_units else round(bound_value),
                    share_of_bound=None if bound_value == 0 else float(amount / abs(bound_value)),
                )
            )
    return out


def _elastic_solve(f: Formulation, backend: str, options: SolveOptions, only_pot: bool = False):  # type: ignore[no-untyped-def]
    program = f.program.with_objective(f.objectives[Stage.ELASTIC], Sense.MINIMIZE)
    if only_pot:
        hi = program.col_hi.copy()
        for col_block, row_block, side in _slack_blocks(f):
            if not (row_block == RowFamily.CONSERVATION_FUNDER and side == "over"):
                hi[program.cols[col_block].positions] = 0.0
        program = replace(program, col_hi=hi)
    return get_backend(backend).solve(program, options)


def _conflicting(f: Formulation, x: FloatArray, backend: str, options: SolveOptions) -> list[str]:
    program = f.program.with_objective(f.objectives[Stage.ELASTIC], Sense.MINIMIZE)
    if program.is_mip:
        # Fix the on/off decisions (viability) but let scheme units vary, so that a required
        # scheme's row keeps a dual and shows up in the conflict.
        schemes = program.cols["scheme.units"].positions
        keep = program.is_integer.copy()
        keep[schemes] = False
        program = fix_integers(replace(program, is_integer=keep), x)
    sol = get_backend(backend).solve(program, options)
    if sol.row_duals is None:
        return []
    names: list[str] = []
    for name, block in program.rows.blocks.items():
        if not (is_rule_block(name) or name == RowFamily.CONSERVATION_FUNDER):
            continue
        duals = sol.row_duals[block.positions]
        rule_names = f.rule_names.get(name, [])
        for k in np.flatnonzero(np.abs(duals) > DUAL_TOLERANCE):
            names.append(rule_names[k] if k < len(rule_names) else f"{name} #{k}")
    return names


def diagnose(
    scenario: Scenario, *, backend: str, options: SolveOptions, extend: Extension | None = None
) -> InfeasibilityReport:
    """The infeasibility report: conflicting rules, least change, and the pot-only fix.

    ``extend`` adds the same extra rule families the failed solve had (e.g. CVaR limits).
    """
    f = formulate(scenario, elastic=True, extend=extend)
    sol = _elastic_solve(f, backend, options)
    if sol.termination.reason is not TerminationReason.OPTIMAL or sol.x is None:
        return InfeasibilityReport(
            summary=f"The hard rules cannot all hold, and the diagnosis itself stopped: {sol.termination.reason.value}.",
            conflicting_rules=[],
            least_change=[],
            least_change_total_pence=0,
            pot_increase_pence=None,
        )
    relaxations = _relaxations(f, sol.x)
    conflicting = _conflicting(f, sol.x, backend, options)
    pot_only = _elastic_solve(f, backend, options, only_pot=True)
    pot_increase = None
    if pot_only.termination.reason is TerminationReason.OPTIMAL and pot_only.x is not None:
        allocated_need = sum(
            r.amount_pence
            for r in _relaxations(f, pot_only.x)
            if r.block == RowFamily.CONSERVATION_FUNDER
        )
        # Contributions, not allocations: a share-based reserve takes its cut of the extra money too.
        pot_increase = math.ceil(allocated_need / (1.0 - (scenario.reserve.share or 0.0)))
    money = [r for r in relaxations if r.block != RowFamily.SCHEME_REQUIRED]
    total = sum(r.amount_pence for r in money)
    return InfeasibilityReport(
        summary=_summary(relaxations, pot_increase, total),
        conflicting_rules=conflicting,
        least_change=relaxations,
        least_change_total_pence=total,
        pot_increase_pence=pot_increase,
        notes=[
            "The least change moves rule bounds by the smallest total in £; each line says which bound "
            "moves and by how much. Raising the pot, where it suffices alone, is given separately."
        ],
    )


def _summary(relaxations: list[Relaxation], pot_increase: int | None, total: int) -> str:
    if not relaxations:
        return "The hard rules cannot all hold, but no single rule bound explains it."
    parts = []
    for r in relaxations[:6]:
        share = "" if r.share_of_bound is None else f" ({r.share_of_bound:.2%})"
        what = (
            f"{r.amount_pence} unit(s)"
            if r.block == RowFamily.SCHEME_REQUIRED
            else pence_to_gbp_str(r.amount_pence)
        )
        parts.append(f"{r.direction} {r.rule} by {what}{share}")
    more = f" and {len(relaxations) - 6} more" if len(relaxations) > 6 else ""
    text = (
        f"The hard rules cannot all hold. Least change (total {pence_to_gbp_str(total)}): "
        + "; ".join(parts)
        + more
        + "."
    )
    if pot_increase is not None:
        text += f" Alternatively, raise the pot by {pence_to_gbp_str(pot_increase)}."
    else:
        text += " Raising the pot alone would not be enough."
    return text
