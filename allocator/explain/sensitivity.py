"""How far each shadow price holds (spec section 6 sensitivity), measured by re-solves.

Within a range of a rule's bound (or of a funder's contribution) the optimal value moves
linearly at the shadow price; past it, other rules start or stop binding. For each rule
the range is found by moving its bound in the solver program, re-solving every stage, and
checking that the headline objective moved at the shadow price (doubling the step, then
bisecting). The pot is moved through the scenario, since targets move with it. For a MIP
the integer decisions stay fixed at the allocation's, as they are for its duals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

from allocator.backends.interface import SolveOptions, TerminationReason
from allocator.explain.shadow import with_funder_increase
from allocator.formulation.formulate import PENCE_PER_UNIT, Formulation, formulate
from allocator.publish.rule_lines import RuleRow
from allocator.stages.sequence import fix_integers, solve_sequence
from allocator.types import FloatArray
from models.results import PoolMarginal, RuleLine

GBP_PER_UNIT = PENCE_PER_UNIT / 100
RELATIVE_MATCH = 0.01
DOUBLINGS = 8
BISECTIONS = 5


def _headline_value(
    f: Formulation, backend: str, options: SolveOptions, stage: str, x: FloatArray
) -> float | None:
    if f.program.is_mip:
        f = replace(f, program=fix_integers(f.program, x))
    outcome = solve_sequence(f, backend, options)
    for st in outcome.stages:
        if st.stage == stage and st.solution.termination.reason is TerminationReason.OPTIMAL:
            assert st.solution.objective is not None
            return -float(st.solution.objective)
    return None


def _extent(
    value_at: Callable[[float], float | None], base: float, slope: float, first_step: float
) -> float:
    """Largest step (in £) along which the value keeps moving at ``slope`` per £."""

    def holds(step: float) -> bool:
        moved = value_at(step)
        if moved is None:
            return False
        expected = base + slope * step
        return abs(moved - expected) <= RELATIVE_MATCH * max(abs(slope * step), 1e-9)

    good, bad = 0.0, None
    step = first_step
    for _ in range(DOUBLINGS):
        if holds(step):
            good, step = step, step * 2
        else:
            bad = step
            break
    if bad is None:
        return good
    for _ in range(BISECTIONS):
        middle = (good + bad) / 2
        good, bad = (middle, bad) if holds(middle) else (good, middle)
    return good


def rule_ranges(
    f: Formulation,
    rows: list[RuleRow],
    lines: list[RuleLine],
    backend: str,
    options: SolveOptions,
    stage: str,
    x: FloatArray,
    top: int = 10,
) -> list[RuleLine]:
    """Lines with valid_from/valid_to (bound in £) for the ``top`` rules by shadow price."""
    base = _headline_value(f, backend, options, stage, x)
    if base is None:
        return lines
    program = f.program
    ranked = sorted(
        (k for k, line in enumerate(lines) if line.binding and line.shadow_price is not None),
        key=lambda k: -abs(lines[k].shadow_price or 0.0),
    )[:top]
    out = list(lines)
    for k in ranked:
        r, line = rows[k], lines[k]
        at_lower = r.at_lower and not r.at_upper
        bound_units = program.row_lo[r.row] if at_lower or r.at_lower else program.row_hi[r.row]
        relax_sign = -1.0 if at_lower else 1.0
        price = line.shadow_price or 0.0  # value per £ relaxed

        def value_at(
            step_gbp: float, sign: float, row: int = r.row, lower: bool = r.at_lower
        ) -> float | None:
            shift = sign * step_gbp / GBP_PER_UNIT
            lo, hi = program.row_lo.copy(), program.row_hi.copy()
            if lower:
                lo[row] += shift
                if hi[row] == program.row_lo[row]:
                    hi[row] = lo[row]
            else:
                hi[row] += shift
            moved = replace(f, program=replace(program, row_lo=lo, row_hi=hi))
            return _headline_value(moved, backend, options, stage, x)

        first = max(abs(bound_units) * GBP_PER_UNIT * 0.001, 1_000.0)
        relax = _extent(partial(value_at, sign=relax_sign), base, price, first)
        tighten = _extent(partial(value_at, sign=-relax_sign), base, -price, first)
        bound_gbp = float(bound_units * GBP_PER_UNIT)
        low, high = (
            (bound_gbp - relax, bound_gbp + tighten)
            if at_lower
            else (bound_gbp - tighten, bound_gbp + relax)
        )
        out[k] = line.model_copy(update={"valid_from_gbp": low, "valid_to_gbp": high})
    return out


def pool_ranges(
    f: Formulation,
    pool: list[PoolMarginal],
    backend: str,
    options: SolveOptions,
    stage: str,
    x: FloatArray,
) -> list[PoolMarginal]:
    """Pool marginals with the range of each funder's contribution (in £) where they hold."""
    base = _headline_value(f, backend, options, stage, x)
    if base is None:
        return pool
    out = []
    for marginal in pool:
        if marginal.value_per_gbp is None:
            out.append(marginal)
            continue
        funder = next(item for item in f.scenario.funders if item.funder_id == marginal.funder_id)

        def value_at(
            step_gbp: float, sign: float, funder_id: str = funder.funder_id
        ) -> float | None:
            pence = round(sign * step_gbp * 100)
            moved = formulate(
                with_funder_increase(f.scenario, funder_id, pence), extend=f.extension
            )
            return _headline_value(moved, backend, options, stage, x)

        first = max(funder.amount_pence / 100 * 0.001, 1_000.0)
        up = _extent(lambda g: value_at(g, 1.0), base, marginal.value_per_gbp, first)
        down = _extent(
            lambda g: value_at(g, -1.0),
            base,
            -marginal.value_per_gbp,
            min(first, funder.amount_pence / 100),
        )
        amount = funder.amount_pence / 100
        out.append(
            marginal.model_copy(
                update={"valid_from_gbp": amount - down, "valid_to_gbp": amount + up}
            )
        )
    return out


__all__ = ["pool_ranges", "rule_ranges"]
