"""Seeded synthetic scenarios, one system up to national, valid and feasible by construction.

`generate_scenario("national", seed=1)` draws 42 systems and about 1,250 neighbourhoods
whose need indices follow NHS England's published PCN distribution (p5 0.83, median 1.00,
p95 1.20) with the real data's system / place / neighbourhood clustering. Last year's
money is split by need with historic noise (places up to about ±10% from target), the pot
grows 2–5%, and every rule sits inside what the money allows: floors below the growth,
capacities above the caps, fixed costs below the floors, ring-fenced money no more than
its eligible providers can take, minimum spends inside their providers' caps.

`realistic_scenario` builds the hand-set example ``data/realistic/realistic.json`` from the
figures at the end of this module (data/README.md says where each comes from).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.special import ndtr

from allocator.types import FloatArray, IntArray
from models import ProviderKind, Scenario

SizeName = Literal["system", "region", "national"]
Doc = dict[str, Any]
SegmentRow = tuple[str, str, float, float, float]
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
# fmt: on


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
# fmt: on


@dataclass(frozen=True)
class GeneratorConfig:
    """Counts of a generated scenario (places and neighbourhoods are means; totals are exact)."""

    systems: int = 1
    places_per_system: float = 5.0
    neighbourhoods_per_place: float = 10.0
    segments: int = 8
    providers_per_system: int = 20
    schemes_per_system: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.systems < 1 or self.places_per_system < 1 or self.neighbourhoods_per_place < 1:
            raise ValueError("systems, places per system and neighbourhoods per place must be ≥ 1")
        if self.segments < 1 or self.providers_per_system < 1 or self.schemes_per_system < 0:
            raise ValueError("segments and providers per system must be ≥ 1, schemes ≥ 0")


SIZES: dict[str, GeneratorConfig] = {
    "system": GeneratorConfig(1, 5, 10.0),  # 5 places, 50 neighbourhoods, 20 providers
    "region": GeneratorConfig(7, 5, 8.6),  # 35 places, 301 neighbourhoods, 140 providers
    "national": GeneratorConfig(42, 3, 1250 / 126),  # 126 places, 1,250 neighbourhoods, 840
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


def draw_need(rng: np.random.Generator, place_system: IntArray, hood_place: IntArray) -> FloatArray:
    """Need indices with the real data's marginal distribution and geographic clustering."""
    sd = np.array(NEED_SD)
    z = (
        rng.normal(0, sd[0], place_system.max() + 1)[place_system][hood_place]
        + rng.normal(0, sd[1], place_system.size)[hood_place]
        + rng.normal(0, sd[2], hood_place.size)
    )
    index: FloatArray = np.interp(ndtr(z / math.sqrt(float(sd @ sd))), NEED_PROBS, NEED_QUANTILES)
    return index


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


def _payment(rng: np.random.Generator, payment: str, base: int, cap: float) -> Doc:
    if payment in ("blended_uec", "blended_elective"):
        uec = payment == "blended_uec"
        fixed = base * (85 if uec else 80) // 100
        price = int(rng.integers(150_000, 250_000) if uec else rng.integers(250_000, 400_000))
        planned = round((base - fixed) / price, 1)
        rate = 0.2 if uec else 1.0
        return {"kind": "blended", "fixed_pence": fixed, "unit_price_pence": price,
                "planned_volume": planned, "variable_rate_share": rate, "two_sided": True}  # fmt: skip
    if payment in ("activity", "small"):
        price = 15_000 if payment == "small" else int(rng.integers(250_000, 350_000))
        planned = round(base / price, 1)
        most = math.ceil(planned * (1 + cap + 0.05))
        return {"kind": "activity", "unit_price_pence": price, "planned_volume": planned,
                "max_volume": most}  # fmt: skip
    return {"kind": payment}


def _roster(n_places: int, budget: int) -> list[tuple[Role, list[int]]]:
    """Roles in priority order; a per-place role with too few slots left serves all places.

    A budget beyond one pass adds more local providers (per-place roles, cycling).
    """
    out: list[tuple[Role, list[int]]] = []
    local = [r for r in ROSTER if r.per_place]
    for role in ROSTER:
        if len(out) >= budget:
            break
        if role.per_place and budget - len(out) >= n_places:
            out += [(role, [p]) for p in range(n_places)]
        else:
            out.append((role, list(range(n_places))))
    k = 0
    while len(out) < budget:
        out.append((local[k % len(local)], [k // len(local) % n_places]))
        k += 1
    return out


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


def _funders(
    providers: list[Doc], expected: FloatArray, reserve: float
) -> tuple[list[Doc], FloatArray]:
    """Funders sized from what providers are expected to get, grossed up for the reserve.

    Ring-fenced money is a share of its eligible providers' expected budgets (so it always
    fits); the BCF passes a disabled facilities grant (1% of baseline) to social care.
    Returns the funders and each provider's pass-through (pence).
    """
    kind = np.array([ProviderKind(p["kind"]).value for p in providers])
    base = np.array([p["baseline_pence"] for p in providers], dtype=np.float64)
    gp, asc, ph, chs = (kind == k for k in ("general_practice", "social_care", "public_health", "community"))  # fmt: skip
    dfg = np.where(asc, np.round(0.01 * base), 0.0)
    parts = {
        "DPC": 0.80 * expected[gp].sum(),
        "LA": 0.82 * expected[asc].sum(),
        "PH": 0.95 * expected[ph].sum(),
        "BCF": 0.06 * expected[asc].sum() + 0.10 * expected[chs].sum(),
    }
    parts = {"NHS": expected.sum() - sum(parts.values()) - dfg.sum()} | parts
    funders = []
    for fid, part in parts.items():
        through = dfg.sum() if fid == "BCF" else 0.0
        if part <= 0 and through == 0:
            continue
        name, kind_name, _ = FUNDERS[fid]
        funder: Doc = {"funder_id": fid, "name": name, "kind": kind_name}
        funder["amount_pence"] = math.ceil(part / (1 - reserve)) + int(through)
        if through:
            funder["pass_through"] = [
                {"provider_id": providers[k]["provider_id"], "amount_pence": int(dfg[k]),
                 "segment_id": "stable_disability" if "stable_disability" in providers[k]["segment_ids"] else None}
                for k in np.flatnonzero(dfg)
            ]  # fmt: skip
        funders.append(funder)
    return funders, dfg


def _place_band(
    base: FloatArray, target: FloatArray, place_system: IntArray, system_room: FloatArray
) -> float | None:
    """The narrowest lift-below-target band the money allows (None: no lift)."""
    for band in (0.05, 0.075, 0.10, 0.15):
        lower = np.maximum(base, np.where(base < (1 - band) * target, (1 - band) * target, 0))
        per_system = np.bincount(place_system, weights=lower, minlength=system_room.size)
        if lower.sum() <= 0.995 * target.sum() and np.all(per_system <= 0.99 * system_room):
            return band
    return None


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


def _split(rng: np.random.Generator, total: int, parts: int, minimum: int = 1) -> IntArray:
    """`total` split into `parts` counts ≥ `minimum`, with gamma-weighted variation."""
    weights = rng.gamma(4.0, size=parts)
    extra = rng.multinomial(total - parts * minimum, weights / weights.sum())
    return (minimum + extra).astype(np.int64)


def _geography(
    rng: np.random.Generator, n_sys: int, n_places: int, n_hoods: int
) -> tuple[IntArray, IntArray]:
    """Each place's system and each neighbourhood's place (positions), exact totals.

    Systems differ in size about as ICBs do (the smallest ≈ 40% of the average);
    bigger systems get more places, and every place at least one neighbourhood.
    """
    per_system = _split(rng, n_hoods, n_sys, max(1, int(0.4 * n_hoods / n_sys)))
    quota = per_system * n_places / n_hoods
    places = np.clip(np.floor(quota), 1, per_system).astype(np.int64)
    while places.sum() < n_places:
        places[np.argmax(np.where(places < per_system, quota - places, -np.inf))] += 1
    while places.sum() > n_places:
        places[np.argmax(np.where(places > 1, places - quota, -np.inf))] -= 1
    hoods = np.concatenate(
        [_split(rng, int(h), int(p)) for h, p in zip(per_system, places, strict=True)]
    )
    return np.repeat(np.arange(n_sys), places), np.repeat(np.arange(n_places), hoods)


def generate_scenario(size: SizeName | GeneratorConfig, seed: int | None = None) -> Scenario:
    """A valid, feasible scenario of a named size or custom counts; same seed, same scenario."""
    config = SIZES[size] if isinstance(size, str) else size
    seed = config.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    n_sys = config.systems
    n_places = max(n_sys, round(n_sys * config.places_per_system))
    n_hoods = max(n_places, round(n_places * config.neighbourhoods_per_place))
    place_system, hood_place = _geography(rng, n_sys, n_places, n_hoods)
    segments = segment_table(config.segments)
    seg_ids = [s[0] for s in segments]
    pop = np.clip(rng.lognormal(math.log(40_000), 0.18, n_hoods), 25_000, 70_000).round()
    need = draw_need(rng, place_system, hood_place)
    mff = np.round(rng.uniform(1.0, 1.05, n_places), 3)[hood_place]
    uplift = np.round(1 + np.clip((need - 1.1) * 0.3, 0, 0.04), 3)
    heads, residual = mix_population(pop, need / (mff * uplift), segments)
    residual = np.where(np.abs(residual - 1) > 0.002, np.round(residual, 4), 1.0)
    hood_wp = heads @ np.array([s[2] for s in segments]) * mff * uplift * residual
    share = np.bincount(hood_place, weights=hood_wp, minlength=n_places) / hood_wp.sum()

    growth = round(float(rng.uniform(0.02, 0.05)), 4)
    reserve = round(float(rng.uniform(0.005, 0.01)), 4)
    floor = min(float(rng.choice([0.0, 0.005, 0.01])), math.floor(growth * 500) / 1000)
    cap = round(growth + float(rng.uniform(0.04, 0.07)), 3)
    history = share * rng.uniform(0.92, 1.10, n_places)  # last year's shares, off target
    place_money = hood_wp.sum() * PENCE_PER_WEIGHTED_HEAD / (1 + growth) * history / history.sum()

    sys_ids = [f"S{i + 1:02d}" for i in range(n_sys)]
    place_ids = [f"{sys_ids[s]}P{j + 1}" for j, s in enumerate(place_system)]
    providers: list[Doc] = []
    roles: list[Role] = []
    prov_system: list[int] = []
    place_base = np.zeros(n_places)
    for s, sid in enumerate(sys_ids):
        local = np.flatnonzero(place_system == s)
        roster = _roster(local.size, config.providers_per_system)
        denom = np.zeros(local.size)
        for role, served in roster:
            denom[served] += role.share
        seen: dict[str, int] = {}
        for role, served in roster:
            part = place_money[local[served]] * role.share / denom[served]
            if role.payment == "small":
                part = np.minimum(part, 45_000_000)
            place_base[local[served]] += part
            base = round(float(part.sum()))
            where = place_ids[local[served[0]]] if len(served) == 1 and local.size > 1 else sid
            seen[f"{where}-{role.key}"] = n = seen.get(f"{where}-{role.key}", 0) + 1
            segs = [x for x in seg_ids if role.segments == ALL or x in role.segments] or seg_ids
            provider: Doc = {
                "provider_id": f"{where}-{role.key}" + (f"{n}" if n > 1 else ""),
                "name": f"{where} {role.name}",
                "kind": role.kind,
                "place_ids": [place_ids[p] for p in local[served]],
                "segment_ids": segs,
                "baseline_pence": base,
                "payment": _payment(rng, role.payment, base, cap),
                "risk_appetite_pence": round(base * float(rng.uniform(0.005, 0.02))),
            }
            if rng.random() < 0.7:
                provider["capacity_pence"] = math.ceil(base * (1 + cap + rng.uniform(0.01, 0.05)))
            if role.fixed_costs:
                provider["fixed_costs_pence"] = math.floor(base * rng.uniform(0.3, 0.8))
            if role.kind.value in AGREEMENT_OF:
                provider["risk_share_agreement_id"] = AGREEMENT_OF[role.kind.value]
            providers.append(provider)
            roles.append(role)
            prov_system.append(s)

    base_k = np.array([p["baseline_pence"] for p in providers], dtype=np.float64)
    fixed_k = np.array(
        [r.payment == "block" or (r.payment == "small" and b < M // 2) for r, b in zip(roles, base_k, strict=True)]
    )  # fmt: skip
    expected = np.where(fixed_k, base_k, base_k * (1 + growth))
    funders, passed = _funders(providers, expected, reserve)
    target = (expected.sum() - passed.sum()) * share
    sys_k = np.array(prov_system, dtype=np.int64)
    room = np.bincount(sys_k, np.where(fixed_k, base_k, base_k * (1 + cap)) - passed, n_sys)
    band = _place_band(place_base, target, place_system, room.astype(np.float64))
    kind_k = np.array([r.kind.value for r in roles])
    minimum_spends: list[Doc] = []
    for s, sid in enumerate(sys_ids):
        for kind, rule, rate, factor, name in (
            ("mental_health", "mhis", round(growth, 4), 1.0, "mental health investment standard"),
            ("social_care", "bcf-min", 0.0566, 0.10, "better care fund NHS minimum contribution"),
        ):
            mine = np.flatnonzero((sys_k == s) & (kind_k == kind))
            if mine.size:
                minimum_spends.append({
                    "rule_id": f"{sid}-{rule}", "name": f"{sid} {name}",
                    "provider_ids": [providers[k]["provider_id"] for k in mine], "funder_ids": ["NHS"],
                    "baseline_pence": round(factor * base_k[mine].sum()), "min_growth_share": rate,
                })  # fmt: skip
    hood_ids = [f"{place_ids[p]}N{n + 1:02d}" for n, p in enumerate(hood_place)]
    place_cap = max(floor, 0.01) + 0.005
    doc: Doc = {
        "scenario_id": f"generated-{n_sys}x{n_hoods}-seed{seed}",
        "name": f"Generated scenario: {n_sys} systems, {n_hoods} neighbourhoods (seed {seed})",
        "financial_year": "2025/26",
        "description": "Synthetic, seeded (allocator.generate); not a real system's figures.",
        "systems": [{"system_id": s, "name": f"Synthetic ICS {s}"} for s in sys_ids],
        "places": [
            {"place_id": p, "system_id": sys_ids[place_system[j]], "name": f"Place {p}",
             "baseline_pence": round(float(place_base[j]))}
            for j, p in enumerate(place_ids)
        ],
        "neighbourhoods": [{"neighbourhood_id": h, "place_id": place_ids[p]} for h, p in zip(hood_ids, hood_place, strict=True)],
        "segments": [{"segment_id": s[0], "name": s[1], "cost_weight": s[2]} for s in segments],
        "funders": funders,
        "ring_fences": ring_fences(funders, seg_ids),
        "minimum_spends": minimum_spends,
        "reserve": {"share": reserve},
        "providers": providers,
        "schemes": _schemes(rng, config.schemes_per_system, sys_ids, sys_k, providers, roles),
        "pace_of_change": [
            {"rule_id": "provider-pace", "name": f"Providers: at least {floor:+.1%}, at most {cap:+.1%}",
             "floor_growth_share": floor, "cap_growth_share": cap},
            {"rule_id": "place-pace", "level": "place", "floor_growth_share": 0.0, "cap_growth_share": place_cap,
             "name": f"Places: no cash cut; >5% over target at most {place_cap:+.1%}; far below target lifted",
             "cap_over_target_share": 0.05, "below_target_band_share": band},
        ],
        "value_curves": value_curves(providers, heads, hood_place, place_ids, segments, expected),
        **_common(seg_ids),
        **_people(hood_ids, seg_ids, heads, [(mff, "market forces factor"), (uplift, "inequalities uplift"),
                                             (residual, "need not captured by segments")]),
    }  # fmt: skip
    return Scenario.model_validate(doc)


def _schemes(
    rng: np.random.Generator,
    count: int,
    sys_ids: list[str],
    prov_system: IntArray,
    providers: list[Doc],
    roles: list[Role],
) -> list[Doc]:
    """Per system, cycle the templates: whole schemes (optional) and staffed units (one required)."""
    out: list[Doc] = []
    for s, sid in enumerate(sys_ids):
        mine = np.flatnonzero(prov_system == s)
        for j in range(count):
            key, name, host, segment, (lo, hi), most, least = SCHEME_TEMPLATES[
                j % len(SCHEME_TEMPLATES)
            ]
            p = providers[next((int(k) for k in mine if roles[k].key == host), int(mine[0]))]
            limit = 0.003 if least else 0.02  # required units stay inside the floor's headroom
            cost = min(int(rng.integers(lo, hi)), math.floor(p["baseline_pence"] * limit))
            if cost < 100:
                continue
            repeat = j // len(SCHEME_TEMPLATES)
            out.append({
                "scheme_id": f"{sid}-{key}" + (f"-{repeat + 1}" if repeat else ""),
                "name": f"{name} ({p['name']})", "provider_id": p["provider_id"],
                "place_id": p["place_ids"][int(rng.integers(len(p["place_ids"])))],
                "segment_id": segment if segment in p["segment_ids"] else p["segment_ids"][0],
                "cost_per_unit_pence": cost,
                "value_per_unit": round(cost / 100 / float(rng.uniform(9_000, 20_000)), 3),
                "max_units": most if most == 1 else int(rng.integers(most - 2, most + 3)),
                "min_units": least,
            })  # fmt: skip
    return out


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
