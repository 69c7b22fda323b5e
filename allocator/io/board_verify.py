"""Re-check a board pack read back from its file, by summing it independently.

Nothing here trusts the certificate: every line's arithmetic is redone from its cells, and
every figure is compared with a sum of the detail sheets (funders' payments, place and
neighbourhood allocations, provider budgets). Every detail sheet must sum, per provider, to
the *Providers* sheet's budgets. A changed cell anywhere in those sheets shows as a problem.
"""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from allocator.io.board_cells import cell_pence, header_row
from allocator.io.board_certificate import PLACE_TO_NEIGHBOURHOODS, SYSTEM_TO_PLACES

DETAIL_SHEETS = ("By place", "By funder", "Flows", "Cells", "Segments")
# Per sheet, the columns whose sum is each row's Total (£).
ROW_PARTS = {
    "Providers": ("Baseline (£)", "Change (£)"),
    "By place": ("By place (£)", "Pass-through (£)"),
    "By funder": ("Pooled (£)", "Pass-through (£)"),
    "Flows": ("Flow (£)", "Pass-through (£)"),
    "Cells": ("Cell (£)", "Schemes (£)", "Pass-through (£)"),
}
Rows = list[dict[str, object]]
PARENT_LEVEL = {SYSTEM_TO_PLACES: "system", PLACE_TO_NEIGHBOURHOODS: "place"}


def read_table(ws: Worksheet) -> Rows:
    """A table written by `write_table` at the top of a sheet, as dicts keyed by header."""
    head = header_row(ws)
    headers = [c.value for c in ws[head]]
    rows = []
    for values in ws.iter_rows(min_row=head + 1, values_only=True):
        if all(v is None for v in values):
            break
        rows.append({str(h): v for h, v in zip(headers, values, strict=False) if h is not None})
    return rows


def _sum_by(rows: Rows, key: str, column: str = "Total (£)") -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for row in rows:
        out[str(row.get(key))] += cell_pence(row.get(column))
    return dict(out)


def _money_differs(problems: list[str], what: str, expected: int, found: int) -> None:
    if expected != found:
        problems.append(f"{what}: {found / 100:,.2f} where the sheets sum to {expected / 100:,.2f}")


def verify_board_pack(source: bytes | Path) -> list[str]:
    """Problems found re-checking the pack (an empty list: it reconciles to the penny)."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    wb = load_workbook(io.BytesIO(data))
    problems: list[str] = []
    if wb.sheetnames[:1] != ["Summary"]:
        problems.append(f"the first sheet is {wb.sheetnames[:1]}, not Summary")
    missing = [
        s
        for s in ("Reconciliation", "Providers", "Places", *DETAIL_SHEETS)
        if s not in wb.sheetnames
    ]
    if missing:
        return [*problems, f"sheets missing: {', '.join(missing)}"]
    providers = read_table(wb["Providers"])
    budgets = _sum_by(providers, "Provider id")
    names = {str(r["Provider id"]): str(r.get("Provider") or r["Provider id"]) for r in providers}
    for sheet, parts in ROW_PARTS.items():
        for number, row in enumerate(read_table(wb[sheet]), start=header_row(wb[sheet]) + 1):
            found = sum(cell_pence(row.get(part)) for part in parts)
            _money_differs(
                problems, f"{sheet}!row {number}, total", found, cell_pence(row.get("Total (£)"))
            )
    for sheet in DETAIL_SHEETS:
        sums = _sum_by(read_table(wb[sheet]), "Provider id")
        for provider_id in sorted(set(budgets) | set(sums)):
            _money_differs(
                problems,
                f"{sheet} sheet, provider {provider_id}",
                budgets.get(provider_id, 0),
                sums.get(provider_id, 0),
            )
    by_funder = read_table(wb["By funder"])
    funder_paid = _sum_by(by_funder, "Funder")
    pass_through = sum(cell_pence(r.get("Pass-through (£)")) for r in by_funder)
    paid_to = {names.get(k, k): v for k, v in _sum_by(by_funder, "Provider id").items()}
    units = read_table(wb["Places"])
    allocation = {
        (str(u["Level"]), str(u["Name"] or u["Unit id"])): cell_pence(u.get("Allocation (£)"))
        for u in units
    }
    ids = {str(u["Unit id"]): (str(u["Level"]), str(u["Name"] or u["Unit id"])) for u in units}
    children: dict[tuple[str, str], int] = defaultdict(int)
    for u in units:
        if u["Within"] is not None and str(u["Within"]) in ids:
            children[ids[str(u["Within"])]] += cell_pence(u.get("Allocation (£)"))
    level_total: dict[str, int] = defaultdict(int)
    for (level, _), pence in allocation.items():
        level_total[level] += pence
    funder_in = funder_reserve = 0
    pot: tuple[int, int, int] | None = None
    for row in read_table(wb["Reconciliation"]):
        level, line = str(row["Level"]), str(row["Line"])
        where = f"Reconciliation, {level} {line}"
        pin, pout, reserve = (cell_pence(row.get(k)) for k in ("In (£)", "Out (£)", "Reserve (£)"))
        if pin != pout + reserve:
            problems.append(
                f"{where}: in {pin / 100:,.2f} is not out + reserve {(pout + reserve) / 100:,.2f}"
            )
        if cell_pence(row.get("In - out - reserve (£)")) != pin - pout - reserve:
            problems.append(f"{where}: the difference shown is not in - out - reserve")
        if level == "Funder":
            funder_in, funder_reserve = funder_in + pin, funder_reserve + reserve
            _money_differs(problems, f"{where}, out", funder_paid.get(line, 0), pout)
        elif level == "Pot":
            pot = (pin, pout, reserve)
            _money_differs(problems, f"{where}, out", sum(funder_paid.values()), pout)
        elif level == "System":
            _money_differs(problems, f"{where}, out", level_total["system"], pout)
        elif level in PARENT_LEVEL:
            parent = allocation.get((PARENT_LEVEL[level], line), 0)
            _money_differs(problems, f"{where}, in", parent, pin)
            _money_differs(
                problems, f"{where}, out", children.get((PARENT_LEVEL[level], line), 0), pout
            )
        elif level == "Provider":
            _money_differs(problems, f"{where}, in", paid_to.get(line, 0), pin)
            budget = next((budgets[k] for k, v in names.items() if v == line), 0)
            _money_differs(problems, f"{where}, out", budget, pout)
        elif level == "Providers":
            _money_differs(problems, f"{where}, in", level_total["place"] + pass_through, pin)
            _money_differs(problems, f"{where}, out", sum(budgets.values()), pout)
    if pot is not None:
        _money_differs(problems, "Reconciliation, pot in (sum of funders)", funder_in, pot[0])
        _money_differs(
            problems, "Reconciliation, pot reserve (sum of funders)", funder_reserve, pot[2]
        )
    elif not str(
        wb["Reconciliation"].cell(header_row(wb["Reconciliation"]) + 2, 1).value or ""
    ).startswith("No allocation"):
        problems.append("Reconciliation: no Pot line, and no statement that there is no allocation")
    elif any(budgets.values()):
        problems.append("Reconciliation: says there is no allocation, but providers have budgets")
    return problems
