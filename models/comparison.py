"""A comparison of two allocations (spec section 6): what changed, where, and why."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from models.base import DomainModel


class ChangeLine(DomainModel):
    level: str = Field(description="provider, system, place, neighbourhood, segment or funder")
    unit_id: str
    name: str = ""
    a_pence: int
    b_pence: int
    change_pence: int
    change_share: float | None
    distance_a: float | None = None
    distance_b: float | None = None
    distance_change: float | None = None


class RuleChange(DomainModel):
    rule: str
    block: str
    unit_id: str | None
    change: str = Field(description="'started binding' or 'stopped binding'")
    shadow_price_a: float | None = None
    shadow_price_b: float | None = None


class InputChange(DomainModel):
    path: str
    a: Any = None
    b: Any = None


class Comparison(DomainModel):
    a_label: str
    b_label: str
    a_scenario_hash: str
    b_scenario_hash: str
    status_a: str
    status_b: str
    pot_a_pence: int
    pot_b_pence: int
    pot_change_pence: int
    value_a: float
    value_b: float
    value_change: float
    lines: list[ChangeLine]
    rules: list[RuleChange]
    inputs: list[InputChange]
    inputs_known: bool = Field(
        default=True,
        description="Whether the scenario inputs were compared. False when two result files "
        "were compared without their scenarios: `inputs` is then empty because the inputs "
        "are unknown, not because they are the same.",
    )
    reconciles: bool = Field(
        description="Each level's changes add up exactly to the change in the pot."
    )
