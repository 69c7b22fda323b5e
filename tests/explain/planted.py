"""Five planted infeasible scenarios built from the tiny example, each with the rule family to blame."""

from __future__ import annotations

from typing import Any

from models import Scenario


def _edit(tiny: Scenario, **changes: Any) -> Scenario:
    return Scenario.model_validate({**tiny.model_dump(mode="json"), **changes})


def over_committed_ring_fence(tiny: Scenario) -> Scenario:
    # The council's £3m may fund only social care, whose pace cap allows £2.2m.
    doc = tiny.model_dump(mode="json")
    doc["funders"][1]["amount_pence"] = 300_000_000
    return Scenario.model_validate(doc)


def floors_above_pot(tiny: Scenario) -> Scenario:
    # Baselines total £11m with no cuts allowed, but the NHS brings only £8m: pot £9.8m.
    doc = tiny.model_dump(mode="json")
    doc["funders"][0]["amount_pence"] = 800_000_000
    return Scenario.model_validate(doc)


def band_against_pace(tiny: Scenario) -> Scenario:
    # Northtown must sit within 1% of its £4.704m target, but its GPs cannot fall below £4.9m.
    doc = tiny.model_dump(mode="json")
    doc["providers"][0]["baseline_pence"] = 490_000_000
    doc["providers"][1]["baseline_pence"] = 480_000_000
    doc["fair_shares"].append(
        {"rule_id": "band", "level": "place", "form": "band", "band_share": 0.01}
    )
    return Scenario.model_validate(doc)


def capacity_below_fixed_costs(tiny: Scenario) -> Scenario:
    # Care at home must be funded (its floor) but cannot run below £2.15m and can use only £2.1m.
    doc = tiny.model_dump(mode="json")
    doc["providers"][2]["fixed_costs_pence"] = 215_000_000
    doc["providers"][2]["capacity_pence"] = 210_000_000
    return Scenario.model_validate(doc)


def unaffordable_required_scheme(tiny: Scenario) -> Scenario:
    # A required £3m frailty hub at Care at home: with the GPs' £9m of floors, £12m > £11.76m.
    doc = tiny.model_dump(mode="json")
    doc["schemes"] = [
        {
            "scheme_id": "hub",
            "name": "Frailty hub",
            "provider_id": "C",
            "place_id": "P1",
            "segment_id": "frail",
            "cost_per_unit_pence": 300_000_000,
            "value_per_unit": 10.0,
            "min_units": 1,
        }
    ]
    doc["pace_of_change"][0]["cap_growth_share"] = 2.0
    return Scenario.model_validate(doc)


PLANTED = {
    "over-committed ring-fence": (
        over_committed_ring_fence,
        ("pace-of-change cap", "Care at home"),
    ),
    "floors above the pot": (
        floors_above_pot,
        ("pace-of-change floor", "conservation of funder NHS"),
    ),
    "fair-share band against pace": (
        band_against_pace,
        ("fair-share band", "pace-of-change floor"),
    ),
    "capacity below fixed costs": (capacity_below_fixed_costs, ("capacity", "viability")),
    "required scheme unaffordable": (
        unaffordable_required_scheme,
        ("required scheme hub", "pace-of-change floor"),
    ),
}
