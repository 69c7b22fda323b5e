"""The reconciliation certificate as data: for the pot, each funder, each level and each
provider, in = out + reserve to the penny, with how far rounding to whole pence moved the
line (from the result's rounding report, `models.results.RoundingLine`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from models.results import AllocationResult

# Certificate levels that split a unit into the units within it.
SYSTEM_TO_PLACES = "System to places"
PLACE_TO_NEIGHBOURHOODS = "Place to neighbourhoods"


@dataclass(frozen=True)
class CertLine:
    """One line of the reconciliation certificate: in = out + reserve, to the penny."""

    level: str
    line: str
    in_pence: int
    out_pence: int
    reserve_pence: int
    in_means: str
    out_means: str
    rounding_moved_pence: float | None = None
    """How far rounding to whole pence moved the line's parts from the solver's figures
    (`models.results.RoundingLine`); None for a result that did not record it."""

    @property
    def difference_pence(self) -> int:
        return self.in_pence - self.out_pence - self.reserve_pence

    @property
    def display_rounding_m(self) -> float:
        """How far the £m figures (1 dp) miss adding up: rounding of the display only."""

        def m(pence: int) -> float:
            return round(pence / 100 / 1_000_000, 1)

        return round(m(self.in_pence) - m(self.out_pence) - m(self.reserve_pence), 1)


def no_allocation(result: AllocationResult) -> str:
    """Why an infeasible (or unsolved) result has nothing to reconcile."""
    reason = result.infeasibility.summary if result.infeasibility else result.status
    return f"No allocation ({result.status}): nothing to reconcile. {reason}".strip()


def certificate(result: AllocationResult) -> list[CertLine]:
    """The certificate's lines; none when the result has no allocation."""
    if not result.feasible:
        return []
    lines = _certificate_lines(result)
    moved = {(r.level, r.unit_id): r.moved_pence for r in result.rounding}
    return [
        replace(line, rounding_moved_pence=moved.get(key)) if key is not None else line
        for line, key in lines
    ]


def _certificate_lines(result: AllocationResult) -> list[tuple[CertLine, tuple[str, str] | None]]:
    """Each certificate line with its key in the result's rounding report."""
    pot = result.pot
    lines: list[tuple[CertLine, tuple[str, str] | None]] = [
        (
            CertLine(
                "Pot",
                "All funders",
                sum(f.contribution_pence for f in result.pool),
                sum(f.allocated_pence + f.pass_through_pence for f in result.pool),
                pot.reserve_pence,
                "funders' contributions",
                "paid to providers (allocated + pass-through)",
            ),
            ("pot", ""),
        )
    ]
    for f in result.pool:
        lines.append(
            (
                CertLine(
                    "Funder",
                    f.name or f.funder_id,
                    f.contribution_pence,
                    sum(f.to_providers_pence.values()),
                    f.reserve_pence,
                    "contribution",
                    "paid to providers, by provider",
                ),
                ("funder", f.funder_id),
            )
        )
    lines.append(
        (
            CertLine(
                "System",
                "All systems",
                pot.capitated_pence,
                sum(u.allocation_pence or 0 for u in result.systems),
                0,
                "pooled money after the reserve",
                "systems' allocations",
            ),
            ("system", ""),
        )
    )
    for level, key, parents, children in (
        (SYSTEM_TO_PLACES, "system_places", result.systems, result.places),
        (PLACE_TO_NEIGHBOURHOODS, "place_neighbourhoods", result.places, result.neighbourhoods),
    ):
        for parent in parents:
            kids = [c for c in children if c.parent_id == parent.unit_id]
            if kids:
                line = CertLine(
                    level,
                    parent.name or parent.unit_id,
                    parent.allocation_pence or 0,
                    sum(c.allocation_pence or 0 for c in kids),
                    0,
                    f"{parent.level}'s allocation",
                    f"its {children[0].level}s' allocations",
                )
                lines.append((line, (key, parent.unit_id)))
    paid: dict[str, int] = defaultdict(int)
    for f in result.pool:
        for provider_id, pence in f.to_providers_pence.items():
            paid[provider_id] += pence
    for p in result.providers:
        line = CertLine(
            "Provider",
            p.name or p.provider_id,
            paid[p.provider_id],
            p.budget_pence,
            0,
            "paid by funders",
            "the provider's budget",
        )
        lines.append((line, ("provider", p.provider_id)))
    line = CertLine(
        "Providers",
        "All providers",
        sum(u.allocation_pence or 0 for u in result.places) + pot.pass_through_pence,
        sum(p.budget_pence for p in result.providers),
        0,
        "places' allocations + pass-through",
        "providers' budgets",
    )
    lines.append((line, ("providers", "")))
    return lines
