"""The scenario: everything one allocation needs, as one immutable document."""

from __future__ import annotations

import hashlib
import json

from pydantic import Field

from models.base import DomainModel
from models.fields import Id, Name, Pence
from models.funding import ContingencyReserve, Entitlement, Funder, MinimumSpend, RingFence
from models.providers import Provider, Scheme
from models.risk import OutturnVolatility, RiskShareAgreement
from models.rules import FairShare, Objective, PaceOfChange, ValueCurve
from models.system import (
    DemandGrowth,
    LocalAdjustment,
    Neighbourhood,
    Place,
    Population,
    Segment,
    System,
)

SCHEMA_VERSION = "1"


# Optional fields added after scenarios were first published: left out of the canonical
# JSON when blank, so an older scenario keeps its content hash.
_LATER_FIELDS: dict[str, tuple[str, ...]] = {
    "funders": ("last_year_recurrent_pence", "recurrent_pence"),
    "minimum_spends": ("growth_from_recurrent",),
}


class Scenario(DomainModel):
    """A budget scenario. Money is integer pence; shares are fractions 0–1."""

    schema_version: str = SCHEMA_VERSION
    scenario_id: Id
    name: Name = ""
    financial_year: Name = ""
    description: str = Field(default="", max_length=5_000)
    systems: tuple[System, ...] = Field(min_length=1)
    places: tuple[Place, ...] = Field(min_length=1)
    neighbourhoods: tuple[Neighbourhood, ...] = Field(min_length=1)
    segments: tuple[Segment, ...] = Field(min_length=1)
    populations: tuple[Population, ...] = Field(min_length=1)
    local_adjustments: tuple[LocalAdjustment, ...] = ()
    demand_growth: tuple[DemandGrowth, ...] = ()
    funders: tuple[Funder, ...] = Field(min_length=1)
    ring_fences: tuple[RingFence, ...] = ()
    minimum_spends: tuple[MinimumSpend, ...] = ()
    entitlements: tuple[Entitlement, ...] = ()
    reserve: ContingencyReserve = Field(default_factory=ContingencyReserve)
    providers: tuple[Provider, ...] = Field(min_length=1)
    schemes: tuple[Scheme, ...] = ()
    pace_of_change: tuple[PaceOfChange, ...] = ()
    fair_shares: tuple[FairShare, ...] = ()
    value_curves: tuple[ValueCurve, ...] = ()
    objective: Objective = Field(default_factory=Objective)
    small_contract_threshold_pence: Pence = Field(
        default=50_000_000,
        description="Activity and blended contracts with a baseline of this or less are paid as block.",
    )
    risk_share_agreements: tuple[RiskShareAgreement, ...] = ()
    outturn: OutturnVolatility = Field(default_factory=OutturnVolatility)

    def canonical_json(self) -> str:
        """Key-sorted, whitespace-free JSON of the full document (defaults included).

        A scenario without entitlements or recurrent growth hashes as it did before they
        existed: their blank fields are left out.
        """
        document = self.model_dump(mode="json")
        if not document["entitlements"]:
            del document["entitlements"]
        for table, fields in _LATER_FIELDS.items():
            for row in document[table]:
                for name in fields:
                    if row.get(name, 0) is None:
                        del row[name]
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON: equal scenarios hash equal, whatever the file format."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def total_funding_pence(self) -> int:
        return sum(funder.amount_pence for funder in self.funders)
