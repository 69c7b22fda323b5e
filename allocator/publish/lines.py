"""The result's tables, a line per unit, provider, cell, flow, scheme and value group, from the pence plan. Each table is validated at once (a `TypeAdapter` over plain dicts)."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from pydantic import TypeAdapter

from allocator.domain.rounding import round_to_total
from allocator.domain.targets import LevelTargets
from allocator.domain.value_curves import value_of_spend
from allocator.formulation.formulate import Formulation
from allocator.publish.pence_plan import PencePlan
from allocator.types import FloatArray, IntArray
from models import UnitLevel
from models.results import (
    CellLine,
    FlowLine,
    LapseLine,
    PoolLine,
    ProviderLine,
    SchemeLine,
    UnitLine,
    ValueLine,
)

CELL_LINES = TypeAdapter(list[CellLine])


FLOW_LINES = TypeAdapter(list[FlowLine])


VALUE_LINES = TypeAdapter(list[ValueLine])


UNIT_LINES = TypeAdapter(list[UnitLine])


PROVIDER_LINES = TypeAdapter(list[ProviderLine])


def _unit_lines(
    f: Formulation,
    level: UnitLevel,
    targets: LevelTargets,
    names: list[str],
    parents: list[str | None],
    allocation: IntArray | None,
    by_mechanism: list[dict[str, int]] | None,
    baseline: FloatArray | None = None,
) -> list[UnitLine]:
    n = len(targets.ids)
    distance = None if allocation is None else targets.distance_from_target(allocation).tolist()
    columns = zip(
        targets.ids,
        names,
        parents,
        targets.headcount.tolist(),
        targets.weighted_population.tolist(),
        targets.need_index.tolist(),
        targets.target_pence.tolist(),
        [None] * n if allocation is None else allocation.tolist(),
        [None] * n if distance is None else distance,
        [None] * n if baseline is None else [round(v) for v in baseline.tolist()],
        [{} for _ in range(n)] if by_mechanism is None else by_mechanism,
        strict=True,
    )
    return UNIT_LINES.validate_python(
        [
            {
                "level": level.value,
                "unit_id": unit_id,
                "name": name,
                "parent_id": parent,
                "headcount": heads,
                "weighted_population": wp,
                "need_index": None if math.isnan(need) else need,
                "target_pence": target,
                "allocation_pence": allocated,
                "distance_from_target": None
                if distance_k is None or math.isnan(distance_k)
                else distance_k,
                "baseline_pence": base,
                "by_mechanism_pence": mechanisms,
            }
            for (
                unit_id,
                name,
                parent,
                heads,
                wp,
                need,
                target,
                allocated,
                distance_k,
                base,
                mechanisms,
            ) in columns
        ]
    )


def _by_mechanism(f: Formulation, plan: PencePlan) -> dict[UnitLevel, list[dict[str, int]]]:
    a = f.arrays
    share_cell, c_neighbourhood, _ = a.cell_neighbourhoods
    c_provider = a.cells[0][share_cell]
    scheme, s_neighbourhood = plan.scheme_neighbourhoods
    s_provider = f.scheme_provider[scheme]
    kinds = sorted({k.value for k in a.provider_payment_kind})
    kind_of = np.array([k.value for k in a.provider_payment_kind], dtype=object)
    n_nb = len(a.neighbourhood_ids)
    per_kind = {}
    for kind in kinds:
        mask = kind_of[c_provider] == kind
        nb = np.bincount(
            c_neighbourhood[mask], weights=plan.cell_neighbourhood_pence[mask], minlength=n_nb
        ).astype(np.int64)
        mine = kind_of[s_provider] == kind
        np.add.at(nb, s_neighbourhood[mine], plan.scheme_neighbourhood_pence[mine])
        per_kind[kind] = nb
    out: dict[UnitLevel, list[dict[str, int]]] = {}
    for level, group, size in (
        (UnitLevel.NEIGHBOURHOOD, np.arange(n_nb), n_nb),
        (UnitLevel.PLACE, a.neighbourhood_place, len(a.place_ids)),
        (UnitLevel.SYSTEM, a.neighbourhood_system, len(a.system_ids)),
    ):
        sums = [
            np.bincount(group, weights=per_kind[k], minlength=size).astype(np.int64).tolist()
            for k in kinds
        ]
        out[level] = [
            {k: v for k, v in zip(kinds, unit, strict=True) if v}
            for unit in zip(*sums, strict=True)
        ]
    return out


def _pool_lines(f: Formulation, plan: PencePlan | None) -> list[PoolLine]:
    a, pot = f.arrays, f.pot
    lines = []
    for u, funder in enumerate(f.scenario.funders):
        to_providers: dict[str, int] = {}
        for item in funder.pass_through:
            to_providers[item.provider_id] = (
                to_providers.get(item.provider_id, 0) + item.amount_pence
            )
        if plan is not None:
            mine = plan.flow_funder == u
            by_provider = np.bincount(
                plan.ps_provider[plan.flow_key[mine]],
                weights=plan.flow_pence[mine],
                minlength=len(a.provider_ids),
            )
            for k in np.flatnonzero(by_provider):
                pid = a.provider_ids[k]
                to_providers[pid] = to_providers.get(pid, 0) + int(by_provider[k])
        pass_through = sum(item.amount_pence for item in funder.pass_through)
        lapsed = (
            0 if plan is None or not plan.lapse_by_funder.size else int(plan.lapse_by_funder[u])
        )
        lines.append(
            PoolLine(
                funder_id=funder.funder_id,
                name=funder.name,
                kind=funder.kind.value,
                contribution_pence=funder.amount_pence,
                pass_through_pence=pass_through,
                pooled_pence=pot.pooled_by_funder_pence[funder.funder_id],
                reserve_pence=pot.reserve_by_funder_pence[funder.funder_id],
                allocated_pence=pot.pooled_by_funder_pence[funder.funder_id]
                - pot.reserve_by_funder_pence[funder.funder_id]
                - lapsed,
                to_providers_pence=dict(sorted(to_providers.items())),
                lapsed_pence=lapsed,
            )
        )
    return lines


def lapse_lines(f: Formulation, plan: PencePlan | None) -> list[LapseLine]:
    """Each entitlement's claim and lapse in pence (claimed + lapsed = the entitlement)."""
    if plan is None:
        return []
    return [
        LapseLine(
            entitlement_id=e.entitlement_id,
            funder_id=e.funder_id,
            neighbourhood_id=e.neighbourhood_id,
            entitlement_pence=e.amount_pence,
            claimed_pence=e.amount_pence - int(lapsed),
            lapsed_pence=int(lapsed),
        )
        for e, lapsed in zip(f.scenario.entitlements, plan.lapse_pence.tolist(), strict=True)
    ]


def _provider_lines(f: Formulation, plan: PencePlan) -> list[ProviderLine]:
    s, a = f.scenario, f.arrays
    c_provider, _, _ = a.cells
    n_p = len(a.provider_ids)
    # Providers serve a few places each: by place is sparse (providers × places).
    by_place = sp.csr_array(
        (
            np.concatenate([plan.cell_pence, plan.scheme_pence]),
            (
                np.concatenate([c_provider, f.scheme_provider]),
                np.concatenate([a.cell_place, f.scheme_place]),
            ),
        ),
        shape=(n_p, len(a.place_ids)),
    )
    by_place.sum_duplicates()
    by_place.eliminate_zeros()
    by_segment = np.zeros((n_p, len(a.segment_ids)), dtype=np.int64)
    np.add.at(by_segment, (plan.ps_provider, plan.ps_segment), plan.ps_total)
    by_funder = np.zeros((n_p, len(a.funder_ids)), dtype=np.int64)
    np.add.at(by_funder, (plan.ps_provider[plan.flow_key], plan.flow_funder), plan.flow_pence)
    provider_at = {pid: k for k, pid in enumerate(a.provider_ids)}
    segment_at = {sid: k for k, sid in enumerate(a.segment_ids)}
    for u, funder in enumerate(s.funders):
        for item in funder.pass_through:  # in order: an item without segment follows the rest
            k = provider_at[item.provider_id]
            by_funder[k, u] += item.amount_pence
            if item.segment_id is not None:
                by_segment[k, segment_at[item.segment_id]] += item.amount_pence
            else:
                served = np.flatnonzero(a.provider_serves_segment[k])
                weights = by_segment[k, served].astype(np.float64) + 1e-9
                by_segment[k, served] += round_to_total(
                    item.amount_pence * weights / weights.sum(), item.amount_pence
                )
    scheme_by_provider = np.bincount(
        f.scheme_provider, weights=plan.scheme_pence, minlength=n_p
    ).astype(np.int64)
    place_ids = np.array(a.place_ids, dtype=object)[by_place.indices].tolist()
    place_pence = by_place.data.tolist()
    starts = by_place.indptr.tolist()
    budgets = (plan.provider_capitated + f.pass_through_pence).tolist()
    lines = []
    for k, p in enumerate(s.providers):
        budget = budgets[k]
        places = range(starts[k], starts[k + 1])
        lines.append(
            {
                "provider_id": p.provider_id,
                "name": p.name,
                "kind": p.kind.value,
                "payment": p.payment.kind.value,
                "funded": budget > 0,
                "baseline_pence": p.baseline_pence,
                "budget_pence": budget,
                "change_pence": budget - p.baseline_pence,
                "change_share": _ratio(budget - p.baseline_pence, p.baseline_pence),
                "pass_through_pence": int(f.pass_through_pence[k]),
                "schemes_pence": int(scheme_by_provider[k]),
                "by_segment_pence": _nonzero(a.segment_ids, by_segment[k]),
                "by_place_pence": {place_ids[i]: place_pence[i] for i in places},
                "by_funder_pence": _nonzero(a.funder_ids, by_funder[k]),
            }
        )
    return PROVIDER_LINES.validate_python(lines)


def _nonzero(ids: list[str], pence: IntArray) -> dict[str, int]:
    return {i: v for i, v in zip(ids, pence.tolist(), strict=True) if v}


def _cell_lines(f: Formulation, plan: PencePlan) -> list[CellLine]:
    a = f.arrays
    cell, neighbourhood, _ = a.cell_neighbourhoods
    provider, _, segment = a.cells
    columns = zip(
        np.array(a.provider_ids, dtype=object)[provider[cell]].tolist(),
        np.array(a.neighbourhood_ids, dtype=object)[neighbourhood].tolist(),
        np.array(a.segment_ids, dtype=object)[segment[cell]].tolist(),
        plan.cell_neighbourhood_pence.tolist(),
        strict=True,
    )
    return CELL_LINES.validate_python(
        [
            {"provider_id": p, "neighbourhood_id": n, "segment_id": s, "budget_pence": v}
            for p, n, s, v in columns
        ]
    )


def _flow_lines(f: Formulation, plan: PencePlan) -> list[FlowLine]:
    a = f.arrays
    paid = np.flatnonzero(plan.flow_pence)
    key = plan.flow_key[paid]
    columns = zip(
        np.array(a.funder_ids, dtype=object)[plan.flow_funder[paid]].tolist(),
        np.array(a.provider_ids, dtype=object)[plan.ps_provider[key]].tolist(),
        np.array(a.segment_ids, dtype=object)[plan.ps_segment[key]].tolist(),
        plan.flow_pence[paid].tolist(),
        strict=True,
    )
    return FLOW_LINES.validate_python(
        [
            {"funder_id": u, "provider_id": p, "segment_id": s, "amount_pence": v}
            for u, p, s, v in columns
        ]
    )


def _scheme_lines(f: Formulation, plan: PencePlan) -> list[SchemeLine]:
    return [
        SchemeLine(
            scheme_id=j.scheme_id,
            name=j.name,
            provider_id=j.provider_id,
            place_id=j.place_id,
            units_funded=int(plan.scheme_units[k]),
            max_units=j.max_units,
            cost_pence=int(plan.scheme_pence[k]),
            value=float(plan.scheme_units[k] * j.value_per_unit),
        )
        for k, j in enumerate(f.scenario.schemes)
    ]


def _value_lines(f: Formulation, plan: PencePlan) -> list[ValueLine]:
    spend = value_of_spend(f.scenario, f.arrays, plan.cell_pence)
    return VALUE_LINES.validate_python(
        [
            {
                "place_id": pl,
                "segment_id": sg,
                "provider_kind": kd,
                "spend_pence": int(sp),
                "value": float(v),
            }
            for pl, sg, kd, sp, v in spend
        ]
    )


def _ratio(a: float, b: float) -> float | None:
    return None if b == 0 else a / b
