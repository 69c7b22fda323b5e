"""The building blocks of made scenarios: the Bridges to Health segments, the provider roster, funders and their ring-fences, risk-share agreements, scheme templates, value curves and population mixes. Shared by the seeded generator and the realistic example."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from allocator.types import FloatArray, IntArray
from models import ProviderKind

SegmentRow = tuple[str, str, float, float, float]


Doc = dict[str, Any]


M = 100_000_000  # pence per £1m


ALL = ("*",)


# fmt: off
# Bridges to Health: id, name, cost weight, share of heads in low- and high-need areas.
BRIDGES: tuple[SegmentRow, ...] = (
    ("healthy", "Healthy", 1.0, 0.740, 0.460),
    ("maternal_infant", "Maternal and infant", 3.0, 0.045, 0.035),
    ("acutely_ill", "Acutely ill but likely to recover", 4.0, 0.070, 0.090),
    ("chronic_conditions", "Chronic conditions with normal function", 3.0, 0.115, 0.285),
    ("stable_disability", "Stable but serious disability", 8.0, 0.015, 0.045),
    ("limited_reserve", "Limited reserve with serious exacerbations", 20.0, 0.008, 0.042),
    ("frailty", "Frailty", 22.0, 0.005, 0.035),
    ("end_of_life", "Short decline before dying", 40.0, 0.002, 0.008),
)


BCF_SEGMENTS = ("stable_disability", "limited_reserve", "frailty")


# Real PCN core need index (Final WP / pop, 2022/23) at 0%, 5%, ..., 100%; tails clipped.
NEED_PROBS = np.linspace(0.0, 1.0, 21)


NEED_QUANTILES = np.array([
    0.70, 0.8244, 0.8589, 0.8828, 0.9065, 0.9238, 0.9373, 0.9535, 0.9688, 0.9824, 0.9955,
    1.0095, 1.0241, 1.0371, 1.0561, 1.0734, 1.0955, 1.1246, 1.1539, 1.2026, 1.45,
])


NEED_SD = (0.069, 0.036, 0.111)  # log sd: system, place within system, PCN within place


PENCE_PER_WEIGHTED_HEAD = 92_700  # ~£2,800 per head of all funders' money at average need


# £ per QALY at today's spend by provider kind (curves: 0.6x, 1x, 1.6x of it on three pieces).
GBP_PER_QALY: dict[str, float] = {
    "public_health": 8_000, "voluntary": 10_000, "general_practice": 11_000,
    "community": 12_000, "mental_health": 12_000, "social_care": 13_000, "hospice": 14_000,
    "other": 15_000, "acute": 18_000, "ambulance": 20_000,
}


ASC = ("stable_disability", "limited_reserve", "frailty", "end_of_life")


MH = ("healthy", "maternal_infant", "chronic_conditions", "stable_disability", "frailty")


CHS = ("maternal_infant", "chronic_conditions", "stable_disability", "limited_reserve", "frailty", "end_of_life")


PHS = ("healthy", "maternal_infant", "chronic_conditions")


DGH = ("maternal_infant", "acutely_ill", "chronic_conditions", "limited_reserve", "frailty")


MEDS = ("chronic_conditions", "stable_disability", "limited_reserve", "frailty")


AMB = ("acutely_ill", "limited_reserve", "frailty", "end_of_life")


VCSE = ("healthy", "chronic_conditions", "stable_disability", "frailty", "end_of_life")


ELECTIVE = ("acutely_ill", "chronic_conditions")


@dataclass(frozen=True)
class Role:
    """One provider in a system's roster: where it works, what it serves, how it is paid."""

    key: str
    name: str
    kind: ProviderKind
    per_place: bool
    segments: tuple[str, ...]
    payment: str  # capitated | block | activity | blended_uec | blended_elective | small
    share: float  # of each served place's money
    fixed_costs: bool = False


# fmt: off
K = ProviderKind


ROSTER: tuple[Role, ...] = (  # priority order: a short roster keeps the first roles
    Role("acute", "Acute hospitals NHS FT", K.ACUTE, False, ALL, "blended_uec", 0.30, True),
    Role("gp", "General practice and neighbourhood teams", K.GENERAL_PRACTICE, True, ALL, "capitated", 0.08),
    Role("asc", "Council adult social care", K.SOCIAL_CARE, True, ASC, "capitated", 0.15),
    Role("mh", "Mental health NHS FT", K.MENTAL_HEALTH, False, MH, "capitated", 0.10),
    Role("chs", "Community health services", K.COMMUNITY, False, CHS, "capitated", 0.09),
    Role("ph", "Public health services", K.PUBLIC_HEALTH, False, PHS, "capitated", 0.02),
    Role("acute2", "District hospital NHS trust", K.ACUTE, False, DGH, "blended_elective", 0.12, True),
    Role("meds", "Medicines and prescribing", K.OTHER, False, MEDS, "capitated", 0.075),
    Role("amb", "Ambulance service NHS trust", K.AMBULANCE, False, AMB, "capitated", 0.02),
    Role("vcse", "Voluntary sector alliance", K.VOLUNTARY, False, VCSE, "capitated", 0.012, True),
    Role("hospice", "Hospice", K.HOSPICE, False, ("limited_reserve", "end_of_life"), "block", 0.006, True),
    Role("elective", "Elective centre (independent sector)", K.ACUTE, False, ELECTIVE, "activity", 0.015, True),
    Role("carers", "Carers' support (small contract)", K.VOLUNTARY, True, ("stable_disability", "frailty"), "small", 0.0003),
    Role("nt", "Neighbourhood nursing team", K.COMMUNITY, True, ("chronic_conditions", "frailty", "end_of_life"), "capitated", 0.01),
)


SCHEME_TEMPLATES = (  # key, name, host role, segment, cost range (pence), max units, min units
    ("frailty-hub", "Frailty hub", "gp", "frailty", (120 * M // 100, 250 * M // 100), 1, 0),
    ("virtual-ward", "Virtual ward", "acute", "limited_reserve", (2 * M, 4 * M), 1, 0),
    ("nursing-teams", "Community nursing teams", "chs", "frailty", (55 * M // 100, 70 * M // 100), 6, 1),
    ("link-workers", "Social prescribing link workers", "vcse", "chronic_conditions", (4_000_000, 5_000_000), 15, 0),
)


CORRIDOR = [{"width_pence": 2 * M, "provider_share": 1.0}, {"width_pence": 10 * M, "provider_share": 0.5}, {"provider_share": 0.25}]


RISK_SHARES: list[Doc] = [
    {"agreement_id": "acute-corridor", "name": "Acute corridor: first £2m provider 100%, next £10m 50%, beyond 25%",
     "overspend_bands": CORRIDOR, "underspend_bands": CORRIDOR, "loss_cap_pence": 15 * M, "gain_cap_pence": 10 * M},
    {"agreement_id": "community-50-50", "name": "Community: variance shared 50/50",
     "overspend_bands": [{"provider_share": 0.5}], "underspend_bands": [{"provider_share": 0.5}]},
    {"agreement_id": "pooled-pro-rata", "profile": "pooled_pro_rata",
     "name": "Section 75 pooled budget: shared in proportion to contributions"},
]


AGREEMENT_OF = {"acute": "acute-corridor", "community": "community-50-50", "social_care": "pooled-pro-rata"}


DEMAND_GROWTH = {"healthy": 0.005, "maternal_infant": -0.01, "acutely_ill": 0.01, "chronic_conditions": 0.02,
                 "stable_disability": 0.015, "limited_reserve": 0.025, "frailty": 0.035, "end_of_life": 0.02}


SEGMENT_SD = {"acutely_ill": 0.04, "limited_reserve": 0.045, "frailty": 0.05, "end_of_life": 0.04}


FUNDERS = {  # id: name, kind, provider kinds its ring-fence allows (blank: unrestricted)
    "NHS": ("NHS allocation (ICB core services)", "nhs_allocation", ()),
    "DPC": ("Delegated primary care", "delegated_primary_care", ("general_practice",)),
    "LA": ("Local authorities adult social care", "social_care", ("social_care",)),
    "PH": ("Public health grant", "public_health", ("public_health",)),
    "BCF": ("Better care fund (pooled)", "pooled_fund", ("community", "social_care")),
}


def segment_table(n: int) -> list[SegmentRow]:
    """The first `n` Bridges to Health segments, plus generic ones beyond eight."""
    extra = [(f"segment_{j + 1}", f"Segment {j + 1}", 2.0 + j, 0.01, 0.02) for j in range(8, n)]
    return list(BRIDGES[:n]) + extra


def mix_population(
    pop: FloatArray, need: FloatArray, segments: list[SegmentRow]
) -> tuple[FloatArray, FloatArray]:
    """Heads (neighbourhoods × segments) whose need per head ∝ `need`, and the residual factor.

    Each neighbourhood mixes a low- and a high-need profile; what the mix cannot reach
    (extremes, or a single segment) is returned as a multiplicative residual.
    """
    weight = np.array([s[2] for s in segments])
    low = np.array([s[3] for s in segments]) / sum(s[3] for s in segments)
    high = np.array([s[4] for s in segments]) / sum(s[4] for s in segments)
    w_low, w_high = float(low @ weight), float(high @ weight)
    mid = (w_low + w_high) / 2
    t = np.clip((need * mid - w_low) / max(w_high - w_low, 1e-12), 0.0, 1.0)
    heads = np.round(pop[:, None] * ((1 - t)[:, None] * low + t[:, None] * high))
    heads[:, 0] += np.round(pop) - heads.sum(axis=1)  # headcounts add up to the population
    reached = (heads @ weight) / np.maximum(heads.sum(axis=1), 1) / mid
    return heads, need / reached


def value_curves(
    providers: list[Doc],
    heads: FloatArray,
    hood_place: IntArray,
    place_ids: list[str],
    segments: list[SegmentRow],
    expected: FloatArray,
) -> list[Doc]:
    """Concave curves per segment × provider kind around this year's expected spend per head.

    Marginal cost per QALY is 0.6×, 1× and 1.6× the kind's rate (`GBP_PER_QALY`) on the
    pieces up to 0.6×, 1× and 1.4× today's spend; spend beyond adds nothing.
    """
    seg_ids = [s[0] for s in segments]
    place_at = {p: i for i, p in enumerate(place_ids)}
    seg_at = {s: j for j, s in enumerate(seg_ids)}
    place_wp = np.zeros((len(place_ids), len(seg_ids)))
    np.add.at(place_wp, hood_place, heads * np.array([s[2] for s in segments]))
    spend: dict[tuple[str, str], float] = {}
    for k, p in enumerate(providers):
        cols = [seg_at[s] for s in p["segment_ids"]]
        wp = place_wp[[place_at[x] for x in p["place_ids"]]][:, cols].sum(axis=0)
        for j, amount in zip(cols, expected[k] * wp / max(wp.sum(), 1e-9), strict=True):
            key = (seg_ids[j], ProviderKind(p["kind"]).value)
            spend[key] = spend.get(key, 0.0) + float(amount)
    seg_heads = heads.sum(axis=0)
    curves = []
    for (seg, kind), total in sorted(spend.items()):
        per_head = total / max(seg_heads[seg_at[seg]], 1.0) / 100  # £
        rate, value, last, points = GBP_PER_QALY[kind], 0.0, 0.0, []
        for knot, cost in ((0.6, 0.6 * rate), (1.0, rate), (1.4, 1.6 * rate)):
            value += (knot - last) * per_head / cost
            last = knot
            points.append(
                {"spend_per_head_pence": round(knot * per_head * 100), "value_per_head": value}
            )
        if points[0]["spend_per_head_pence"] > 0:
            curves.append({"segment_id": seg, "provider_kind": kind, "points": points})
    return curves


def _common(seg_ids: list[str]) -> Doc:
    """Risk sharing, volatilities, demand growth and place fair shares of every example."""
    overrides = [{"segment_id": s, "sd_share": v} for s, v in SEGMENT_SD.items() if s in seg_ids]
    growth = [
        {"segment_id": s, "growth_share": v} for s, v in DEMAND_GROWTH.items() if s in seg_ids
    ]
    return {
        "risk_share_agreements": RISK_SHARES,
        "outturn": {"segment_overrides": overrides},
        "demand_growth": growth,
        "fair_shares": [{"rule_id": "converge", "name": "Converge places to fair-share target"}],
    }


def ring_fences(funders: list[Doc], seg_ids: list[str]) -> list[Doc]:
    """Each funder's ring-fence by provider kind (`FUNDERS`); the BCF also by segment."""
    fences = []
    for f in funders:
        kinds = FUNDERS[f["funder_id"]][2] if f["funder_id"] in FUNDERS else ()
        if not kinds:
            continue
        fence: Doc = {"ringfence_id": f"{f['funder_id']}-fence", "funder_id": f["funder_id"]}
        fence["name"] = f"{f['name']} funds only {' and '.join(kinds)}".replace("_", " ")
        fence["provider_kinds"] = list(kinds)
        if f["funder_id"] == "BCF" and set(BCF_SEGMENTS) <= set(seg_ids):
            fence["segment_ids"] = list(BCF_SEGMENTS)
            fence["name"] += " for disability, limited reserve and frailty"
        fences.append(fence)
    return fences


def _people(hood_ids: list[str], seg_ids: list[str], heads: FloatArray, adjust: list[tuple[FloatArray, str]]) -> Doc:  # fmt: skip
    """Population rows (non-zero heads) and local adjustments (factors other than 1)."""
    return {
        "populations": [
            {
                "neighbourhood_id": hood_ids[n],
                "segment_id": seg_ids[j],
                "headcount": float(heads[n, j]),
            }
            for n, j in zip(*np.nonzero(heads > 0), strict=True)
        ],
        "local_adjustments": [
            {"neighbourhood_id": hood_ids[n], "factor": float(f), "reason": why}
            for values, why in adjust
            for n, f in enumerate(values)
            if f != 1.0
        ],
    }
