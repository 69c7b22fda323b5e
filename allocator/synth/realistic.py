"""The realistic example system: hand-set figures (`data/README.md` says where each comes from)."""

from __future__ import annotations

from typing import Any

import numpy as np

from allocator.synth.catalogue import (
    AGREEMENT_OF,
    ALL,
    AMB,
    ASC,
    CHS,
    DGH,
    ELECTIVE,
    FUNDERS,
    MEDS,
    MH,
    PHS,
    VCSE,
    Doc,
    M,
    _common,
    _people,
    mix_population,
    ring_fences,
    segment_table,
    value_curves,
)
from models import Scenario

# fmt: off
# The realistic example: hand-set figures (data/README.md says where each comes from).
RW_PLACES = (  # id, name, market forces factor, neighbourhoods: (name, thousands, need, uplift)
    ("NB", "Northbridge", 1.04, (
        ("Central", 48, 1.20, 1.03), ("Riverside", 46, 1.16, 1.03), ("Docklands", 44, 1.13, 1.03),
        ("Castle Hill", 47, 1.10, 1.02), ("St Mark's", 45, 1.08, 1.0), ("Parkway", 43, 1.05, 1.0),
        ("Millbrook", 42, 1.02, 1.0), ("Northgate", 45, 0.99, 1.0), ("Hillside", 49, 0.95, 1.0),
        ("Old Town", 41, 0.91, 1.0))),
    ("EM", "Eastmoor", 1.02, (
        ("Moorside", 44, 1.09, 1.02), ("Eastfield", 41, 1.05, 1.02), ("Harbour", 39, 1.01, 1.0),
        ("Brackley", 45, 0.99, 1.0), ("Kingsmead", 43, 0.97, 1.0), ("Fenwick", 40, 0.95, 1.0),
        ("Abbey", 42, 0.93, 1.0), ("Greenlane", 46, 0.90, 1.0), ("Ashworth", 40, 0.87, 1.0))),
    ("WV", "Westvale", 1.01, (
        ("Vale Market Towns", 47, 0.98, 1.0), ("Westbury", 44, 0.94, 1.0), ("Longdale", 43, 0.91, 1.0),
        ("Upper Dale", 46, 0.88, 1.0), ("Shireoak", 45, 0.85, 1.0), ("Brookfield", 45, 0.83, 1.0))),
)


RW_PLACE_HISTORY = {"NB": 0.955, "EM": 1.0, "WV": 1.095}  # last year's share ÷ fair share


CAP = ("capitated",)


RW_PROVIDERS = (  # id, name, kind, places, segments, baseline, payment, capacity, fixed costs, risk appetite (£m)
    ("NTH", "Northbridge Teaching Hospitals NHS FT", "acute", ALL, ALL, 815.0, ("blended", 0.85, 1_800, 0.2), 890.0, 600.0, 12.0),
    ("EWH", "Eastmoor and Westvale Hospitals NHS Trust", "acute", ("EM", "WV"), (*DGH, "stable_disability", "end_of_life"), 510.0, ("blended", 0.80, 3_000, 1.0), 555.0, 360.0, 8.0),
    ("REC", "Riverside Elective Centre (independent sector)", "acute", ALL, ELECTIVE, 45.0, ("activity", 2_900, 16_800), None, 20.0, 1.0),
    ("TCH", "Tri-Borough Community Health NHS Trust", "community", ALL, CHS, 262.0, ("block", 269.86), None, 0.0, 4.0),
    ("TMH", "Tri-Borough Mental Health NHS FT", "mental_health", ALL, MH, 300.0, CAP, 330.0, 0.0, 5.0),
    ("GP-NB", "Northbridge general practice and neighbourhood teams", "general_practice", ("NB",), ALL, 96.0, CAP, 106.0, 0.0, 1.0),
    ("GP-EM", "Eastmoor general practice and neighbourhood teams", "general_practice", ("EM",), ALL, 80.0, CAP, 88.0, 0.0, 1.0),
    ("GP-WV", "Westvale general practice and neighbourhood teams", "general_practice", ("WV",), ALL, 58.0, CAP, 64.0, 0.0, 1.0),
    ("ASC-NB", "Northbridge City Council adult social care", "social_care", ("NB",), ASC, 186.0, CAP, 204.0, 0.0, 3.0),
    ("ASC-EM", "Eastmoor Borough Council adult social care", "social_care", ("EM",), ASC, 150.0, CAP, 165.0, 0.0, 3.0),
    ("ASC-WV", "Westvale County Council adult social care", "social_care", ("WV",), ASC, 115.0, CAP, 127.0, 0.0, 2.0),
    ("VSA", "Tri-Borough Voluntary Sector Alliance", "voluntary", ALL, VCSE, 14.0, CAP, 16.0, 6.0, 0.3),
    ("WCS", "Westvale Carers' Support", "voluntary", ("WV",), ("stable_disability", "frailty"), 0.39, ("activity", 150, 3_000), None, 0.0, 0.0),
    ("SHH", "St Hilda's Hospice", "hospice", ALL, ("limited_reserve", "end_of_life"), 9.2, ("block", None), None, 7.0, 0.3),
    ("RAS", "Regional Ambulance Service NHS Trust (Tri-Borough share)", "ambulance", ALL, AMB, 64.0, CAP, 70.0, 0.0, 1.5),
    ("PHS", "Councils' public health services", "public_health", ALL, PHS, 58.5, CAP, 64.0, 0.0, 0.5),
    ("MED", "Medicines and prescribing (community pharmacy)", "other", ALL, MEDS, 200.0, CAP, 220.0, 0.0, 4.0),
)


RW_FUNDERS = (  # id, name, £m this year
    ("ICB", "NHS Tri-Borough ICB core allocation", 2_310.0),
    ("DPC", "Delegated primary care (primary medical care)", 192.0),
    ("LA", "Local authorities adult social care (3 councils)", 420.0),
    ("PH", "Public health grant (3 councils)", 60.5),
    ("BCF", "Better care fund (pooled, section 75)", 110.0),
)


RW_DFG = {"ASC-NB": 4.5, "ASC-EM": 3.8, "ASC-WV": 2.7}  # £m disabled facilities grant (BCF)


RW_RULES: Doc = {
    "minimum_spends": [
        {"rule_id": "mhis", "name": "Mental health investment standard: MH spend grows with the ICB allocation (2,310 / 2,230)",
         "provider_kinds": ["mental_health"], "funder_ids": ["ICB"], "baseline_pence": 300 * M, "min_growth_share": 0.0359},
        {"rule_id": "bcf-minimum", "name": "Better care fund: NHS minimum contribution to social care (+5.66%)",
         "provider_kinds": ["social_care"], "funder_ids": ["ICB"], "baseline_pence": 45 * M, "min_growth_share": 0.0566},
    ],
    "reserve": {"share": 0.0075},
    "schemes": [
        {"scheme_id": "frailty-hub", "name": "Northbridge frailty hub", "provider_id": "GP-NB", "place_id": "NB",
         "segment_id": "frailty", "cost_per_unit_pence": 180 * M // 100, "value_per_unit": 130.0},
        {"scheme_id": "virtual-ward", "name": "Eastmoor virtual ward (40 beds)", "provider_id": "EWH", "place_id": "EM",
         "segment_id": "limited_reserve", "cost_per_unit_pence": 320 * M // 100, "value_per_unit": 200.0},
        {"scheme_id": "nursing-teams", "name": "Eastmoor neighbourhood nursing teams (10 WTE each)", "provider_id": "GP-EM",
         "place_id": "EM", "segment_id": "frailty", "cost_per_unit_pence": 62 * M // 100, "value_per_unit": 42.0,
         "max_units": 8, "min_units": 2},
    ],
    "pace_of_change": [
        {"rule_id": "provider-pace", "name": "Providers: at least +0.5%, at most +8%",
         "floor_growth_share": 0.005, "cap_growth_share": 0.08},
        {"rule_id": "place-pace", "level": "place",
         "name": "Places: no cash cut; >5% over target at most +1%; >5% below target lifted to within 5%",
         "floor_growth_share": 0.0, "cap_growth_share": 0.01, "cap_over_target_share": 0.05, "below_target_band_share": 0.05},
    ],
}
# fmt: on


def _rw_payment(spec: tuple[Any, ...], base: int) -> Doc:
    if spec[0] == "blended":
        fixed, price = round(base * spec[1]), spec[2] * 100
        return {"kind": "blended", "fixed_pence": fixed, "unit_price_pence": price,
                "planned_volume": round((base - fixed) / price, 1), "variable_rate_share": spec[3], "two_sided": True}  # fmt: skip
    if spec[0] == "activity":
        return {"kind": "activity", "unit_price_pence": spec[1] * 100,
                "planned_volume": round(base / (spec[1] * 100), 1), "max_volume": spec[2]}  # fmt: skip
    if spec[0] == "block" and spec[1] is not None:
        return {"kind": "block", "amount_pence": round(spec[1] * M)}
    return {"kind": spec[0]}


def realistic_scenario() -> Scenario:
    """The realistic example (``data/realistic/realistic.json``): plausible, not a real ICS."""
    segments = segment_table(8)
    seg_ids = [s[0] for s in segments]
    place_ids = [p[0] for p in RW_PLACES]
    hoods = [(i, *h) for i, (_, _, _, hs) in enumerate(RW_PLACES) for h in hs]
    hood_place = np.array([h[0] for h in hoods])
    mff = np.array([RW_PLACES[i][2] for i in hood_place])
    uplift = np.array([h[4] for h in hoods])
    need = np.array([h[3] for h in hoods])
    heads, residual = mix_population(
        np.array([h[2] * 1000.0 for h in hoods]), need / (mff * uplift), segments
    )
    residual = np.where(np.abs(residual - 1) > 0.002, np.round(residual, 4), 1.0)
    hood_ids = [f"{place_ids[h[0]]}-" + "".join(c for c in h[1] if c.isalnum()) for h in hoods]
    providers: list[Doc] = []
    for pid, name, kind, places, segs, base_m, pay, cap_m, fixed_m, appetite_m in RW_PROVIDERS:
        base = round(base_m * M)
        provider: Doc = {
            "provider_id": pid, "name": name, "kind": kind, "baseline_pence": base,
            "place_ids": list(place_ids if places == ALL else places),
            "segment_ids": [s for s in seg_ids if segs == ALL or s in segs],
            "payment": _rw_payment(pay, base), "risk_appetite_pence": round(appetite_m * M),
        }  # fmt: skip
        if cap_m is not None:
            provider["capacity_pence"] = round(cap_m * M)
        if fixed_m:
            provider["fixed_costs_pence"] = round(fixed_m * M)
        if kind in AGREEMENT_OF:
            provider["risk_share_agreement_id"] = AGREEMENT_OF[kind]
        providers.append(provider)
    growth = RW_FUNDERS[0][2] / 2_230.0  # this year's ICB allocation ÷ last year's
    expected = np.array([
        p["payment"].get("amount_pence") or p["baseline_pence"] * (1 if p["provider_id"] in ("SHH", "WCS") else growth)
        for p in providers
    ])  # fmt: skip
    hood_wp = heads @ np.array([s[2] for s in segments]) * mff * uplift * residual
    history = np.bincount(hood_place, weights=hood_wp) * [RW_PLACE_HISTORY[p] for p in place_ids]
    last_year = sum(p["baseline_pence"] for p in providers) - 10.6 * M  # less last year's DFG
    place_base = np.round(last_year * history / history.sum())
    funders: list[Doc] = [{"funder_id": f, "name": n, "kind": FUNDERS["NHS" if f == "ICB" else f][1],
                           "amount_pence": round(m * M)} for f, n, m in RW_FUNDERS]  # fmt: skip
    funders[-1]["pass_through"] = [
        {"provider_id": k, "segment_id": "stable_disability", "amount_pence": round(v * M)} for k, v in RW_DFG.items()
    ]  # fmt: skip
    doc: Doc = {
        "scenario_id": "realistic",
        "name": "Tri-Borough ICS (realistic, illustrative)",
        "financial_year": "2025/26",
        "description": (
            "A plausible integrated care system of 1.1 million people: 3 places, 25 neighbourhoods, 8 Bridges to "
            "Health segments, 17 providers, 5 funders. Orders of magnitude follow public figures (see "
            "data/README.md); it is not any real system's figures."
        ),
        "systems": [{"system_id": "TRI", "name": "Tri-Borough ICS"}],
        "places": [{"place_id": p, "system_id": "TRI", "name": n, "baseline_pence": int(b)}
                   for (p, n, _, _), b in zip(RW_PLACES, place_base, strict=True)],
        "neighbourhoods": [{"neighbourhood_id": i, "place_id": place_ids[h[0]], "name": f"{h[1]} PCN"}
                           for i, h in zip(hood_ids, hoods, strict=True)],
        "segments": [{"segment_id": s[0], "name": s[1], "cost_weight": s[2]} for s in segments],
        "funders": funders,
        "ring_fences": ring_fences(funders, seg_ids),
        "providers": providers,
        "value_curves": value_curves(providers, heads, hood_place, place_ids, segments, expected),
        **RW_RULES,
        **_common(seg_ids),
        **_people(hood_ids, seg_ids, heads, [(mff, "market forces factor"), (uplift, "inequalities uplift"),
                                             (residual, "need not captured by segments")]),
    }  # fmt: skip
    return Scenario.model_validate(doc)
