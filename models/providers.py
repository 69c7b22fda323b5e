"""Providers, how they are paid, and discrete schemes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from models.base import DomainModel
from models.enums import PaymentKind, ProviderKind
from models.fields import Id, Name, NonNegativeFloat, Pence, Share


class CapitatedPayment(DomainModel):
    """A budget per weighted head; the budget is what the optimiser decides."""

    kind: Literal[PaymentKind.CAPITATED] = PaymentKind.CAPITATED


class BlockPayment(DomainModel):
    """A fixed sum. The optimiser cannot move it; blank means the baseline."""

    kind: Literal[PaymentKind.BLOCK] = PaymentKind.BLOCK
    amount_pence: Pence | None = None


class ActivityPayment(DomainModel):
    """Unit price × volume; the budget cannot exceed price × maximum volume."""

    kind: Literal[PaymentKind.ACTIVITY] = PaymentKind.ACTIVITY
    unit_price_pence: Pence
    planned_volume: NonNegativeFloat
    max_volume: NonNegativeFloat | None = None


class BlendedPayment(DomainModel):
    """A fixed part plus a variable part paid at a share of unit price away from plan.

    Urgent and emergency care: 20% both ways (``two_sided``); elective activity in
    2022/23: 75% above plan only; from 2023/24: 100%.
    """

    kind: Literal[PaymentKind.BLENDED] = PaymentKind.BLENDED
    fixed_pence: Pence
    unit_price_pence: Pence
    planned_volume: NonNegativeFloat
    variable_rate_share: Share = 0.2
    two_sided: bool = True


Payment = Annotated[
    CapitatedPayment | BlockPayment | ActivityPayment | BlendedPayment,
    Field(discriminator="kind"),
]


class Provider(DomainModel):
    provider_id: Id
    name: Name = ""
    kind: ProviderKind
    place_ids: tuple[Id, ...] = Field(min_length=1, description="Places the provider serves.")
    segment_ids: tuple[Id, ...] = Field(min_length=1, description="Segments the provider serves.")
    baseline_pence: Pence = Field(description="Last year's budget.")
    capacity_pence: Pence | None = Field(default=None, description="Largest budget it can use.")
    fixed_costs_pence: Pence = Field(
        default=0, description="If funded at all, it needs at least this (viability)."
    )
    risk_appetite_pence: Pence | None = Field(
        default=None, description="Largest expected loss in the worst 5% (CVaR) it accepts."
    )
    payment: Payment = Field(default_factory=CapitatedPayment)
    risk_share_agreement_id: Id | None = None


class Scheme(DomainModel):
    """A scheme bought whole (``max_units`` = 1) or in whole staffed units."""

    scheme_id: Id
    name: Name = ""
    provider_id: Id
    place_id: Id
    segment_id: Id
    cost_per_unit_pence: Pence
    value_per_unit: NonNegativeFloat = Field(description="Value units (e.g. QALYs) per unit.")
    max_units: int = Field(default=1, ge=1, le=100_000)
    min_units: int = Field(default=0, ge=0, le=100_000, description="1 or more makes it required.")


def is_small_contract(baseline_pence: int, threshold_pence: int) -> bool:
    """Whether an activity or blended contract is paid as a block for being small.

    The payment scheme words the low-volume rule as "£X or less", so a contract exactly
    at the threshold is a block.
    """
    return baseline_pence <= threshold_pence
