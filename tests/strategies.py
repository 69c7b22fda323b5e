"""Hypothesis strategies: small scenarios that are valid and feasible by construction."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from models import Scenario

KINDS = ["acute", "community", "mental_health", "general_practice", "social_care", "voluntary"]


@st.composite
def feasible_scenarios(
    draw: st.DrawFn, *, with_mip: bool = True, with_rules: bool = False
) -> Scenario:
    n_systems = draw(st.integers(1, 2))
    n_segments = draw(st.integers(1, 4))
    systems, places, neighbourhoods, populations, adjustments = [], [], [], [], []
    segments = [
        {"segment_id": f"s{j}", "cost_weight": draw(st.floats(0.3, 8.0))} for j in range(n_segments)
    ]
    for i in range(n_systems):
        systems.append({"system_id": f"S{i}"})
        for p in range(draw(st.integers(1, 3))):
            place_id = f"S{i}P{p}"
            places.append({"place_id": place_id, "system_id": f"S{i}"})
            for n in range(draw(st.integers(1, 3))):
                nid = f"{place_id}N{n}"
                neighbourhoods.append({"neighbourhood_id": nid, "place_id": place_id})
                for seg in segments:
                    heads = draw(st.floats(1.0, 60_000.0))
                    populations.append(
                        {
                            "neighbourhood_id": nid,
                            "segment_id": seg["segment_id"],
                            "headcount": heads,
                        }
                    )
                if draw(st.booleans()):
                    adjustments.append(
                        {"neighbourhood_id": nid, "factor": draw(st.floats(0.9, 1.2))}
                    )
    place_ids = [p["place_id"] for p in places]
    segment_ids = [s["segment_id"] for s in segments]

    # Providers: system-wide ones serve every place and segment (so places can always reach
    # target); local ones serve one place and some segments with modest baselines.
    growth = draw(st.floats(0.0, 0.08))
    floor = draw(st.floats(-0.02, 0.0)) if draw(st.booleans()) else 0.0
    cap = growth + draw(st.floats(0.02, 0.2))
    pot_before = draw(st.integers(50_000_000, 5_000_000_000))  # last year's money, pence
    n_wide = draw(st.integers(1, 3))
    local_places = draw(st.lists(st.sampled_from(place_ids), max_size=3))
    providers: list[dict[str, Any]] = []
    shares = [draw(st.floats(0.2, 1.0)) for _ in range(n_wide)]
    local_share = 0.04 * len(local_places)
    for k in range(n_wide):
        providers.append(
            {
                "provider_id": f"W{k}",
                "kind": KINDS[k % len(KINDS)],
                "place_ids": place_ids,
                "segment_ids": segment_ids,
                "baseline_pence": int(pot_before * (1 - local_share) * shares[k] / sum(shares)),
            }
        )
    weights = {seg["segment_id"]: seg["cost_weight"] for seg in segments}
    factor = {a["neighbourhood_id"]: a["factor"] for a in adjustments}
    place_of = {n["neighbourhood_id"]: n["place_id"] for n in neighbourhoods}
    place_wp = dict.fromkeys(place_ids, 0.0)
    for row in populations:
        nid = row["neighbourhood_id"]
        place_wp[place_of[nid]] += (
            row["headcount"] * weights[row["segment_id"]] * factor.get(nid, 1.0)
        )
    total_wp = sum(place_wp.values())
    for k, place_id in enumerate(local_places):
        # Local floors stay well inside the place's fair share, so targets stay reachable.
        room = 0.3 * place_wp[place_id] / total_wp / local_places.count(place_id)
        segs = draw(
            st.lists(st.sampled_from(segment_ids), min_size=1, max_size=n_segments, unique=True)
        )
        providers.append(
            {
                "provider_id": f"L{k}",
                "kind": draw(st.sampled_from(KINDS)),
                "place_ids": [place_id],
                "segment_ids": segs,
                "baseline_pence": int(pot_before * min(0.04, room)),
            }
        )
    fenced_amount = int(providers[0]["baseline_pence"] * draw(st.floats(0.0, 1.0)))
    baseline_total = sum(p["baseline_pence"] for p in providers)
    pot = int(baseline_total * (1 + growth))
    for p in providers:
        if draw(st.booleans()):
            p["capacity_pence"] = int(p["baseline_pence"] * (1 + cap) + draw(st.integers(0, 10**6)))
        if with_mip and draw(st.booleans()):
            p["fixed_costs_pence"] = int(
                p["baseline_pence"] * (1 + floor) * draw(st.floats(0.0, 0.9))
            )

    # Funders: a first unrestricted one, maybe a ring-fenced one for the wide providers.
    reserve_share = draw(st.floats(0.0, 0.02))
    gross = int(pot / (1 - reserve_share)) + 1
    funders = [{"funder_id": "F0", "kind": "nhs_allocation", "amount_pence": gross - fenced_amount}]
    ring_fences = []
    if fenced_amount:
        funders.append({"funder_id": "F1", "kind": "social_care", "amount_pence": fenced_amount})
        ring_fences.append({"ringfence_id": "RF1", "funder_id": "F1", "provider_ids": ["W0"]})

    schemes = []
    if with_mip:
        for j in range(draw(st.integers(0, 2))):
            schemes.append(
                {
                    "scheme_id": f"X{j}",
                    "provider_id": "W0",
                    "place_id": draw(st.sampled_from(place_ids)),
                    "segment_id": draw(st.sampled_from(segment_ids)),
                    "cost_per_unit_pence": draw(st.integers(10_000, max(10_001, pot // 200))),
                    "value_per_unit": draw(st.floats(0.0, 50.0)),
                    "max_units": draw(st.integers(1, 3)),
                }
            )
    curves = []
    for seg in segment_ids:
        if draw(st.booleans()):
            first = draw(st.integers(1_000, 200_000))
            value = draw(st.floats(0.001, 0.2))
            # Concave: the second piece is twice as wide and at most twice the first's rise.
            second = value * draw(st.floats(1.0, 2.9))
            curves.append(
                {
                    "segment_id": seg,
                    "provider_kind": draw(st.sampled_from(KINDS)),
                    "points": [
                        {"spend_per_head_pence": first, "value_per_head": value},
                        {"spend_per_head_pence": first * 3, "value_per_head": second},
                    ],
                }
            )
    fair_shares = [{"rule_id": "converge", "level": "place", "form": "converge"}]
    if draw(st.booleans()):
        fair_shares.append(
            {
                "rule_id": "band",
                "level": "place",
                "form": "band",
                "band_share": draw(st.floats(0.01, 0.2)),
            }
        )
    document = {
        "scenario_id": "generated",
        "systems": systems,
        "places": places,
        "neighbourhoods": neighbourhoods,
        "segments": segments,
        "populations": populations,
        "local_adjustments": adjustments,
        "funders": funders,
        "ring_fences": ring_fences,
        "reserve": {"share": reserve_share},
        "providers": providers,
        "schemes": schemes,
        "pace_of_change": [
            {
                "rule_id": "pace",
                "level": "provider",
                "floor_growth_share": floor,
                "cap_growth_share": cap,
            }
        ],
        "fair_shares": fair_shares,
        "value_curves": curves,
    }
    if with_rules:
        document = _add_rules(draw, document, growth=growth, floor=floor, cap=cap)
    return Scenario.model_validate(document)


def _add_rules(
    draw: st.DrawFn, document: dict[str, Any], *, growth: float, floor: float, cap: float
) -> dict[str, Any]:
    """Minimum spends (one perhaps grown at a funder's recurrent growth, at most 10%),
    entitlements, place or system convergence and bands that stay feasible.

    W0 serves every place and segment and may grow from its floor up to its cap while the
    others stay at their floors, so a minimum on what F0 gives W0, or on W0's cells in one
    segment, within that room is always reachable; convergence is hard only without a hard
    band (a unit far over target may be held above the band's top).
    """
    providers = document["providers"]
    w0 = providers[0]
    base_total = sum(p["baseline_pence"] for p in providers)
    w0_floor = w0["baseline_pence"] * (1 + floor)
    w0_top = min(
        w0["baseline_pence"] * (1 + cap) - 1,
        w0_floor + base_total * (growth - floor),
        w0.get("capacity_pence", float("inf")),
    )
    fenced = sum(f["amount_pence"] for f in document["funders"] if f["funder_id"] == "F1")
    minimum_spends = []
    room = max(0.0, w0_top - fenced - 10_000)  # headroom for the rounding margin
    if draw(st.booleans()):
        minimum_spends.append(
            {
                "rule_id": "F0-to-W0",
                "funder_ids": ["F0"],
                "provider_ids": ["W0"],
                "minimum_pence": int(room * draw(st.floats(0.0, 0.98))),
            }
        )
    if draw(st.booleans()):
        segment = draw(st.sampled_from([x["segment_id"] for x in document["segments"]]))
        rule = {
            "rule_id": "W0-segment",
            "provider_ids": ["W0"],
            "segment_ids": [segment],
            "baseline_pence": int(w0_floor * draw(st.floats(0.0, 0.9))),
            "min_growth_share": 0.0,
        }
        if draw(st.booleans()):  # the MHIS tied to its base: grown at F0's recurrent growth
            last_year = draw(st.integers(1, 10**12))
            f0 = document["funders"][0]
            f0["last_year_recurrent_pence"] = last_year
            f0["recurrent_pence"] = last_year + last_year * draw(st.integers(0, 10)) // 100
            rule["baseline_pence"] = int(w0_floor * draw(st.floats(0.0, 0.8)))
            rule["growth_from_recurrent"] = "F0"
        minimum_spends.append(rule)
    document["minimum_spends"] = minimum_spends
    document["entitlements"] = _entitlements(draw, document, w0_floor)
    hard_band = any(r["form"] == "band" for r in document["fair_shares"])
    if draw(st.booleans()):
        level = draw(st.sampled_from(["place", "system"]))
        document["pace_of_change"].append(
            {
                "rule_id": f"converge-{level}",
                "level": level,
                "form": "convergence",
                "convergence_share": draw(st.floats(0.05, 0.5)),
                "floor_growth_share": 0.0,
                "hard": not hard_band and draw(st.booleans()),
                "penalty_per_gbp": 1.0,
            }
        )
    if draw(st.booleans()):
        document["fair_shares"].append(
            {
                "rule_id": "system-band",
                "level": "system",
                "form": "band",
                "band_share": draw(st.floats(0.3, 0.5)),
                "hard": False,
            }
        )
    return document


def _entitlements(
    draw: st.DrawFn, document: dict[str, Any], w0_floor: float
) -> list[dict[str, Any]]:
    """Use-it-or-lose-it entitlements of the ring-fenced F1 (fenced to W0) at some neighbourhoods.

    Each is at most half of W0's floor spread over the neighbourhoods by weighted population,
    and together at most F1's money, so W0 can always claim them: they bind the lapse and
    conservation rows without forcing money out of the pot (which could break other floors).
    """
    fenced = [f for f in document["funders"] if f["funder_id"] == "F1"]
    if not fenced or not draw(st.booleans()):
        return []
    weights = {s["segment_id"]: s["cost_weight"] for s in document["segments"]}
    factor = {a["neighbourhood_id"]: a["factor"] for a in document["local_adjustments"]}
    wp: dict[str, float] = {}
    for row in document["populations"]:
        nid = row["neighbourhood_id"]
        wp[nid] = wp.get(nid, 0.0) + row["headcount"] * weights[row["segment_id"]] * factor.get(
            nid, 1.0
        )
    total_wp = sum(wp.values())
    chosen = draw(st.lists(st.sampled_from(sorted(wp)), min_size=1, max_size=3, unique=True))
    budget = fenced[0]["amount_pence"]
    out = []
    for k, nid in enumerate(chosen):
        room = int(0.5 * w0_floor * wp[nid] / total_wp)
        amount = min(room, budget, int(fenced[0]["amount_pence"] * draw(st.floats(0.0, 1.0))))
        budget -= amount
        out.append(
            {
                "entitlement_id": f"E{k}",
                "funder_id": "F1",
                "neighbourhood_id": nid,
                "amount_pence": amount,
            }
        )
    return out
