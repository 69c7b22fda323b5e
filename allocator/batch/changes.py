"""Typed scenario changes: each one is a pure function ``Scenario -> Scenario``.

A batch run is its base scenario plus an ordered tuple of changes, so the pair
(base content hash, changes) describes the run completely and gives it a stable id.
Every change rebuilds only the parts of the scenario it touches (``model_copy`` with an
update) and re-validates the sub-models it changes, so the result is a valid, frozen
`Scenario`. Money stays exact: a growth applied to pence is computed in decimal
arithmetic on the growth as written and rounded half up, per figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, model_validator

from models import Scenario
from models.base import DomainModel
from models.fields import GrowthShare, Id, Pence, Share
from models.providers import ActivityPayment, BlendedPayment
from models.risk import RiskShareAgreement, VarianceBand
from models.rules import PaceOfChange

ParamValue = float | int | str | bool | None


def scale_pence(amount_pence: int, growth: float) -> int:
    """``amount × (1 + growth)`` in whole pence, rounded half up.

    The growth is taken as the decimal it prints as, so 3% of £1.50 is exactly 4.5p → 5p.

    >>> scale_pence(150, 0.03)
    155
    >>> scale_pence(231_000_000_000, 0.03)
    237930000000
    """
    factor = Decimal(1) + Decimal(repr(float(growth)))
    return int((Decimal(int(amount_pence)) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class PotGrowth(DomainModel):
    """Scale every funder's contribution (or the listed funders') by ``1 + growth``.

    Pass-through amounts are contracts and stay as they are.
    """

    kind: Literal["pot_growth"] = "pot_growth"
    growth: GrowthShare
    funder_ids: tuple[Id, ...] = Field(default=(), description="Blank: every funder.")

    def apply(self, scenario: Scenario) -> Scenario:
        _require(scenario, "funder", self.funder_ids, {f.funder_id for f in scenario.funders})
        funders = tuple(
            f.model_copy(update={"amount_pence": scale_pence(f.amount_pence, self.growth)})
            if not self.funder_ids or f.funder_id in self.funder_ids
            else f
            for f in scenario.funders
        )
        return scenario.model_copy(update={"funders": funders})

    def parameters(self) -> dict[str, ParamValue]:
        suffix = f"[{','.join(self.funder_ids)}]" if self.funder_ids else ""
        return {f"pot_growth{suffix}": self.growth}


class DemandGrowth(DomainModel):
    """Scale the headcounts of one segment (in the listed places, or everywhere) by ``1 + growth``."""

    kind: Literal["demand_growth"] = "demand_growth"
    segment_id: Id
    growth: GrowthShare
    place_ids: tuple[Id, ...] = Field(default=(), description="Blank: every place.")

    def apply(self, scenario: Scenario) -> Scenario:
        _require(scenario, "segment", (self.segment_id,), {s.segment_id for s in scenario.segments})
        _require(scenario, "place", self.place_ids, {p.place_id for p in scenario.places})
        in_place = {
            n.neighbourhood_id
            for n in scenario.neighbourhoods
            if not self.place_ids or n.place_id in self.place_ids
        }
        factor = 1.0 + self.growth
        populations = tuple(
            p.model_copy(update={"headcount": p.headcount * factor})
            if p.segment_id == self.segment_id and p.neighbourhood_id in in_place
            else p
            for p in scenario.populations
        )
        return scenario.model_copy(update={"populations": populations})

    def parameters(self) -> dict[str, ParamValue]:
        where = f"@{','.join(self.place_ids)}" if self.place_ids else ""
        return {f"demand_growth[{self.segment_id}{where}]": self.growth}


class UnitPriceGrowth(DomainModel):
    """Scale the unit price of activity and blended contracts by ``1 + growth`` (half up).

    The formulation uses activity prices in the activity ceiling (price × maximum
    volume); blended prices only matter for outturn away from plan.
    """

    kind: Literal["unit_price"] = "unit_price"
    growth: GrowthShare
    provider_ids: tuple[Id, ...] = Field(default=(), description="Blank: every provider.")

    def apply(self, scenario: Scenario) -> Scenario:
        _require(
            scenario, "provider", self.provider_ids, {p.provider_id for p in scenario.providers}
        )
        providers = []
        for p in scenario.providers:
            pay = p.payment
            if isinstance(pay, ActivityPayment | BlendedPayment) and (
                not self.provider_ids or p.provider_id in self.provider_ids
            ):
                price = scale_pence(pay.unit_price_pence, self.growth)
                p = p.model_copy(
                    update={"payment": pay.model_copy(update={"unit_price_pence": price})}
                )
            providers.append(p)
        return scenario.model_copy(update={"providers": tuple(providers)})

    def parameters(self) -> dict[str, ParamValue]:
        suffix = f"[{','.join(self.provider_ids)}]" if self.provider_ids else ""
        return {f"unit_price_growth{suffix}": self.growth}


_PACE_FIELDS = (
    "floor_growth_share",
    "cap_growth_share",
    "cap_over_target_share",
    "convergence_share",
    "below_target_band_share",
)


class PaceBounds(DomainModel):
    """Set the bounds of one pace-of-change rule; fields left blank keep their value."""

    kind: Literal["pace_of_change"] = "pace_of_change"
    rule_id: Id
    floor_growth_share: GrowthShare | None = None
    cap_growth_share: GrowthShare | None = None
    cap_over_target_share: Share | None = None
    convergence_share: Share | None = None
    below_target_band_share: Share | None = None

    def apply(self, scenario: Scenario) -> Scenario:
        rules = {r.rule_id for r in scenario.pace_of_change}
        _require(scenario, "pace-of-change rule", (self.rule_id,), rules)
        update = {k: getattr(self, k) for k in _PACE_FIELDS if getattr(self, k) is not None}
        changed = tuple(
            PaceOfChange.model_validate({**r.model_dump(), **update})
            if r.rule_id == self.rule_id
            else r
            for r in scenario.pace_of_change
        )
        return scenario.model_copy(update={"pace_of_change": changed})

    def parameters(self) -> dict[str, ParamValue]:
        return {
            f"pace[{self.rule_id}].{k}": getattr(self, k)
            for k in _PACE_FIELDS
            if getattr(self, k) is not None
        }


class RiskShareTerms(DomainModel):
    """Set the provider's share in each variance band, and the caps, of one agreement.

    ``*_shares`` give one share per existing band, in order. The allocation itself does
    not depend on risk-share terms; the record keeps them for the risk report.
    """

    kind: Literal["risk_share"] = "risk_share"
    agreement_id: Id
    overspend_shares: tuple[Share, ...] | None = None
    underspend_shares: tuple[Share, ...] | None = None
    loss_cap_pence: Pence | None = None
    gain_cap_pence: Pence | None = None

    def apply(self, scenario: Scenario) -> Scenario:
        ids = {a.agreement_id for a in scenario.risk_share_agreements}
        _require(scenario, "risk-share agreement", (self.agreement_id,), ids)
        out = []
        for agreement in scenario.risk_share_agreements:
            if agreement.agreement_id == self.agreement_id:
                agreement = self._changed(agreement)
            out.append(agreement)
        return scenario.model_copy(update={"risk_share_agreements": tuple(out)})

    def _changed(self, agreement: RiskShareAgreement) -> RiskShareAgreement:
        data = agreement.model_dump()
        for side, shares in (
            ("overspend_bands", self.overspend_shares),
            ("underspend_bands", self.underspend_shares),
        ):
            if shares is None:
                continue
            bands: tuple[VarianceBand, ...] = getattr(agreement, side)
            if len(shares) != len(bands):
                raise ValueError(
                    f"agreement {agreement.agreement_id} has {len(bands)} {side}, "
                    f"{len(shares)} shares given"
                )
            data[side] = [
                {**b.model_dump(), "provider_share": s} for b, s in zip(bands, shares, strict=True)
            ]
        if self.loss_cap_pence is not None:
            data["loss_cap_pence"] = self.loss_cap_pence
        if self.gain_cap_pence is not None:
            data["gain_cap_pence"] = self.gain_cap_pence
        return RiskShareAgreement.model_validate(data)

    def parameters(self) -> dict[str, ParamValue]:
        out: dict[str, ParamValue] = {}
        key = f"risk_share[{self.agreement_id}]"
        for name in ("overspend_shares", "underspend_shares"):
            value = getattr(self, name)
            if value is not None:
                out[f"{key}.{name}"] = "/".join(f"{v:g}" for v in value)
        for name in ("loss_cap_pence", "gain_cap_pence"):
            if getattr(self, name) is not None:
                out[f"{key}.{name}"] = getattr(self, name)
        return out

    @model_validator(mode="after")
    def _something(self) -> RiskShareTerms:
        if all(
            getattr(self, k) is None
            for k in ("overspend_shares", "underspend_shares", "loss_cap_pence", "gain_cap_pence")
        ):
            raise ValueError("a risk_share change needs shares or caps to set")
        return self


Change = Annotated[
    PotGrowth | DemandGrowth | UnitPriceGrowth | PaceBounds | RiskShareTerms,
    Field(discriminator="kind"),
]
CHANGE_ADAPTER: TypeAdapter[Change] = TypeAdapter(Change)


def apply_changes(scenario: Scenario, changes: Sequence[Change]) -> Scenario:
    """The scenario with every change applied, in order (the input is not modified)."""
    for change in changes:
        scenario = change.apply(scenario)
    return scenario


def change_parameters(changes: Sequence[Change]) -> dict[str, ParamValue]:
    """The changes as ``{label: value}`` columns (later changes win on equal labels)."""
    out: dict[str, ParamValue] = {}
    for change in changes:
        out.update(change.parameters())
    return out


def _require(scenario: Scenario, what: str, given: tuple[str, ...], known: set[str]) -> None:
    missing = [g for g in given if g not in known]
    if missing:
        raise ValueError(
            f"scenario {scenario.scenario_id} has no {what} {', '.join(map(repr, missing))}"
        )


__all__ = [
    "CHANGE_ADAPTER",
    "Change",
    "DemandGrowth",
    "PaceBounds",
    "ParamValue",
    "PotGrowth",
    "RiskShareTerms",
    "UnitPriceGrowth",
    "apply_changes",
    "change_parameters",
    "scale_pence",
]
