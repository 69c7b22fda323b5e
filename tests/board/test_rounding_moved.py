"""The certificate's "rounding moved" per line: how far publishing in whole pence moved each
line's parts from the solver's fractional figures, recorded in the result and shown."""

from __future__ import annotations

import io
from collections import Counter

import numpy as np
from openpyxl import load_workbook

from allocator.backends.registry import DEFAULT_BACKEND
from allocator.formulation.formulate import formulate
from allocator.io.board_certificate import certificate
from allocator.io.board_pack import board_pack_bytes
from allocator.io.board_verify import verify_board_pack
from allocator.pipeline import solve_options
from allocator.publish.pence_plan import plan_pence
from allocator.stages.sequence import solve_sequence
from models import Scenario
from models.results import AllocationResult
from tests.golden.published import published_form


def test_every_certificate_line_says_how_far_rounding_moved_it(
    realistic_result: AllocationResult,
) -> None:
    lines = certificate(realistic_result)
    assert lines and all(c.rounding_moved_pence is not None for c in lines)
    assert all((c.rounding_moved_pence or 0) >= 0 for c in lines)
    assert any((c.rounding_moved_pence or 0) > 0 for c in lines)  # realistic rounds something
    # Each part is within a penny of the solver's figure: a line moves less than 1p a part.
    flows_of = Counter(f.funder_id for f in realistic_result.flows)
    moved = {(r.level, r.unit_id): r.moved_pence for r in realistic_result.rounding}
    for funder in realistic_result.pool:
        assert moved[("funder", funder.funder_id)] <= flows_of[funder.funder_id]
    # A neighbourhood is a sum of rounded cells: under a penny for each published cell.
    place_of = {n.unit_id: n.parent_id for n in realistic_result.neighbourhoods}
    cells_in = Counter(place_of[c.neighbourhood_id] for c in realistic_result.cells)
    for place in realistic_result.places:
        assert moved[("place_neighbourhoods", place.unit_id)] <= cells_in[place.unit_id]


def test_the_pot_line_is_the_flows_moved_from_the_solver_figures(realistic: Scenario) -> None:
    formulation = formulate(realistic)
    outcome = solve_sequence(formulation, DEFAULT_BACKEND, solve_options(realistic, None, None))
    plan = plan_pence(formulation, outcome.final.x)
    expected = float(np.abs(plan.flow_pence - plan.flow_solver).sum())
    from allocator.publish.rounding_moved import rounding_moved

    pot = next(r for r in rounding_moved(formulation, plan) if r.level == "pot")
    assert abs(pot.moved_pence - expected) <= 0.005
    assert plan.flow_pence.sum() == round(plan.flow_solver.sum())  # moved, not lost


def test_the_pack_shows_it_and_says_what_it_means(realistic_result: AllocationResult) -> None:
    pack = board_pack_bytes(realistic_result)
    ws = load_workbook(io.BytesIO(pack))["Reconciliation"]
    header = [c.value for c in ws[3]]
    column = header.index("Rounding moved (pence)")
    shown = [row[column] for row in ws.iter_rows(min_row=4, values_only=True) if row[0]]
    expected = [c.rounding_moved_pence for c in certificate(realistic_result)]
    assert shown[: len(expected)] == expected
    assert ws.cell(4, column + 1).number_format.endswith('"p"')
    assert "whole pence moved" in str(ws["A2"].value)
    assert verify_board_pack(pack) == []


def test_a_result_without_the_record_leaves_it_blank(tiny_result: AllocationResult) -> None:
    older = tiny_result.model_copy(update={"rounding": []})
    assert all(c.rounding_moved_pence is None for c in certificate(older))
    assert verify_board_pack(board_pack_bytes(older)) == []
    # The golden comparison of published figures leaves the diagnostic out.
    assert published_form(older) == published_form(tiny_result)
