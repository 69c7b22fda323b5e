"""How far rounding to whole pence moved each line of the reconciliation certificate.

The solver's optimum is in fractional pence; `pence_plan` rounds it to whole pence so that
every level adds up exactly. Each published figure is then within a penny or so of the
solver's. For one certificate line (a funder's payments to providers, a place split into
its neighbourhoods, ...) the money rounding moved is the sum over the line's parts of
|published − solver|: a few pence at most per part, and the line still reconciles exactly.
"""

from __future__ import annotations

import numpy as np

from allocator.formulation.formulate import Formulation
from allocator.publish.pence_plan import PencePlan, unit_allocations
from allocator.types import FloatArray, IntArray
from models import UnitLevel
from models.results import RoundingLine


def _moved(published: IntArray, solver: FloatArray) -> FloatArray:
    return np.abs(np.asarray(published, dtype=np.float64) - solver)


def _by(groups: IntArray, moved: FloatArray, size: int) -> FloatArray:
    return np.asarray(np.bincount(groups, weights=moved, minlength=size), dtype=np.float64)


def _pence(value: float) -> float:
    return round(float(value), 2)


def rounding_moved(f: Formulation, plan: PencePlan) -> list[RoundingLine]:
    """One line per certificate line the engine rounds: pot, funders, systems, each system's
    places, each place's neighbourhoods, each provider's funders, and all providers."""
    a = f.arrays
    n_p = len(a.provider_ids)
    provider = _moved(plan.provider_capitated, plan.provider_solver)
    flow = _moved(plan.flow_pence, plan.flow_solver)
    by_funder = _by(plan.flow_funder, flow, len(a.funder_ids))
    by_provider = _by(plan.ps_provider[plan.flow_key], flow, n_p)

    # The solver's neighbourhood, place and system figures, as the published ones are built.
    share_cell, neighbourhood, share = a.cell_neighbourhoods
    n_nb = len(a.neighbourhood_ids)
    nb_solver = _by(neighbourhood, plan.cell_solver[share_cell] * share, n_nb) + _by(
        plan.scheme_neighbourhoods[1], plan.scheme_neighbourhood_solver, n_nb
    )
    place_solver = _by(a.cell_place, plan.cell_solver, len(a.place_ids)) + _by(
        f.scheme_place, plan.scheme_pence.astype(np.float64), len(a.place_ids)
    )
    system_solver = _by(a.place_system, place_solver, len(a.system_ids))
    published = unit_allocations(f, plan)
    nb = _moved(published[UnitLevel.NEIGHBOURHOOD], nb_solver)
    place = _moved(published[UnitLevel.PLACE], place_solver)
    system = _moved(published[UnitLevel.SYSTEM], system_solver)
    places_of_system = _by(a.place_system, place, len(a.system_ids))
    nbs_of_place = _by(a.neighbourhood_place, nb, len(a.place_ids))

    lines = [RoundingLine(level="pot", moved_pence=_pence(flow.sum()))]
    lines += [
        RoundingLine(level="funder", unit_id=u, moved_pence=_pence(by_funder[i]))
        for i, u in enumerate(a.funder_ids)
    ]
    lines.append(RoundingLine(level="system", moved_pence=_pence(system.sum())))
    lines += [
        RoundingLine(level="system_places", unit_id=u, moved_pence=_pence(places_of_system[i]))
        for i, u in enumerate(a.system_ids)
    ]
    lines += [
        RoundingLine(level="place_neighbourhoods", unit_id=u, moved_pence=_pence(nbs_of_place[i]))
        for i, u in enumerate(a.place_ids)
    ]
    lines += [
        RoundingLine(level="provider", unit_id=u, moved_pence=_pence(by_provider[i]))
        for i, u in enumerate(a.provider_ids)
    ]
    lines.append(RoundingLine(level="providers", moved_pence=_pence(provider.sum())))
    return lines
