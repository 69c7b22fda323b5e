"""Level 1, the pool: funders, pass-through money, ring-fences, minimum spends, the reserve."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field, model_validator

from models.base import DomainModel
from models.enums import FunderKind, ProviderKind
from models.fields import GrowthShare, Id, Name, NonNegativeFloat, Pence, Share


class PassThrough(DomainModel):
    """Money a funder passes straight to one provider, outside the capitated pot."""

    provider_id: Id
    segment_id: Id | None = Field(
        default=None,
        description="Segment the money is for; blank spreads it over the provider's segments.",
    )
    amount_pence: Pence


class Funder(DomainModel):
    """A source of money. What is not passed through is pooled."""

    funder_id: Id
    name: Name = ""
    kind: FunderKind = FunderKind.OTHER
    amount_pence: Pence
    pass_through: tuple[PassThrough, ...] = ()
    last_year_recurrent_pence: Pence | None = Field(
        default=None,
        description="Last year's recurrent allocation (with recurrent_pence: the growth a "
        "minimum spend's growth_from_recurrent applies to its baseline).",
    )
    recurrent_pence: Pence | None = Field(
        default=None, description="This year's recurrent allocation (give both or neither)."
    )

    def recurrent_problem(self) -> tuple[str, str] | None:
        """(field, why) when the recurrent figures cannot grow a baseline, else None."""
        if self.last_year_recurrent_pence is None and self.recurrent_pence is None:
            return "recurrent_pence", (
                f"funder {self.funder_id!r} has no recurrent figures: give "
                "last_year_recurrent_pence and recurrent_pence"
            )
        if self.recurrent_pence is None:
            return "recurrent_pence", (
                f"funder {self.funder_id!r} gives last year's recurrent allocation but not "
                "this year's: give both or neither"
            )
        if self.last_year_recurrent_pence is None:
            return "last_year_recurrent_pence", (
                f"funder {self.funder_id!r} gives this year's recurrent allocation but not "
                "last year's: give both or neither"
            )
        if self.last_year_recurrent_pence == 0:
            return "last_year_recurrent_pence", (
                f"funder {self.funder_id!r}: last year's recurrent allocation is 0, so it "
                "has no growth to apply"
            )
        return None


class SoftRule(DomainModel):
    """A rule that is hard by default; soft rules may be broken at a penalty per £."""

    hard: bool = True
    penalty_per_gbp: NonNegativeFloat = Field(
        default=1.0,
        description="For soft rules: penalty per £ of breach, in the objective's value units.",
    )


class RingFence(DomainModel):
    """The funder's pooled money may fund only these uses (blank list: no restriction)."""

    ringfence_id: Id
    funder_id: Id
    name: Name = ""
    segment_ids: tuple[Id, ...] = ()
    provider_kinds: tuple[ProviderKind, ...] = ()
    provider_ids: tuple[Id, ...] = ()


class Entitlement(DomainModel):
    """A neighbourhood's use-it-or-lose-it entitlement from a ring-fenced funder.

    E.g. the additional roles reimbursement scheme: up to ``amount_pence`` of the funder's
    money may be claimed for the neighbourhood's eligible spend (the uses the funder's
    ring-fences allow); what is not claimed lapses back to the funder and is not carried to
    the next year. The funder's contribution = funded + reserve + lapsed.
    """

    entitlement_id: Id
    funder_id: Id
    neighbourhood_id: Id
    name: Name = ""
    amount_pence: Pence


class MinimumSpend(SoftRule):
    """At least a minimum must be spent on matching uses.

    The minimum is ``minimum_pence`` or, when a baseline is given instead, the baseline
    grown one of two ways, rounded up to the penny: ``baseline_pence × (1 +
    min_growth_share)``, or (the mental health investment standard) ``baseline_pence ×
    recurrent_pence ÷ last_year_recurrent_pence`` of the funder ``growth_from_recurrent``
    names, in exact integer arithmetic. Give one way of stating growth.
    Blank filters match everything; ``funder_ids`` counts only those funders' money (with
    ``place_ids`` too: their money to providers working only in those places).
    """

    rule_id: Id
    name: Name = ""
    provider_kinds: tuple[ProviderKind, ...] = ()
    provider_ids: tuple[Id, ...] = ()
    segment_ids: tuple[Id, ...] = ()
    place_ids: tuple[Id, ...] = ()
    funder_ids: tuple[Id, ...] = ()
    minimum_pence: Pence | None = None
    baseline_pence: Pence | None = None
    min_growth_share: GrowthShare = 0.0
    growth_from_recurrent: Id | None = Field(
        default=None,
        description="A funder id: the baseline grows at that funder's recurrent allocation's "
        "growth (recurrent_pence ÷ last_year_recurrent_pence) instead of min_growth_share.",
    )

    @model_validator(mode="after")
    def _one_minimum(self) -> MinimumSpend:
        if (self.minimum_pence is None) == (self.baseline_pence is None):
            raise ValueError("give exactly one of minimum_pence or baseline_pence")
        return self

    def covers_places(self, place_ids: tuple[str, ...]) -> bool:
        """Whether all of a provider's places are among the rule's (always, with no place filter).

        A rule naming funders and places counts those funders' money to providers that work
        only in its places (a per-system standard: the system's providers).
        """
        return not self.place_ids or set(place_ids) <= set(self.place_ids)

    def growth_funder(self, funders: Iterable[Funder]) -> Funder:
        """The funder whose recurrent growth grows the baseline (ValueError if it cannot)."""
        funder = next((f for f in funders if f.funder_id == self.growth_from_recurrent), None)
        if funder is None:
            raise ValueError(
                f"minimum spend {self.rule_id!r}: unknown funder {self.growth_from_recurrent!r}"
            )
        problem = funder.recurrent_problem()
        if problem is not None:
            raise ValueError(f"minimum spend {self.rule_id!r}: {problem[1]}")
        return funder

    def required_pence(self, funders: Iterable[Funder]) -> int:
        """The minimum in pence. ``funders`` are the scenario's: a rule growing its baseline
        at a funder's recurrent growth reads that funder's figures (ValueError if it has none).
        """
        if self.minimum_pence is not None:
            return self.minimum_pence
        assert self.baseline_pence is not None
        if self.growth_from_recurrent is not None:
            funder = self.growth_funder(funders)
            assert funder.recurrent_pence is not None
            assert funder.last_year_recurrent_pence
            scaled = self.baseline_pence * funder.recurrent_pence
            return -(-scaled // funder.last_year_recurrent_pence)
        # Ceiling in integer arithmetic on a growth stated to 1e-9.
        scaled = self.baseline_pence * round((1.0 + self.min_growth_share) * 10**9)
        return -(-scaled // 10**9)

    def derivation(self, funders: Iterable[Funder]) -> str:
        """How the minimum is derived, in words: ``baseline £X × recurrent £Y ÷ last year £Z,
        rounded up``."""
        if self.minimum_pence is not None:
            return "stated minimum"
        assert self.baseline_pence is not None
        if self.growth_from_recurrent is not None:
            funder = self.growth_funder(funders)
            return (
                f"baseline {_gbp(self.baseline_pence)} × {funder.funder_id} recurrent "
                f"{_gbp(funder.recurrent_pence or 0)} ÷ last year "
                f"{_gbp(funder.last_year_recurrent_pence or 0)}, rounded up"
            )
        return f"baseline {_gbp(self.baseline_pence)} × (1 + {self.min_growth_share!r}), rounded up"


def _gbp(pence: int) -> str:
    """``£63,600,000.00`` (exact: pence as pounds and pence)."""
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}.{rest:02d}"


class ContingencyReserve(DomainModel):
    """Money held back at system level: a share of the pooled money or a fixed amount."""

    share: Share | None = None
    amount_pence: Pence | None = None

    @model_validator(mode="after")
    def _one_form(self) -> ContingencyReserve:
        if self.share is not None and self.amount_pence is not None:
            raise ValueError("give either share or amount_pence, not both")
        return self
