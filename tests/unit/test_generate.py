"""The seeded generator and the realistic example: deterministic, valid, feasible, the right size."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from allocator.domain.arrays import ScenarioArrays
from allocator.domain.pot import pot_breakdown
from allocator.domain.targets import compute_targets
from allocator.synth.generator import SIZES, GeneratorConfig, generate_scenario
from allocator.synth.realistic import realistic_scenario
from models import PaceForm, PaymentKind, Scenario, UnitLevel

ROOT = Path(__file__).resolve().parents[2]
REALISTIC = ROOT / "data" / "realistic" / "realistic.json"


def provider_bounds(s: Scenario) -> dict[str, tuple[int, int, int]]:
    """(least, most, pass-through) of each provider's budget under the hard provider rules."""
    passed: dict[str, int] = defaultdict(int)
    for f in s.funders:
        for t in f.pass_through:
            passed[t.provider_id] += t.amount_pence
    out = {}
    for p in s.providers:
        pay = p.payment
        small = pay.kind in (PaymentKind.ACTIVITY, PaymentKind.BLENDED)
        if pay.kind is PaymentKind.BLOCK or (
            small and p.baseline_pence < s.small_contract_threshold_pence
        ):
            amount = getattr(pay, "amount_pence", None)
            fixed = p.baseline_pence if amount is None else amount
            out[p.provider_id] = (fixed, fixed, passed[p.provider_id])
            continue
        lo, hi = passed[p.provider_id], p.capacity_pence if p.capacity_pence is not None else 10**15
        for rule in s.pace_of_change:
            if rule.level is UnitLevel.PROVIDER and p.provider_id in (
                rule.provider_ids or [p.provider_id]
            ):
                if rule.floor_growth_share is not None:
                    lo = max(lo, math.ceil(p.baseline_pence * (1 + rule.floor_growth_share) - 1e-6))
                if rule.cap_growth_share is not None:
                    hi = min(hi, math.floor(p.baseline_pence * (1 + rule.cap_growth_share) + 1e-6))
        if pay.kind is PaymentKind.ACTIVITY and pay.max_volume is not None:
            hi = min(hi, math.floor(pay.unit_price_pence * pay.max_volume))
        if pay.kind is PaymentKind.BLENDED:
            lo = max(lo, pay.fixed_pence)
        required = sum(
            j.min_units * j.cost_per_unit_pence for j in s.schemes if j.provider_id == p.provider_id
        )
        lo = max(lo, passed[p.provider_id] + required, p.fixed_costs_pence if lo > 0 else 0)
        out[p.provider_id] = (lo, hi, passed[p.provider_id])
    return out


def feasibility_problems(s: Scenario) -> list[str]:
    """Necessary conditions for feasibility, by arithmetic (the solver is the full check)."""
    problems: list[str] = []
    pot = pot_breakdown(s)
    money = pot.capitated_pence + pot.pass_through_pence
    bounds = provider_bounds(s)
    for pid, (lo, hi, _) in bounds.items():
        if lo > hi:
            problems.append(f"{pid}: least budget {lo} above most {hi}")
    if sum(b[0] for b in bounds.values()) > money:
        problems.append("floors and commitments exceed the money")
    if sum(b[1] for b in bounds.values()) < money:
        problems.append("caps leave money unspendable")
    kinds = {p.provider_id: p.kind for p in s.providers}
    segs = {p.provider_id: set(p.segment_ids) for p in s.providers}
    allocated = {
        f: pot.pooled_by_funder_pence[f] - pot.reserve_by_funder_pence[f]
        for f in pot.pooled_by_funder_pence
    }
    eligible: dict[str, set[str]] = defaultdict(set)
    for fence in s.ring_fences:
        for pid in kinds:
            if (kinds[pid] in fence.provider_kinds or pid in fence.provider_ids) and (
                not fence.segment_ids or segs[pid] & set(fence.segment_ids)
            ):
                eligible[fence.funder_id].add(pid)
    for fid, pids in eligible.items():
        room = sum(bounds[p][1] - bounds[p][2] for p in pids)
        if allocated[fid] > room:
            problems.append(f"ring-fenced {fid}: {allocated[fid]} > eligible room {room}")
    for rule in s.minimum_spends:
        pids = {p for p in kinds if kinds[p] in rule.provider_kinds or p in rule.provider_ids}
        fenced_inside = sum(allocated[f] for f, e in eligible.items() if e and e <= pids)
        room = sum(bounds[p][1] - bounds[p][2] for p in pids)
        if rule.required_pence(s.funders) + fenced_inside > room:
            problems.append(
                f"minimum {rule.rule_id}: {rule.required_pence(s.funders)} + fenced {fenced_inside} > {room}"
            )
    # Places: lower and upper bounds of the place-level pace rules, per system and overall.
    arrays = ScenarioArrays.from_scenario(s)
    target = compute_targets(arrays).places.target_pence.astype(float)
    base = np.array([p.baseline_pence or 0 for p in s.places], dtype=float)
    lower, upper = np.zeros(base.size), np.full(base.size, np.inf)
    for rule in s.pace_of_change:
        if rule.level is not UnitLevel.PLACE or rule.form is not PaceForm.FLOOR_AND_CAP:
            continue
        if rule.floor_growth_share is not None:
            lower = np.maximum(lower, np.ceil(base * (1 + rule.floor_growth_share)))
        over = (base - target) / target > (rule.cap_over_target_share or -1)
        if rule.cap_growth_share is not None:
            upper = np.where(over, np.minimum(upper, base * (1 + rule.cap_growth_share)), upper)
        if rule.below_target_band_share is not None:
            lift = np.ceil(target * (1 - rule.below_target_band_share))
            lower = np.where(base < lift, np.maximum(lower, lift), lower)
    if np.any(lower > upper):
        problems.append("a place's lower bound is above its upper bound")
    place_at = {p: i for i, p in enumerate(arrays.place_ids)}
    system_of = arrays.place_system
    n_sys = len(arrays.system_ids)
    sys_room = np.zeros(n_sys)
    local_floor = np.zeros(base.size)
    for p in s.providers:
        lo, hi, through = bounds[p.provider_id]
        sys_room[system_of[place_at[p.place_ids[0]]]] += hi - through
        if len(p.place_ids) == 1:
            local_floor[place_at[p.place_ids[0]]] += lo - through
    if np.any(local_floor > upper):
        problems.append("single-place providers' floors exceed a capped place")
    sys_lower = np.bincount(system_of, weights=lower, minlength=n_sys)
    sys_upper = np.bincount(system_of, weights=upper, minlength=n_sys)
    if np.any(sys_lower > sys_room) or lower.sum() > pot.capitated_pence:
        problems.append("place lower bounds exceed the money")
    if np.minimum(sys_upper, sys_room).sum() < pot.capitated_pence:
        problems.append("place and provider caps leave money unspendable")
    return problems


def validation_blocking(s: Scenario) -> list[str]:
    from allocator.validate import validate_scenario

    return [f"{i.where()}: {i.message}" for i in validate_scenario(s)]


# -- the realistic example --------------------------------------------------------------


def test_realistic_json_is_what_the_builder_writes() -> None:
    built = realistic_scenario()
    stored = Scenario.model_validate_json(REALISTIC.read_text())
    assert stored.content_hash() == built.content_hash()


def test_realistic_headline_figures() -> None:
    s = realistic_scenario()
    arrays = ScenarioArrays.from_scenario(s)
    assert arrays.headcount.sum() == 1_100_000
    assert (len(s.places), len(s.neighbourhoods), len(s.segments), len(s.funders)) == (3, 25, 8, 5)
    assert 15 <= len(s.providers) <= 18
    assert {p.kind.value for p in s.providers} >= {
        "acute", "community", "mental_health", "general_practice", "social_care",
        "voluntary", "hospice", "ambulance", "public_health",
    }  # fmt: skip
    assert {p.payment.kind for p in s.providers} == set(PaymentKind)
    per_head = s.funders[0].amount_pence / 100 / 1_100_000
    assert 2_000 < per_head < 2_200
    neighbourhood = compute_targets(arrays).neighbourhoods
    assert neighbourhood.headcount.min() >= 30_000
    assert neighbourhood.headcount.max() <= 50_000
    assert 0.80 < neighbourhood.need_index.min() < 0.87
    assert 1.17 < neighbourhood.need_index.max() < 1.24
    baselines = sum(p.baseline_pence for p in s.providers)
    assert 1.02 < s.total_funding_pence() / baselines < 1.05


def test_realistic_is_valid_and_feasible_by_arithmetic() -> None:
    s = realistic_scenario()
    assert validation_blocking(s) == []
    assert feasibility_problems(s) == []


def test_realistic_place_rules_bite() -> None:
    """Westvale is more than 5% over target (capped), Northbridge more than 5% below (lifted)."""
    s = realistic_scenario()
    places = compute_targets(ScenarioArrays.from_scenario(s)).places
    distance = places.distance_from_target(np.array([p.baseline_pence for p in s.places]))
    assert distance[2] > 0.05
    assert distance[0] < -0.05


# -- the generator -------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["system", "region", "national"])
def test_sizes_are_valid_and_feasible(size: str) -> None:
    s = generate_scenario(size, seed=7)  # type: ignore[arg-type]
    config = SIZES[size]
    hoods = round(config.systems * config.places_per_system * config.neighbourhoods_per_place)
    assert len(s.systems) == config.systems
    assert len(s.neighbourhoods) == hoods
    assert len(s.providers) == config.systems * config.providers_per_system
    assert len(s.segments) == 8
    assert len(s.funders) == 5
    assert validation_blocking(s) == []
    assert feasibility_problems(s) == []


def test_same_seed_same_scenario_other_seed_other() -> None:
    a, b = generate_scenario("system", 3), generate_scenario("system", 3)
    assert a.content_hash() == b.content_hash()
    assert generate_scenario("system", 4).content_hash() != a.content_hash()


@pytest.mark.parametrize("seed", range(8))
def test_many_seeds_are_feasible_by_arithmetic(seed: int) -> None:
    s = generate_scenario("region", seed)
    assert feasibility_problems(s) == []


def test_national_need_dispersion_matches_the_published_data() -> None:
    s = generate_scenario("national", 1)
    targets = compute_targets(ScenarioArrays.from_scenario(s))
    index = targets.neighbourhoods.need_index
    p5, p50, p95 = np.quantile(index, [0.05, 0.5, 0.95])
    assert 0.80 < p5 < 0.87
    assert 0.96 < p50 < 1.04
    assert 1.15 < p95 < 1.25
    systems = targets.systems.need_index
    assert systems.min() > 0.82
    assert systems.max() < 1.2
    assert systems.std() > 0.03


def test_national_places_over_and_under_target() -> None:
    s = generate_scenario("national", 1)
    places = compute_targets(ScenarioArrays.from_scenario(s)).places
    distance = places.distance_from_target(np.array([p.baseline_pence for p in s.places]))
    assert distance.min() < -0.05
    assert distance.max() > 0.0
    assert np.abs(distance).max() < 0.16


@pytest.mark.parametrize(
    "config",
    [
        GeneratorConfig(systems=2, places_per_system=1, neighbourhoods_per_place=3, segments=1,
                        providers_per_system=3, schemes_per_system=0),
        GeneratorConfig(systems=3, places_per_system=2, neighbourhoods_per_place=4, segments=10,
                        providers_per_system=30, schemes_per_system=6, seed=5),
        GeneratorConfig(systems=1, places_per_system=8, neighbourhoods_per_place=2, segments=4,
                        providers_per_system=12),
    ],
)  # fmt: skip
def test_custom_counts(config: GeneratorConfig) -> None:
    s = generate_scenario(config)
    assert len(s.systems) == config.systems
    assert len(s.segments) == config.segments
    assert len(s.providers) == config.systems * config.providers_per_system
    assert validation_blocking(s) == []
    assert feasibility_problems(s) == []


def test_written_json_round_trips(tmp_path: Path) -> None:
    from allocator.io.load import load_scenario
    from cli.generate import write_scenario

    s = generate_scenario("system", 2)
    path = tmp_path / "s.json"
    write_scenario(s, path)
    assert load_scenario(path).content_hash() == s.content_hash()
    assert load_scenario(REALISTIC).content_hash() == realistic_scenario().content_hash()


def _hard_rules_feasible(s: Scenario) -> bool:
    """Every hard rule of the optimiser's own formulation holds at once (HiGHS via scipy)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    formulate = pytest.importorskip("allocator.formulation.formulate").formulate
    p = formulate(s).program
    result = milp(
        c=np.zeros(p.num_cols),
        constraints=LinearConstraint(p.a, p.row_lo, p.row_hi),
        bounds=Bounds(p.col_lo, p.col_hi),
        integrality=p.is_integer.astype(int),
        options={"time_limit": 60},
    )
    return bool(result.status == 0)


@pytest.mark.parametrize(
    "build",
    [
        realistic_scenario,
        lambda: generate_scenario("system", 0),
        lambda: generate_scenario("system", 11),
        lambda: generate_scenario("region", 1),
        lambda: generate_scenario(GeneratorConfig(systems=3, places_per_system=2, segments=10,
                                                  providers_per_system=30, schemes_per_system=6)),
    ],
    ids=["realistic", "system-0", "system-11", "region-1", "custom"],
)  # fmt: skip
def test_formulation_is_feasible(build: Callable[[], Scenario]) -> None:
    assert _hard_rules_feasible(build())
