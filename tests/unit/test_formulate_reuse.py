"""Re-builds with one funder's amount moved (the value of £1 more per funder) re-use the
first and last steps of the base build, and get the program a build from scratch gets,
array for array; a scenario that differs in anything else is built from scratch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from allocator.explain.shadow import POOL_STEP_PENCE, with_funder_increase
from allocator.formulation.formulate import Formulation, formulate
from models import Scenario

REALISTIC = Path(__file__).resolve().parents[2] / "data" / "realistic" / "realistic.json"


@pytest.fixture(scope="module")
def base() -> Formulation:
    return formulate(Scenario.model_validate_json(REALISTIC.read_text()))


def _same(a: Formulation, b: Formulation) -> None:
    pa, pb = a.program, b.program
    for name in ("row_lo", "row_hi", "col_lo", "col_hi", "is_integer"):
        assert np.array_equal(getattr(pa, name), getattr(pb, name)), name
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(pa.a, name), getattr(pb.a, name)), name
    assert pa.rows.names() == pb.rows.names() and pa.cols.names() == pb.cols.names()
    assert [(k.start, k.stop) for k in pa.cols.blocks.values()] == [
        (k.start, k.stop) for k in pb.cols.blocks.values()
    ]
    assert a.rule_names == b.rule_names
    assert a.objectives.keys() == b.objectives.keys()
    for stage, c in a.objectives.items():
        assert np.array_equal(c, b.objectives[stage]), stage


def test_a_funder_moved_reuses_the_build_and_gets_the_same_program(base: Formulation) -> None:
    assert base.prefix is not None
    for funder in base.scenario.funders:
        moved = with_funder_increase(base.scenario, funder.funder_id, POOL_STEP_PENCE)
        assert base.prefix.fits(moved, False, True)
        reused = formulate(moved, reuse=base.prefix)
        _same(reused, formulate(moved))
        # the pot moved: the conservation row of that funder is £10,000 higher
        assert not np.array_equal(reused.program.row_lo, base.program.row_lo)


def test_anything_else_changed_is_built_from_scratch(base: Formulation) -> None:
    assert base.prefix is not None
    scenario = base.scenario
    first = scenario.providers[0]
    changed = scenario.model_copy(
        update={
            "providers": (
                first.model_copy(update={"baseline_pence": first.baseline_pence + 100}),
                *scenario.providers[1:],
            )
        }
    )
    assert not base.prefix.fits(changed, False, True)
    assert not base.prefix.fits(scenario, True, False)  # the elastic build differs
    ring = scenario.funders[0].model_copy(update={"name": "renamed"})
    renamed = scenario.model_copy(update={"funders": (ring, *scenario.funders[1:])})
    assert not base.prefix.fits(renamed, False, True)
    _same(formulate(changed, reuse=base.prefix), formulate(changed))
