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
from typing import Literal

import numpy as np
from scipy.special import ndtr

from allocator.synth.catalogue import (
    AGREEMENT_OF,
    ALL,
    FUNDERS,
    NEED_PROBS,
    NEED_QUANTILES,
    NEED_SD,
    PENCE_PER_WEIGHTED_HEAD,
    ROSTER,
    SCHEME_TEMPLATES,
    Doc,
    M,
    Role,
    _common,
    _people,
    mix_population,
    ring_fences,
    segment_table,
    value_curves,
)
from allocator.types import FloatArray, IntArray
from models import ProviderKind, Scenario

SizeName = Literal["system", "region", "national"]


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
