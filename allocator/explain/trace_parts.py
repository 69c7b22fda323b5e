"""The finer figures `trace` reads: a neighbourhood, a cell and a funder flow.

For each: the solver expression of the figure (so its stage ranges and unrounded value can
be found as for a provider or place) and its parts as published, which add to it exactly:

* ``neighbourhood N``: its cells by provider, plus its share of the schemes in its place;
* ``cell P N S`` (provider, neighbourhood, segment): the provider's money for the segment
  in N's place, less what the place's other neighbourhoods get of it (the place's cell is
  shared by weighted population, rounded so the shares add to it);
* ``flow F P S`` (funder -> provider, segment): the provider's money for the segment less
  the other funders' flows into it and the pass-through money on it.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

from allocator.errors import AllocatorError
from allocator.formulation.builder import Expr
from allocator.formulation.formulate import Formulation
from models import UnitLevel
from models.results import AllocationResult

FINER = ("neighbourhood", "cell", "flow")


class FinerFigureNotFound(AllocatorError):
    title = "No such figure"


def split_ids(name: str, count: int, form: str) -> list[str]:
    """``name`` split on spaces, commas, '->' or '/' into ``count`` ids, else a located error."""
    ids = [i for i in re.split(r"\s*(?:->|,|/|\s)\s*", name.strip()) if i]
    if len(ids) != count:
        raise FinerFigureNotFound(f"cannot read {name!r}: name the figure as '{form}'")
    return ids


def _one(columns: int, position: int, coefficient: float) -> Expr:
    matrix = sp.csr_array(([coefficient], ([0], [position])), shape=(1, columns))
    return Expr(matrix, np.zeros(1))


def _index(f: Formulation, block: str, wanted: dict[str, str], what: str) -> int:
    """The index within ``block`` of the one column with the ``wanted`` labels."""
    cols = f.program.cols[block]
    labels = cols.label_columns.columns
    hit = np.ones(cols.size, dtype=bool)
    for name, value in wanted.items():
        hit &= labels[name] == value
    found = np.flatnonzero(hit)
    if found.size != 1:
        raise FinerFigureNotFound(f"no {what}")
    return int(found[0])


def _check(known: list[str], kind: str, value: str) -> None:
    if value not in known:
        raise FinerFigureNotFound(f"no {kind} {value!r}; the {kind}s are: {', '.join(known)}")


def finer_expr(f: Formulation, kind: str, name: str) -> tuple[str, Expr]:
    """The figure's id and solver expression (solver units, as `trace` ranges it)."""
    a = f.arrays
    if kind == "neighbourhood":
        (uid,) = split_ids(name, 1, "neighbourhood ID")
        _check(list(a.neighbourhood_ids), "neighbourhood", uid)
        k = list(a.neighbourhood_ids).index(uid)
        return uid, f.unit_total[UnitLevel.NEIGHBOURHOOD][np.array([k])]
    if kind == "cell":
        provider, neighbourhood, segment = split_ids(name, 3, "cell PROVIDER NEIGHBOURHOOD SEGMENT")
        _check(list(a.provider_ids), "provider", provider)
        _check(list(a.neighbourhood_ids), "neighbourhood", neighbourhood)
        _check(list(a.segment_ids), "segment", segment)
        nb = list(a.neighbourhood_ids).index(neighbourhood)
        place = a.place_ids[int(a.neighbourhood_place[nb])]
        what = f"cell: {provider} has no {segment} money in {place}"
        # The alloc columns are the cells of `ScenarioArrays.cells`, in order.
        cell = _index(
            f, "alloc", {"provider_id": provider, "place_id": place, "segment_id": segment}, what
        )
        column = f.program.cols["alloc"].start + cell
        share_cell, share_nb, share = a.cell_neighbourhoods
        at = np.flatnonzero((share_cell == cell) & (share_nb == nb))
        coefficient = float(share[at[0]]) if at.size else 0.0
        uid = f"{provider} {neighbourhood} {segment}"
        return uid, _one(f.program.num_cols, column, coefficient)
    funder, provider, segment = split_ids(name, 3, "flow FUNDER PROVIDER SEGMENT")
    _check(list(a.funder_ids), "funder", funder)
    _check(list(a.provider_ids), "provider", provider)
    _check(list(a.segment_ids), "segment", segment)
    what = f"flow: {funder} may not fund {provider} for {segment} (a ring-fence or no service)"
    index = _index(
        f, "funding", {"funder_id": funder, "provider_id": provider, "segment_id": segment}, what
    )
    column = f.program.cols["funding"].start + index
    return f"{funder} {provider} {segment}", _one(f.program.num_cols, column, 1.0)


def finer_parts(result: AllocationResult, kind: str, uid: str) -> tuple[int, dict[str, int]]:
    """The published figure and published parts that add to it exactly."""
    if kind == "neighbourhood":
        unit = next(u for u in result.neighbourhoods if u.unit_id == uid)
        parts: dict[str, int] = {}
        for c in result.cells:
            if c.neighbourhood_id == uid:
                key = f"provider {c.provider_id}"
                parts[key] = parts.get(key, 0) + c.budget_pence
        published = unit.allocation_pence or 0
        schemes = published - sum(parts.values())
        if schemes or any(s.cost_pence and s.place_id == unit.parent_id for s in result.schemes):
            parts[f"schemes in {unit.parent_id} (its share by weighted population)"] = schemes
        return published, parts
    first, second, segment = uid.split(" ")
    if kind == "cell":
        provider, neighbourhood = first, second
        place = next(u.parent_id for u in result.neighbourhoods if u.unit_id == neighbourhood)
        inside = {u.unit_id for u in result.neighbourhoods if u.parent_id == place}
        mine = [c for c in result.cells if c.provider_id == provider and c.segment_id == segment]
        published = next((c.budget_pence for c in mine if c.neighbourhood_id == neighbourhood), 0)
        whole = sum(c.budget_pence for c in mine if c.neighbourhood_id in inside)
        return published, {
            f"{provider}'s {segment} money in place {place}": whole,
            f"less the other neighbourhoods of {place}": published - whole,
        }
    funder, provider = first, second
    line = next(p for p in result.providers if p.provider_id == provider)
    into = {
        fl.funder_id: fl.amount_pence
        for fl in result.flows
        if fl.provider_id == provider and fl.segment_id == segment
    }
    published = into.get(funder, 0)
    segment_money = line.by_segment_pence.get(segment, 0)
    parts = {f"{provider}'s {segment} money": segment_money}
    parts |= {f"less from {u}": -v for u, v in into.items() if u != funder}
    parts["less pass-through on it"] = -(segment_money - sum(into.values()))
    return published, parts
