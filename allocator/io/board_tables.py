"""The board pack's tables as data: the reconciliation certificate and the detail tables.

Every detail table reconciles to the same provider budgets: each has a provider column and
a *Total* column whose sum per provider is that provider's budget. Money the engine does not
split the table's way is shown on its own line and column (pass-through, which goes from a
funder straight to a provider; schemes, which are costed by place, not by neighbourhood or
segment), so nothing looks missing when a table is pivoted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from allocator.io.board_cells import Col
from models.results import AllocationResult

PASS_THROUGH = "(pass-through)"
SCHEME = "(scheme)"


@dataclass(frozen=True)
class Table:
    sheet: str
    title: str
    basis: str
    columns: tuple[Col, ...]
    rows: Sequence[Sequence[object]]


def pass_through_by(result: AllocationResult) -> dict[tuple[str, str], int]:
    """(funder, provider) -> pass-through pence: what a funder pays a provider beyond flows."""
    flows: dict[tuple[str, str], int] = defaultdict(int)
    for flow in result.flows:
        flows[(flow.funder_id, flow.provider_id)] += flow.amount_pence
    out = {}
    for line in result.pool:
        for provider_id, pence in line.to_providers_pence.items():
            extra = pence - flows[(line.funder_id, provider_id)]
            if extra:
                out[(line.funder_id, provider_id)] = extra
    return out


def funded_schemes(result: AllocationResult) -> list[tuple[str, str, str, int]]:
    """(provider, place, scheme name, cost pence) of every funded scheme."""
    return [
        (s.provider_id, s.place_id, s.name or s.scheme_id, s.cost_pence)
        for s in result.schemes
        if s.units_funded and s.cost_pence
    ]


PROVIDER = Col("Provider id", "provider_id", width=12)
PROVIDER_NAME = Col("Provider", "provider_name", width=40)
TOTAL = Col("Total (£)", "total_pence", "gbp")


def detail_tables(result: AllocationResult) -> list[Table]:
    names = {p.provider_id: p.name or p.provider_id for p in result.providers}
    place_names = {u.unit_id: u.name or u.unit_id for u in result.places}
    home = {u.unit_id: u.parent_id for u in result.neighbourhoods}
    passes = pass_through_by(result)
    schemes = funded_schemes(result)
    tables = [
        Table(
            "Providers",
            "Budgets by provider",
            "every provider's whole budget: pooled money allocated (including schemes) plus pass-through",
            (
                PROVIDER,
                PROVIDER_NAME,
                Col("Kind", "kind"),
                Col("Payment", "payment"),
                Col("Baseline (£)", "baseline_pence", "gbp"),
                Col("Change (£)", "change_pence", "change"),
                Col("Change (%)", "change_share", "share"),
                Col("Of which schemes (£)", "schemes_pence", "gbp"),
                Col("Of which pass-through (£)", "pass_through_pence", "gbp"),
                Col("Total (£)", "budget_pence", "gbp"),
            ),
            [
                (
                    p.provider_id,
                    p.name,
                    p.kind,
                    p.payment,
                    p.baseline_pence,
                    p.change_pence,
                    p.change_share,
                    p.schemes_pence,
                    p.pass_through_pence,
                    p.budget_pence,
                )
                for p in result.providers
            ],
        )
    ]
    by_place = [
        (p.provider_id, names[p.provider_id], place, place_names.get(place, place), v, 0, v)
        for p in result.providers
        for place, v in p.by_place_pence.items()
    ]
    by_place += [
        (p, names[p], PASS_THROUGH, f"from {f}", 0, v, v) for (f, p), v in sorted(passes.items())
    ]
    tables.append(
        Table(
            "By place",
            "Provider budgets by place",
            "each provider's budget split by the place it serves (schemes included); pass-through "
            "is not split by place and has its own lines and column",
            (
                PROVIDER,
                PROVIDER_NAME,
                Col("Place id", "place_id", width=12),
                Col("Place", "place_name", width=22),
                Col("By place (£)", "by_place_pence", "gbp"),
                Col("Pass-through (£)", "pass_through_pence", "gbp"),
                TOTAL,
            ),
            by_place,
        )
    )
    by_funder = [
        (
            f.funder_id,
            f.name,
            p,
            names[p],
            v - passes.get((f.funder_id, p), 0),
            passes.get((f.funder_id, p), 0),
            v,
        )
        for f in result.pool
        for p, v in f.to_providers_pence.items()
    ]
    tables.append(
        Table(
            "By funder",
            "Provider budgets by funder",
            "what each funder pays each provider: pooled money allocated plus pass-through; "
            "per funder it sums to the contribution less the reserve",
            (
                Col("Funder id", "funder_id", width=10),
                Col("Funder", "funder_name", width=40),
                PROVIDER,
                PROVIDER_NAME,
                Col("Pooled (£)", "pooled_pence", "gbp"),
                Col("Pass-through (£)", "pass_through_pence", "gbp"),
                TOTAL,
            ),
            by_funder,
        )
    )
    flows = [
        (x.funder_id, x.provider_id, x.segment_id, x.amount_pence, 0, x.amount_pence)
        for x in result.flows
    ]
    flows += [(f, p, PASS_THROUGH, 0, v, v) for (f, p), v in sorted(passes.items())]
    tables.append(
        Table(
            "Flows",
            "Flows: funder to provider by segment",
            "pooled money from each funder to each provider for each segment (schemes included), "
            "plus pass-through on its own lines; sums to the provider budgets",
            (
                Col("Funder id", "funder_id", width=10),
                PROVIDER,
                Col("Segment", "segment_id", width=20),
                Col("Flow (£)", "amount_pence", "gbp"),
                Col("Pass-through (£)", "pass_through_pence", "gbp"),
                TOTAL,
            ),
            flows,
        )
    )
    cells: list[tuple[object, ...]] = [
        (
            c.provider_id,
            home.get(c.neighbourhood_id),
            c.neighbourhood_id,
            c.segment_id,
            c.budget_pence,
            0,
            0,
            c.budget_pence,
        )
        for c in result.cells
    ]
    cells += [(p, place, "", f"{SCHEME} {name}", 0, v, 0, v) for p, place, name, v in schemes]
    cells += [
        (p, "", "", f"{PASS_THROUGH} from {f}", 0, 0, v, v) for (f, p), v in sorted(passes.items())
    ]
    tables.append(
        Table(
            "Cells",
            "Cells: provider by neighbourhood and segment",
            "the finest split: formula money by provider, neighbourhood and segment; schemes (costed "
            "by place) and pass-through have their own lines and columns; sums to the provider budgets",
            (
                PROVIDER,
                Col("Place id", "place_id", width=10),
                Col("Neighbourhood id", "neighbourhood_id", width=16),
                Col("Segment", "segment_id", width=30),
                Col("Cell (£)", "budget_pence", "gbp"),
                Col("Schemes (£)", "schemes_pence", "gbp"),
                Col("Pass-through (£)", "pass_through_pence", "gbp"),
                TOTAL,
            ),
            cells,
        )
    )
    tables.append(
        Table(
            "Segments",
            "Provider budgets by segment",
            "each provider's whole budget (pass-through and schemes included) split by population segment",
            (PROVIDER, PROVIDER_NAME, Col("Segment", "segment_id", width=20), TOTAL),
            [
                (p.provider_id, names[p.provider_id], s, v)
                for p in result.providers
                for s, v in p.by_segment_pence.items()
            ],
        )
    )
    return tables


def unit_table(result: AllocationResult) -> Table:
    """Systems, places and neighbourhoods against their fair-share targets."""
    rows = []
    for u in (*result.systems, *result.places, *result.neighbourhoods):
        change = (
            None
            if u.allocation_pence is None or u.baseline_pence is None
            else u.allocation_pence - u.baseline_pence
        )
        rows.append(
            (
                u.level,
                u.unit_id,
                u.name,
                u.parent_id,
                u.headcount,
                u.need_index,
                u.target_pence,
                u.allocation_pence,
                u.distance_from_target,
                u.baseline_pence,
                change,
            )
        )
    return Table(
        "Places",
        "Systems, places and neighbourhoods against fair-share target",
        "pooled money after the reserve (schemes included, pass-through excluded); each level "
        "sums to the one above and the systems to the pot after the reserve",
        (
            Col("Level", "level"),
            Col("Unit id", "unit_id", width=14),
            Col("Name", "name", width=24),
            Col("Within", "parent_id", width=10),
            Col("Headcount", "headcount", "int"),
            Col("Need index", "need_index", "number"),
            Col("Fair-share target (£)", "target_pence", "gbp"),
            Col("Allocation (£)", "allocation_pence", "gbp"),
            Col("Distance from target (%)", "distance_from_target", "share"),
            Col("Baseline (£)", "baseline_pence", "gbp"),
            Col("Change (£)", "change_pence", "change"),
        ),
        rows,
    )
