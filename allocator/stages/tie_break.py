"""The tie-break stage: one published allocation among all equally good ones.

After fairness, value and stability, money can often still move between cells,
funders or providers at no cost in any stage, so which optimum a solver reports
depends on its path (cold or warm start, backend, batch neighbour). The tie-break
stage is solved last, with every earlier optimum held, and minimises a fixed,
generic linear objective:

* each cell's change from its baseline costs between 1 and 2 per £, the factor a
  hash of the cell's (provider, place, segment) ids, so among equally good plans the
  one that moves least money from baseline is preferred, and the remaining ties go
  by a fixed, published order of cells that does not depend on the solver;
* each funder flow (funder -> provider, segment) costs a thousandth of that, with its
  own hashed factor, which settles who pays for what. Other columns (value-curve pieces,
  shortfalls) follow from these and carry no cost: costing them too measured as a face
  too badly scaled for HiGHS and GLOP to solve.

A linear objective with such generic costs has one optimum on a polytope (ties need
the costs to be exactly orthogonal to an edge of the face). To make that face the same
on every path, each held optimum is rounded up to a power-of-two grid
(`held_bound`): two solves whose optima differ by solver noise hold the same bound.
See docs/uniqueness.md.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace

import numpy as np

from allocator.backends.interface import SolveOptions
from allocator.formulation.formulate import Formulation
from allocator.formulation.program import LinearProgram
from allocator.types import FloatArray, Stage

CHANGE_BLOCKS = ("stability.up", "stability.down")  # a cell's change from baseline
FLOW_BLOCK = "funding"  # funder -> (provider, segment) flows
FLOW_WEIGHT = 1e-3  # a £ of flow, relative to a £ of change
LAPSE_BLOCK = "entitlement.lapse"  # use-it-or-lose-it money not claimed
LAPSE_WEIGHT = 4.0  # above any £ of change (1-2), so earlier stages' slack is never lapsed


def hashed_factor(key: str) -> float:
    """A number in [0, 1) fixed by ``key`` (SHA-256: the same on every machine and run)."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def column_keys(program: LinearProgram) -> list[str]:
    """A stable key per column: its block name and labels (never its position).

    Columns with the same labels (the pieces of one value curve) are numbered in order.
    """
    return [key for name in program.cols.names() for key in block_keys(program, name)]


def block_keys(program: LinearProgram, name: str) -> list[str]:
    """The `column_keys` of one block's columns (numbering restarts in each block)."""
    block = program.cols[name]
    columns = [np.asarray(values).astype(str) for values in block.label_columns.columns.values()]
    rows = ["|".join(row) for row in zip(*columns, strict=True)] if columns else []
    if len(rows) != block.size:
        rows = [""] * block.size
    keys: list[str] = []
    seen: dict[str, int] = {}
    for row in rows:
        count = seen.get(row, 0)
        seen[row] = count + 1
        keys.append(f"{name}|{row}" if count == 0 else f"{name}|{row}#{count}")
    return keys


def tie_break_objective(formulation: Formulation) -> FloatArray:
    """The tie-break costs (all columns are bounded below by 0, so the stage is bounded).

    Only the costed blocks' keys are hashed: every other column costs 0 whatever its factor.
    """
    program = formulation.program
    weights = {FLOW_BLOCK: FLOW_WEIGHT, **dict.fromkeys(CHANGE_BLOCKS, 1.0)}
    weights[LAPSE_BLOCK] = LAPSE_WEIGHT
    c: FloatArray = np.zeros(program.num_cols)
    for name, weight in weights.items():
        if name in program.cols:
            factors = np.array([hashed_factor(k) for k in block_keys(program, name)])
            c[program.cols[name].positions] = weight * (1.0 + factors)
    return c


MONEY_HOLD_FLOOR = 1e-3
"""The smallest optimum a money stage's hold is relative to: with money in £m the slack
never falls below ``tolerance × £1,000`` (0.01p at 1e-7). Other stages (a share, value
units) keep a floor of 1, which is also a solver's absolute feasibility tolerance: a
tighter hold than that would be met by each backend to its own tolerance, not ours."""
MONEY_STAGES = frozenset({Stage.FAIRNESS_SUM, Stage.STABILITY, Stage.TIE_BREAK})


def held_bound(optimum: float, tolerance: float, stage: Stage | None = None) -> float:
    """The bound that holds a stage optimum for later stages, on a grid that ignores noise.

    The slack is between one and four times ``tolerance`` × max(floor, |optimum|), the
    floor `MONEY_HOLD_FLOOR` for money stages and 1 for the others, and the bound is a
    multiple of a power of two, so optima a little apart (one solver against another,
    warm against cold) almost always hold the same bound. Less slack than the tolerance
    leaves the last stages too thin a face to solve reliably.
    """
    floor = MONEY_HOLD_FLOOR if stage in MONEY_STAGES else 1.0
    slack = tolerance * max(floor, abs(optimum))
    if slack <= 0.0 or not math.isfinite(optimum):
        return optimum + slack
    grid = 2.0 ** math.ceil(math.log2(slack))
    return (math.ceil(optimum / grid) + 1.0) * grid


TIE_BREAK_SIMPLEX = 1
"""HiGHS's serial dual simplex for the tie-break stage, always solved cold. Measured on the
national tie-break LP (20,882 rows, 48,675 columns, seed 1): dual simplex 7.9 s, primal
simplex 13.1 s, interior point with crossover 11.5 s, interior point without crossover
and both simplex methods without presolve stopped with numerical trouble, PDLP ran over
five minutes. Warm starts from the
stability basis took 1.8-1.9 s but failed too, and would make the answer depend on the
path. Each of these is deterministic for a given program, so any one of them keeps the
tie-break path-independent; the fastest is used."""


def tie_break_options(backend_name: str, options: SolveOptions) -> SolveOptions:
    """The options the tie-break stage is solved with: the dual simplex for HiGHS.

    It replaces the LP chain's primal simplex (fast only from a warm start, and the
    tie-break is never warm-started) so every path solves this stage the same way.
    """
    if backend_name != "highs" or options.extra.get("solver", "simplex") != "simplex":
        return options
    return replace(options, extra={**options.extra, "simplex_strategy": TIE_BREAK_SIMPLEX})
