"""Each rule family binds in a small scenario, and the published pence match a hand calculation.

`tests.knockout` disables each family's rows in turn and runs these tests: every knockout
must make at least one of them fail. Where a stage holds an earlier optimum, the published
figure may sit a few pence inside the bound (the hold's tolerance), so those checks allow
pennies, never pounds.
"""

from __future__ import annotations

import pytest

from allocator.pipeline import solve_scenario
from allocator.publish.recheck import reconciliation_problems, rule_problems
from models import Scenario
from models.results import AllocationResult
from tests.rules.scenarios import convergence_document, scenario

PENNIES = 100  # at most £1 of stage-hold tolerance


def solved(name: str) -> tuple[Scenario, AllocationResult]:
    s = scenario(name)
    result = solve_scenario(s)
    assert result.feasible, result.status_detail
    assert reconciliation_problems(s, result) == []
    assert rule_problems(s, result) == []
    return s, result


def budget(result: AllocationResult, provider_id: str) -> int:
    return next(p.budget_pence for p in result.providers if p.provider_id == provider_id)


def place_of(result: AllocationResult, provider_id: str, place_id: str) -> int:
    line = next(p for p in result.providers if p.provider_id == provider_id)
    return line.by_place_pence.get(place_id, 0)


def test_capacity_caps_the_provider() -> None:
    # G2 would get £5.5m (its +10% cap); its capacity is £5.2m.
    _, result = solved("capacity")
    assert budget(result, "G2") == 520_000_000


def test_viability_funds_fixed_costs_or_nothing() -> None:
    # G1 gets £4.06m without the rule; funding it means at least its £4.2m fixed costs.
    _, result = solved("viability")
    assert budget(result, "G1") == 420_000_000


def test_block_contract_is_paid_its_amount() -> None:
    _, result = solved("block")
    assert budget(result, "G1") == 410_000_000


def test_activity_contract_is_capped_at_price_times_maximum_volume() -> None:
    # £10 × 520,000 = £5.2m, below the £5.5m pace cap.
    _, result = solved("activity")
    assert budget(result, "G2") == 520_000_000


def test_small_contract_exactly_at_the_threshold_is_a_block() -> None:
    _, result = solved("small_contract")
    assert budget(result, "G2") == 500_000_000


def test_blended_contract_pays_at_least_its_fixed_part() -> None:
    _, result = solved("blended")
    assert budget(result, "G1") == 430_000_000


def test_pace_floor_holds_the_provider_up() -> None:
    # G1's own floor: £4m × 1.05 = £4.2m, above the £4.06m it gets otherwise.
    _, result = solved("pace_floor")
    assert budget(result, "G1") == 420_000_000


def test_pace_cap_holds_the_provider_down() -> None:
    # The tiny example: G2 £5m × 1.1 = £5.5m and C £2m × 1.1 = £2.2m, both capped.
    _, result = solved_tiny()
    assert budget(result, "G2") == 550_000_000
    assert budget(result, "C") == 220_000_000


def solved_tiny() -> tuple[Scenario, AllocationResult]:
    from tests.rules.scenarios import tiny_document

    s = Scenario.model_validate(tiny_document())
    result = solve_scenario(s)
    assert result.feasible
    return s, result


def test_minimum_spend_holds_social_care_in_northtown() -> None:
    # Care at home spends £644,000 in Northtown without the rule; the minimum is £800,000.
    _, result = solved("minimum_spend")
    got = place_of(result, "C", "P1")
    assert 80_000_000 <= got <= 80_000_000 + PENNIES


def test_fair_share_band_holds_the_place_against_a_soft_minimum() -> None:
    # Top of the band: floor(£4,704,000 × 1.01) = £4,751,040 (the soft minimum wants £4.96m).
    _, result = solved("band")
    p1 = next(u for u in result.places if u.unit_id == "P1")
    top = 475_104_000
    assert top - PENNIES <= (p1.allocation_pence or 0) <= top
    breach = sum(line.breach_pence for line in result.rules if "care-north" in line.block)
    assert breach >= 90_000_000 - (top - 406_000_000) - PENNIES


def test_ring_fence_sends_the_council_money_to_social_care_only() -> None:
    # The council's £2.5m less its £50,000 reserve share all reaches Care at home.
    _, result = solved("ring_fence")
    council = {
        (f.provider_id, f.amount_pence)
        for f in result.flows
        if f.funder_id == "LA" and f.amount_pence
    }
    assert council == {("C", 245_000_000)}
    assert budget(result, "C") >= 245_000_000


def test_required_scheme_is_funded_to_its_minimum_units() -> None:
    _, result = solved("scheme_required")
    line = next(x for x in result.schemes if x.scheme_id == "X")
    assert (line.units_funded, line.cost_pence) == (2, 10_000_000)


@pytest.mark.parametrize("level", ["place", "system"])
def test_convergence_gives_the_over_target_unit_exactly_its_step(level: str) -> None:
    # £240m × 1.01 − 0.25 × (£240m − £200m) = £232.4m; the under-target unit gets £167.6m.
    s = Scenario.model_validate(convergence_document(level))
    result = solve_scenario(s)
    assert result.feasible, result.status_detail
    units = result.places if level == "place" else result.systems
    got = {u.unit_id: u.allocation_pence for u in units}
    first, second = ("P1", "P2") if level == "place" else ("S1", "S2")
    assert got == {first: 23_240_000_000, second: 16_760_000_000}
    assert rule_problems(s, result) == []
    assert reconciliation_problems(s, result) == []


def test_soft_convergence_gives_way_to_a_hard_band_and_reports_the_breach() -> None:
    # A hard ±5% band caps P1 at £210m, below its £232.4m step: the rule is breached by £22.4m.
    document = convergence_document("place", hard=False)
    document["fair_shares"].append(
        {"rule_id": "band", "level": "place", "form": "band", "band_share": 0.05}
    )
    result = solve_scenario(Scenario.model_validate(document))
    assert result.feasible, result.status_detail
    p1 = next(u for u in result.places if u.unit_id == "P1")
    # The stage holding the soft rules' optimum allows a relative tolerance: pounds on £210m.
    assert abs((p1.allocation_pence or 0) - 21_000_000_000) <= 10 * PENNIES
    breach = sum(line.breach_pence for line in result.rules if line.block.startswith("pace.floor"))
    assert abs(breach - 2_240_000_000) <= 10 * PENNIES
