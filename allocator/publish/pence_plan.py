"""Solver arrays -> published allocation in exact pence (spec section 6).

Rounding goes top down so that every level reconciles exactly: provider totals from
the capitated pot; each provider's segments from its total; funder-to-(provider,
segment) flows as a table whose funder rows and provider-segment columns are both
exact; provider-segment money by place as a second such table; then cells within
each provider, segment and place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from allocator import __version__
from allocator.domain.arrays import items_of_groups
from allocator.domain.rounding import controlled_round, round_grouped, round_to_total
from allocator.formulation.formulate import PENCE_PER_UNIT, Formulation
from allocator.types import FloatArray, IntArray, NumArray
from models import FairShareForm, UnitLevel


@dataclass(frozen=True)
class PencePlan:
    """Every published money figure of a feasible allocation, in integer pence."""

    provider_capitated: IntArray  # (providers,) budget excluding pass-through
    ps_provider: IntArray  # provider of each (provider, segment) key
    ps_segment: IntArray
    ps_total: IntArray  # (keys,) cells + schemes
    flow_funder: IntArray  # funding entries: funder, key, pence
    flow_key: IntArray
    flow_pence: IntArray
    cell_pence: IntArray  # (cells,) provider × place × segment
    cell_neighbourhood_pence: IntArray  # aligned with ScenarioArrays.cell_neighbourhoods
    scheme_units: IntArray
    scheme_pence: IntArray
    scheme_neighbourhoods: tuple[IntArray, IntArray]  # (scheme, neighbourhood of its place)
    scheme_neighbourhood_pence: IntArray  # aligned with scheme_neighbourhoods
    # The solver's figures (fractional pence) that the published pence were rounded from:
    # `allocator.publish.rounding_moved` reports how far rounding moved each line.
    provider_solver: FloatArray  # aligned with provider_capitated
    flow_solver: FloatArray  # aligned with flow_pence
    cell_solver: FloatArray  # aligned with cell_pence
    scheme_neighbourhood_solver: FloatArray  # aligned with scheme_neighbourhood_pence
    # What each entitlement let lapse (aligned with scenario.entitlements) and each funder.
    lapse_pence: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    lapse_by_funder: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _positions(ids: list[str], values: NumArray) -> IntArray:
    """The position of each value in ``ids`` (a hash lookup); -1 where it is not one of them."""
    lookup = {value: k for k, value in enumerate(ids)}
    return np.fromiter((lookup.get(v, -1) for v in values), dtype=np.int64, count=len(values))


def _has_system_rules(f: Formulation) -> bool:
    s = f.scenario
    return any(r.level is UnitLevel.SYSTEM for r in s.pace_of_change) or any(
        r.level is UnitLevel.SYSTEM and r.form is FairShareForm.BAND for r in s.fair_shares
    )


def _round_cells(
    f: Formulation, cell_lp: FloatArray, cell_row: IntArray, row_totals: IntArray
) -> IntArray:
    """Cells of each (provider, segment) by place, every place within a penny of the solver.

    With a system-level rule, a system's total must keep to the penny too, so systems are
    rounded first (each to the floor or ceiling of its solver value, together the pot),
    then places within their system, and the cells to those exact place totals.
    """
    a = f.arrays
    if _has_system_rules(f):
        n_places = len(a.place_ids)
        place_lp = np.bincount(a.cell_place, weights=cell_lp, minlength=n_places)
        system_lp = np.bincount(a.place_system, weights=place_lp, minlength=len(a.system_ids))
        system_int = round_to_total(system_lp, int(row_totals.sum()))
        place_int = round_grouped(place_lp, a.place_system, system_int)
        try:
            return controlled_round(cell_lp, cell_row, a.cell_place, row_totals, place_int)
        except ValueError:
            pass  # no table fits both totals: places stay within a penny, as without the rule
    return controlled_round(cell_lp, cell_row, a.cell_place, row_totals)


def _lapses(f: Formulation, x: FloatArray) -> tuple[IntArray, IntArray]:
    """Whole pence lapsed per entitlement (each within 0 and its amount) and per funder."""
    rules = f.scenario.entitlements
    lapse = np.zeros(len(rules), dtype=np.int64)
    if rules:
        solver = x[f.program.cols["entitlement.lapse"].positions] * PENCE_PER_UNIT
        amount = np.array([e.amount_pence for e in rules], dtype=np.int64)
        lapse = np.clip(np.rint(solver), 0, amount).astype(np.int64)
    at = {u: k for k, u in enumerate(f.arrays.funder_ids)}
    funder = np.array([at[e.funder_id] for e in rules], dtype=np.int64)
    by_funder = np.bincount(funder, weights=lapse, minlength=len(at)).astype(np.int64)
    return lapse, by_funder


def plan_pence(f: Formulation, x: FloatArray) -> PencePlan:
    """Every published figure in whole pence; money that lapsed is taken off the pot first."""
    a = f.arrays
    program = f.program
    cols = program.cols
    lapse, lapse_by_funder = _lapses(f, x)
    cell_lp = np.maximum(x[cols["alloc"].positions], 0.0) * PENCE_PER_UNIT
    units = np.rint(x[cols["scheme.units"].positions]).astype(np.int64)
    scheme_cost = np.array([j.cost_per_unit_pence for j in f.scenario.schemes], dtype=np.int64)
    scheme_pence = units * scheme_cost
    scheme_provider = f.scheme_provider
    scheme_segment = f.scheme_segment
    c_provider, _c_neighbourhood, c_segment = a.cells
    n_p, n_s = len(a.provider_ids), len(a.segment_ids)

    # Provider totals from the pot (floor or ceiling of each solver total).
    provider_lp = np.bincount(c_provider, weights=cell_lp, minlength=n_p) + np.bincount(
        scheme_provider, weights=scheme_pence, minlength=n_p
    )
    provider_int = round_to_total(provider_lp, f.pot.capitated_pence - int(lapse.sum()))

    # (provider, segment) totals within each provider.
    cell_key = c_provider * n_s + c_segment
    scheme_key = scheme_provider * n_s + scheme_segment
    keys = np.unique(np.concatenate([cell_key, scheme_key]))
    ps_lp = np.bincount(
        np.searchsorted(keys, cell_key), weights=cell_lp, minlength=keys.size
    ) + np.bincount(np.searchsorted(keys, scheme_key), weights=scheme_pence, minlength=keys.size)
    ps_provider = keys // n_s
    ps_int = round_grouped(ps_lp, ps_provider, provider_int)
    ps_scheme = np.bincount(
        np.searchsorted(keys, scheme_key), weights=scheme_pence, minlength=keys.size
    ).astype(np.int64)

    # Funder -> (provider, segment) flows: funder rows and key columns both exact.
    labels = cols["funding"].label_columns
    funder = _positions(a.funder_ids, labels["funder_id"])
    provider = _positions(a.provider_ids, labels["provider_id"])
    segment = _positions(a.segment_ids, labels["segment_id"])
    flow_key_all = provider * n_s + segment
    pos = np.searchsorted(keys, flow_key_all)
    valid = (pos < keys.size) & (keys[np.minimum(pos, keys.size - 1)] == flow_key_all)
    flow_lp = np.maximum(x[cols["funding"].positions], 0.0) * PENCE_PER_UNIT
    allocated = (
        np.array(
            [
                f.pot.pooled_by_funder_pence[u] - f.pot.reserve_by_funder_pence[u]
                for u in a.funder_ids
            ],
            dtype=np.int64,
        )
        - lapse_by_funder
    )
    sel = np.flatnonzero(valid)
    try:
        flow_int = controlled_round(flow_lp[sel], funder[sel], pos[sel], allocated, ps_int)
    except ValueError:
        # A less precise solver can leave pence of drift that no table with both totals fits:
        # keep every funder exact and let the provider-segment totals follow the flows.
        flow_int = controlled_round(flow_lp[sel], funder[sel], pos[sel], allocated)
        ps_int = np.bincount(pos[sel], weights=flow_int, minlength=keys.size).astype(np.int64)
        provider_int = np.bincount(ps_provider, weights=ps_int, minlength=n_p).astype(np.int64)

    # Provider-segment money (less schemes) by place: place totals stay within the floor and
    # ceiling of their solver values. Then each cell is shared by its place's neighbourhoods.
    cell_int = _round_cells(f, cell_lp, np.searchsorted(keys, cell_key), ps_int - ps_scheme)
    share_cell, _, share = a.cell_neighbourhoods
    cell_nb = round_grouped(cell_int[share_cell] * share, share_cell, cell_int)

    # Each scheme's cost shared by the neighbourhoods of its place, by weighted population.
    scheme, neighbourhood = items_of_groups(a.neighbourhood_place, len(a.place_ids), f.scheme_place)
    wp = a.neighbourhood_wp[neighbourhood]
    starts = np.searchsorted(scheme, np.arange(len(scheme_pence)))
    stops = np.searchsorted(scheme, np.arange(len(scheme_pence)), side="right")
    # numpy's own sum per scheme (pairwise, as the published shares always used).
    scheme_wp = np.array([wp[i:j].sum() for i, j in zip(starts, stops, strict=True)])
    scheme_nb_lp = scheme_pence[scheme] * wp / np.maximum(scheme_wp, 1e-12)[scheme]
    scheme_nb = round_grouped(scheme_nb_lp, scheme, scheme_pence)
    return PencePlan(
        provider_capitated=provider_int,
        ps_provider=ps_provider,
        ps_segment=keys % n_s,
        ps_total=ps_int,
        flow_funder=np.asarray(funder[sel], dtype=np.int64),
        flow_key=pos[sel],
        flow_pence=flow_int,
        cell_pence=cell_int,
        cell_neighbourhood_pence=cell_nb,
        scheme_units=units,
        scheme_pence=scheme_pence,
        scheme_neighbourhoods=(scheme, neighbourhood),
        scheme_neighbourhood_pence=scheme_nb,
        provider_solver=np.asarray(provider_lp, dtype=np.float64),
        flow_solver=flow_lp[sel],
        cell_solver=cell_lp,
        scheme_neighbourhood_solver=np.asarray(scheme_nb_lp, dtype=np.float64),
        lapse_pence=lapse,
        lapse_by_funder=lapse_by_funder,
    )


def unit_allocations(f: Formulation, plan: PencePlan) -> dict[UnitLevel, IntArray]:
    """Allocation in pence of every neighbourhood, place and system (cells + schemes)."""
    a = f.arrays
    _, c_neighbourhood, _ = a.cell_neighbourhoods
    n_nb = len(a.neighbourhood_ids)
    nb = np.bincount(c_neighbourhood, weights=plan.cell_neighbourhood_pence, minlength=n_nb).astype(
        np.int64
    )
    scheme_neighbourhood = plan.scheme_neighbourhoods[1]
    np.add.at(nb, scheme_neighbourhood, plan.scheme_neighbourhood_pence)
    place = np.bincount(a.neighbourhood_place, weights=nb, minlength=len(a.place_ids)).astype(
        np.int64
    )
    system = np.bincount(a.place_system, weights=place, minlength=len(a.system_ids)).astype(
        np.int64
    )
    return {UnitLevel.NEIGHBOURHOOD: nb, UnitLevel.PLACE: place, UnitLevel.SYSTEM: system}


__all__ = ["PencePlan", "__version__", "plan_pence", "unit_allocations"]
