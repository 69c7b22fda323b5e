"""Small scenarios, each with one rule family that binds, built on the tiny example.

The tiny example (``data/tiny``) pools £12m (NHS £10m, council £2m ring-fenced to social
care), keeps a 2% reserve and so allocates £11.76m; its published allocation gives
Northtown GPs (G1) £4.06m, Southvale GPs (G2) £5.5m (its +10% pace cap) and Care at home
(C) £2.2m (its +10% cap), Northtown (P1) £4.704m and Southvale (P2) £7.056m, their
targets. Each scenario here adds one rule that moves that allocation; the test beside it
checks the published pence against the figure worked out by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from models import Scenario
from tests.conftest import DATA

Document = dict[str, Any]


def tiny_document() -> Document:
    document: Document = json.loads((DATA / "tiny" / "tiny.json").read_text())
    return document


def provider(document: Document, provider_id: str) -> dict[str, Any]:
    return next(p for p in document["providers"] if p["provider_id"] == provider_id)


def _capacity(d: Document) -> None:
    provider(d, "G2")["capacity_pence"] = 520_000_000


def _viability(d: Document) -> None:
    provider(d, "G1")["fixed_costs_pence"] = 420_000_000


def _block(d: Document) -> None:
    provider(d, "G1")["payment"] = {"kind": "block", "amount_pence": 410_000_000}


def _activity(d: Document) -> None:
    provider(d, "G2")["payment"] = {
        "kind": "activity",
        "unit_price_pence": 1_000,
        "planned_volume": 500_000,
        "max_volume": 520_000,
    }


def _blended(d: Document) -> None:
    # The fixed part (£4.3m) is above the £4.06m G1 gets otherwise.
    provider(d, "G1")["payment"] = {
        "kind": "blended",
        "fixed_pence": 430_000_000,
        "unit_price_pence": 1_000,
        "planned_volume": 10_000,
    }


def _small_contract(d: Document) -> None:
    # "£5m or less" is a block: G2, exactly at £5m, is paid its baseline, not the activity ceiling.
    # The others' cap is raised to +20% so that the pot can still be spent.
    d["small_contract_threshold_pence"] = 500_000_000
    d["pace_of_change"][0]["cap_growth_share"] = 0.2
    _activity(d)


def _pace_floor(d: Document) -> None:
    d["pace_of_change"].append(
        {
            "rule_id": "g1-floor",
            "level": "provider",
            "provider_ids": ["G1"],
            "floor_growth_share": 0.05,
        }
    )


def _minimum_spend(d: Document) -> None:
    d["minimum_spends"] = [
        {
            "rule_id": "care-north",
            "provider_kinds": ["social_care"],
            "place_ids": ["P1"],
            "minimum_pence": 80_000_000,
        }
    ]


def _band(d: Document) -> None:
    # A soft minimum asks £0.9m of social care in Northtown; the hard ±1% band holds
    # Northtown at £4.704m × 1.01 = £4,751,040, so with G1 at its £4m floor C gets £751,040.
    d["minimum_spends"] = [
        {
            "rule_id": "care-north",
            "provider_kinds": ["social_care"],
            "place_ids": ["P1"],
            "minimum_pence": 90_000_000,
            "hard": False,
        }
    ]
    d["fair_shares"].append(
        {"rule_id": "band", "level": "place", "form": "band", "band_share": 0.01}
    )


def _ring_fence(d: Document) -> None:
    # The council brings £2.5m (£2.45m after its reserve share), all of it for social care.
    d["funders"][1]["amount_pence"] = 250_000_000
    d["pace_of_change"][0]["provider_ids"] = ["G1", "G2"]


def _scheme_required(d: Document) -> None:
    d["schemes"] = [
        {
            "scheme_id": "X",
            "provider_id": "C",
            "place_id": "P1",
            "segment_id": "frail",
            "cost_per_unit_pence": 5_000_000,
            "value_per_unit": 0.0,
            "max_units": 3,
            "min_units": 2,
        }
    ]


EDITS: dict[str, Callable[[Document], None]] = {
    "capacity": _capacity,
    "viability": _viability,
    "block": _block,
    "activity": _activity,
    "blended": _blended,
    "small_contract": _small_contract,
    "pace_floor": _pace_floor,
    "minimum_spend": _minimum_spend,
    "band": _band,
    "ring_fence": _ring_fence,
    "scheme_required": _scheme_required,
}


def scenario(name: str) -> Scenario:
    document = tiny_document()
    EDITS[name](document)
    return Scenario.model_validate(document)


def convergence_document(level: str, *, hard: bool = True) -> Document:
    """Two units, £240m and £160m last year, targets £200m each, £400m to allocate.

    At κ = 0.25 and 1% floor growth the over-target unit gets £240m × 1.01 − 0.25 ×
    (£240m − £200m) = £242.4m − £10m = £232.4m; the other gets the rest, £167.6m.
    At system level each system holds one place.
    """
    systems = (
        [{"system_id": "S1"}] if level == "place" else [{"system_id": "S1"}, {"system_id": "S2"}]
    )
    return {
        "scenario_id": f"convergence-{level}",
        "systems": systems,
        "places": [
            {"place_id": "P1", "system_id": "S1", "baseline_pence": 24_000_000_000},
            {
                "place_id": "P2",
                "system_id": systems[-1]["system_id"],
                "baseline_pence": 16_000_000_000,
            },
        ],
        "neighbourhoods": [
            {"neighbourhood_id": "N1", "place_id": "P1"},
            {"neighbourhood_id": "N2", "place_id": "P2"},
        ],
        "segments": [{"segment_id": "all", "cost_weight": 1.0}],
        "populations": [
            {"neighbourhood_id": "N1", "segment_id": "all", "headcount": 10_000},
            {"neighbourhood_id": "N2", "segment_id": "all", "headcount": 10_000},
        ],
        "funders": [{"funder_id": "NHS", "kind": "nhs_allocation", "amount_pence": 40_000_000_000}],
        "reserve": {"share": 0.0},
        "providers": [
            {
                "provider_id": "W",
                "kind": "acute",
                "place_ids": ["P1", "P2"],
                "segment_ids": ["all"],
                "baseline_pence": 40_000_000_000,
            }
        ],
        "pace_of_change": [
            {
                "rule_id": "converge",
                "level": level,
                "form": "convergence",
                "convergence_share": 0.25,
                "floor_growth_share": 0.01,
                "hard": hard,
            }
        ],
        "fair_shares": [{"rule_id": "fair", "level": "place", "form": "converge"}],
    }
