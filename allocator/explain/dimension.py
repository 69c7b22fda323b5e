"""A dimension a planner names ("acute vs community", "place Eastmoor", "provider NTH").

It is a linear figure of the allocation: money to some providers (or a place) minus money
to others. `Dimension.expression` gives it over the program's columns (solver units, £m);
`Dimension.pence` reads it from a published result, to the penny.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.errors import AllocatorError
from allocator.formulation.formulate import Formulation
from allocator.types import FloatArray
from models import ProviderKind, Scenario, UnitLevel
from models.results import AllocationResult


class UnknownDimension(AllocatorError):
    """The named dimension matches no provider kind, place or provider of the scenario."""

    code = "unknown-dimension"
    title = "Unknown dimension"


@dataclass(frozen=True)
class Dimension:
    """Σ weight × budget over providers, or one place's allocation."""

    text: str
    description: str
    provider_weights: dict[str, float]  # provider id -> +1 / -1
    place_id: str | None = None

    def expression(self, f: Formulation) -> tuple[FloatArray, float]:
        """(coefficients over the columns, constant), in solver units."""
        n = f.program.num_cols
        if self.place_id is not None:
            k = [p.place_id for p in f.scenario.places].index(self.place_id)
            total = f.unit_total[UnitLevel.PLACE].padded(n)
            row = total.matrix[[k]].toarray()[0]
            return np.asarray(row, dtype=np.float64), float(total.constant[k])
        ids = [p.provider_id for p in f.scenario.providers]
        weights = np.array([self.provider_weights.get(pid, 0.0) for pid in ids])
        total = f.provider_total.padded(n)
        coefficients = np.asarray(total.matrix.T @ weights, dtype=np.float64)
        return coefficients, float(weights @ total.constant)

    def pence(self, result: AllocationResult) -> int:
        """The dimension in a published result, exactly."""
        if self.place_id is not None:
            place = next(p for p in result.places if p.unit_id == self.place_id)
            return int(place.allocation_pence or 0)
        return int(
            sum(
                round(self.provider_weights.get(p.provider_id, 0.0)) * p.budget_pence
                for p in result.providers
            )
        )


def _kind(text: str) -> ProviderKind | None:
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    key = key.removesuffix("_providers").removesuffix("_provider")
    try:
        return ProviderKind(key)
    except ValueError:
        return None


def _kind_weights(scenario: Scenario, kind: ProviderKind, sign: float) -> dict[str, float]:
    return {p.provider_id: sign for p in scenario.providers if p.kind is kind}


def parse_dimension(scenario: Scenario, text: str) -> Dimension:
    """Read "KIND vs KIND", "KIND", "place ID-or-name" or "provider ID-or-name"."""
    words = text.strip()
    lowered = words.lower()
    if " vs " in lowered or " versus " in lowered:
        sep = " vs " if " vs " in lowered else " versus "
        at = lowered.index(sep)
        left, right = _kind(words[:at]), _kind(words[at + len(sep) :])
        if left is None or right is None or left is right:
            raise UnknownDimension(
                f"{text!r}: give two different provider kinds, e.g. 'acute vs community' "
                f"(kinds: {', '.join(k.value for k in ProviderKind)})"
            )
        weights = {**_kind_weights(scenario, left, 1.0), **_kind_weights(scenario, right, -1.0)}
        if not weights:
            raise UnknownDimension(f"{text!r}: the scenario has no {left} or {right} providers")
        return Dimension(text, f"money to {left} providers minus money to {right}", weights)
    head, _, rest = words.partition(" ")
    if head.lower() == "place":
        for place in scenario.places:
            if rest.strip() in (place.place_id, place.name):
                return Dimension(text, f"money to place {place.place_id}", {}, place.place_id)
        raise UnknownDimension(f"{text!r}: no place with that id or name")
    if head.lower() == "provider":
        for provider in scenario.providers:
            if rest.strip() in (provider.provider_id, provider.name):
                return Dimension(
                    text, f"money to provider {provider.provider_id}", {provider.provider_id: 1.0}
                )
        raise UnknownDimension(f"{text!r}: no provider with that id or name")
    kind = _kind(words)
    if kind is not None and _kind_weights(scenario, kind, 1.0):
        return Dimension(text, f"money to {kind} providers", _kind_weights(scenario, kind, 1.0))
    raise UnknownDimension(
        f"{text!r}: name 'KIND vs KIND' (e.g. 'acute vs community'), a provider kind, "
        "'place ID' or 'provider ID'"
    )
