"""Any valid scenario survives scenario -> workbook -> scenario (and JSON) exactly."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator.io.excel import build_workbook, read_workbook_bytes
from allocator.io.json_io import read_json_text, to_json_text
from allocator.validate import blocking, validate_scenario
from models import Scenario

PROVIDER_KINDS = [
    "acute",
    "community",
    "mental_health",
    "general_practice",
    "social_care",
    "voluntary",
    "hospice",
]
FUNDER_KINDS = [
    "nhs_allocation",
    "delegated_primary_care",
    "social_care",
    "public_health",
    "pooled_fund",
    "other",
]
names = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 £–é&'/()"), max_size=24
).map(str.strip)
shares = st.floats(0.0, 1.0, allow_nan=False)
weights = st.floats(0.01, 50.0, allow_nan=False)
pence = st.integers(0, 10**12)


def _subset(draw: st.DrawFn, items: list[str]) -> list[str]:
    return draw(st.lists(st.sampled_from(items), min_size=1, max_size=len(items), unique=True))


def _payment(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["capitated", "block", "activity", "blended"]))
    if kind == "capitated":
        return {"kind": kind}
    if kind == "block":
        return {"kind": kind, "amount_pence": draw(st.none() | pence)}
    volume = draw(st.floats(0.0, 1e6, allow_nan=False))
    if kind == "activity":
        return {
            "kind": kind,
            "unit_price_pence": draw(pence),
            "planned_volume": volume,
            "max_volume": draw(st.none() | st.floats(volume, 2e6)),
        }
    return {
        "kind": kind,
        "fixed_pence": draw(pence),
        "unit_price_pence": draw(pence),
        "planned_volume": volume,
        "variable_rate_share": draw(shares),
        "two_sided": draw(st.booleans()),
    }


def _curve(draw: st.DrawFn, segment: str, kind: str) -> dict[str, Any]:
    points, spend, value = [], 0, 0.0
    slope = draw(st.floats(1e-6, 1e-3))
    for _ in range(draw(st.integers(1, 4))):
        step = draw(st.integers(1, 500_000))
        spend += step
        value += slope * step
        points.append({"spend_per_head_pence": spend, "value_per_head": value})
        slope *= draw(st.floats(0.0, 1.0))  # slopes never rise: concave
    return {"segment_id": segment, "provider_kind": kind, "points": points}


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    segments = [f"seg{j}" for j in range(draw(st.integers(1, 4)))]
    systems: list[dict[str, Any]] = []
    places: list[dict[str, Any]] = []
    neighbourhoods: list[dict[str, Any]] = []
    populations: list[dict[str, Any]] = []
    adjustments: list[dict[str, Any]] = []
    for s in range(draw(st.integers(1, 2))):
        systems.append({"system_id": f"S{s}", "name": draw(names)})
        for p in range(draw(st.integers(1, 3))):
            place_id = f"S{s}.P{p}"
            places.append(
                {
                    "place_id": place_id,
                    "system_id": f"S{s}",
                    "baseline_pence": draw(st.none() | pence),
                }
            )
            for n in range(draw(st.integers(1, 2))):
                nid = f"{place_id}-N{n}"
                neighbourhoods.append(
                    {"neighbourhood_id": nid, "place_id": place_id, "name": draw(names)}
                )
                for seg in segments:
                    populations.append(
                        {
                            "neighbourhood_id": nid,
                            "segment_id": seg,
                            "headcount": draw(st.floats(1.0, 1e6)),
                        }
                    )
                for _ in range(draw(st.integers(0, 2))):
                    adjustments.append(
                        {
                            "neighbourhood_id": nid,
                            "factor": draw(st.floats(0.5, 2.0)),
                            "reason": draw(names),
                        }
                    )
    place_ids = [str(p["place_id"]) for p in places]
    agreements = [
        {
            "agreement_id": f"RS{a}",
            "profile": draw(st.sampled_from(["bands", "pooled_pro_rata"])),
            "overspend_bands": [
                *(
                    {"width_pence": draw(st.integers(1, 10**9)), "provider_share": draw(shares)}
                    for _ in range(draw(st.integers(1, 3)))
                ),
                {"width_pence": None, "provider_share": draw(shares)},
            ],
            "underspend_bands": [
                {"width_pence": draw(st.integers(1, 10**9)), "provider_share": draw(shares)}
            ],
            "loss_cap_pence": draw(st.none() | pence),
        }
        for a in range(draw(st.integers(0, 2)))
    ]
    providers: list[dict[str, Any]] = []
    for k in range(draw(st.integers(1, 4))):
        providers.append(
            {
                "provider_id": f"K{k}",
                "name": draw(names),
                "kind": draw(st.sampled_from(PROVIDER_KINDS)),
                "place_ids": _subset(draw, place_ids),
                "segment_ids": _subset(draw, segments),
                "baseline_pence": draw(pence),
                "capacity_pence": draw(st.none() | st.integers(10**12, 10**13)),
                "fixed_costs_pence": draw(st.integers(0, 10**6)),
                "risk_appetite_pence": draw(st.none() | pence),
                "payment": _payment(draw),
                "risk_share_agreement_id": draw(
                    st.none() | st.sampled_from([a["agreement_id"] for a in agreements] or [None])
                ),
            }
        )
    funders: list[dict[str, Any]] = []
    for f in range(draw(st.integers(1, 3))):
        amount = draw(st.integers(10**9, 10**14))
        pass_through = [
            {
                "provider_id": provider["provider_id"],
                "segment_id": draw(st.none() | st.sampled_from(provider["segment_ids"])),
                "amount_pence": draw(st.integers(0, amount // 10)),
            }
            for provider in draw(st.lists(st.sampled_from(providers), max_size=2))
        ]
        funders.append(
            {
                "funder_id": f"F{f}",
                "name": draw(names),
                "kind": draw(st.sampled_from(FUNDER_KINDS)),
                "amount_pence": amount,
                "pass_through": pass_through,
            }
        )
    funder_ids = [str(f["funder_id"]) for f in funders]
    for agreement in agreements:  # pooled-budget partners (any profile may list them)
        agreement["partners"] = [
            {"funder_id": fid, "contribution_pence": draw(pence)}
            for fid in draw(st.lists(st.sampled_from(funder_ids), max_size=3, unique=True))
        ]
    provider = draw(st.sampled_from(providers))
    ring_fences = (
        [
            {
                "ringfence_id": "RF",
                "funder_id": "F0",
                "provider_ids": [provider["provider_id"]],
                "provider_kinds": [provider["kind"]],
                "segment_ids": provider["segment_ids"][:1],
            }
        ]
        if draw(st.booleans())
        else []
    )
    minimum_spends = (
        [
            {
                "rule_id": "MS",
                "provider_kinds": [provider["kind"]],
                "place_ids": provider["place_ids"][:1],
                "funder_ids": ["F0"],
                "hard": draw(st.booleans()),
                "penalty_per_gbp": draw(st.floats(0, 100)),
                **draw(
                    st.sampled_from(
                        [{"minimum_pence": 5}, {"baseline_pence": 7, "min_growth_share": 0.05}]
                    )
                ),
            }
        ]
        if draw(st.booleans())
        else []
    )
    schemes = [
        {
            "scheme_id": f"X{j}",
            "name": draw(names),
            "provider_id": provider["provider_id"],
            "place_id": draw(st.sampled_from(provider["place_ids"])),
            "segment_id": draw(st.sampled_from(provider["segment_ids"])),
            "cost_per_unit_pence": draw(pence),
            "value_per_unit": draw(st.floats(0, 100)),
            "max_units": (top := draw(st.integers(1, 20))),
            "min_units": draw(st.integers(0, top)),
        }
        for j in range(draw(st.integers(0, 2)))
    ]
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(segments), st.sampled_from(PROVIDER_KINDS)),
            max_size=3,
            unique=True,
        )
    )
    floor = draw(st.floats(-0.1, 0.05))
    document = {
        "scenario_id": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,20}", fullmatch=True)),
        "name": draw(names),
        "financial_year": draw(st.sampled_from(["", "2025/26", "2026/27"])),
        "description": draw(names),
        "systems": systems,
        "places": places,
        "neighbourhoods": neighbourhoods,
        "segments": [
            {"segment_id": s, "name": draw(names), "cost_weight": draw(weights)} for s in segments
        ],
        "populations": populations,
        "local_adjustments": adjustments,
        "demand_growth": [
            {"segment_id": s, "growth_share": draw(st.floats(-0.5, 2.0))}
            for s in segments
            if draw(st.booleans())
        ],
        "funders": funders,
        "ring_fences": ring_fences,
        "minimum_spends": minimum_spends,
        "reserve": draw(
            st.sampled_from(
                [
                    {},
                    {"share": draw(st.floats(0, 0.05))},
                    {"amount_pence": draw(st.integers(0, 10**8))},
                ]
            )
        ),
        "providers": providers,
        "schemes": schemes,
        "pace_of_change": [
            {
                "rule_id": "pace",
                "level": "provider",
                "floor_growth_share": floor,
                "cap_growth_share": floor + draw(st.floats(0, 0.5)),
                "provider_ids": [provider["provider_id"]],
                "hard": draw(st.booleans()),
            },
            {
                "rule_id": "converge",
                "level": "place",
                "form": "convergence",
                "convergence_share": draw(shares),
                "below_target_band_share": draw(st.none() | shares),
            },
        ],
        "fair_shares": [
            {
                "rule_id": "band",
                "level": draw(st.sampled_from(["place", "neighbourhood", "system"])),
                "form": "band",
                "band_share": draw(shares),
            },
            {"rule_id": "conv"},
        ],
        "value_curves": [_curve(draw, s, k) for s, k in pairs],
        "objective": {
            "kind": draw(st.sampled_from(["lexicographic", "weighted"])),
            "stages": draw(st.permutations(["fairness", "value", "stability"]))[
                : draw(st.integers(1, 3))
            ],
            "weights": {
                "fairness_per_gbp_shortfall": draw(st.floats(0, 10)),
                "value": draw(st.floats(0.1, 10)),
                "stability_per_gbp_change": draw(st.floats(0, 1)),
            },
            "stage_tolerance_share": draw(st.floats(0, 1e-3)),
            "reference_rate": draw(
                st.sampled_from(["nhs_marginal", "nice_threshold", "nice_medicines_2026"])
            ),
            "gbp_per_value_unit": draw(st.none() | st.floats(1, 1e5)),
            "fairness_level": draw(st.sampled_from(["place", "neighbourhood", "system"])),
            "mip_gap_share": draw(st.floats(0, 0.1)),
            "time_limit_s": draw(st.none() | st.floats(0.1, 600)),
        },
        "small_contract_threshold_pence": draw(pence),
        "risk_share_agreements": agreements,
        "outturn": {
            "system_shock_sd_share": draw(shares),
            "segment_shock_sd_share": draw(shares),
            "segment_overrides": [
                {"segment_id": s, "sd_share": draw(shares)} for s in segments if draw(st.booleans())
            ],
            "segment_correlation": draw(st.floats(-0.1, 1.0)),
            "provider_noise_sd_share": draw(shares),
            "breakeven": draw(st.sampled_from(["system", "organisation"])),
        },
    }
    return Scenario.model_validate(document)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_workbook_and_json_round_trips_are_exact(scenario: Scenario) -> None:
    assert blocking(validate_scenario(scenario)) == []  # valid by construction
    buffer = io.BytesIO()
    build_workbook(scenario).save(buffer)
    from_workbook, issues = read_workbook_bytes(buffer.getvalue())
    assert blocking(issues) == []
    assert from_workbook == scenario
    assert from_workbook is not None and from_workbook.content_hash() == scenario.content_hash()
    from_json, issues = read_json_text(to_json_text(scenario))
    assert from_json == scenario and blocking(issues) == []
