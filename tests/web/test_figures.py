"""The workspace's figures: money formatting and the Sankey's flows, which must conserve."""

from __future__ import annotations

from collections import defaultdict

import pytest

from allocator.pipeline import solve_scenario
from api.web.figures import gbp, gbp_m, percent, reconciliation, sankey_chart
from models.results import AllocationResult
from tests.web.workbooks import realistic


@pytest.fixture(scope="module")
def solved() -> AllocationResult:
    return solve_scenario(realistic())


def test_money_is_shown_exactly_or_in_millions() -> None:
    assert gbp(123_456_789) == "£1,234,567.89" and gbp(-5) == "−£0.05" and gbp(None) == "–"
    assert gbp_m(8_291_385_115) == "£82.9m" and gbp_m(-250_000_000) == "−£2.5m"
    assert gbp_m(-1) == "£0.0m"  # no "minus nothing"
    assert percent(-0.0159) == "-1.59%" and percent(None) == "–"


def test_every_sankey_node_passes_on_what_it_receives(solved: AllocationResult) -> None:
    _, flows = sankey_chart(solved)
    into: dict[str, int] = defaultdict(int)
    out_of: dict[str, int] = defaultdict(int)
    for source, target, pence in flows:
        out_of[source] += pence
        into[target] += pence
    for line in solved.pool:
        assert out_of[line.name] == line.contribution_pence
    assert into["Pooled budget"] == out_of["Pooled budget"] == solved.pot.pooled_pence
    for place in solved.places:
        assert into[place.name] == out_of[place.name] == place.allocation_pence
    for provider in solved.providers:
        assert into[provider.name] == provider.budget_pence
    assert into["Contingency reserve"] == solved.pot.reserve_pence


def test_the_certificate_holds_and_catches_a_penny_out(solved: AllocationResult) -> None:
    checks, problems = reconciliation(realistic(), solved)
    assert problems == [] and all(check.holds for check in checks)
    broken = solved.model_copy(
        update={"providers": [solved.providers[0].model_copy(update={"budget_pence":
                solved.providers[0].budget_pence + 1}), *solved.providers[1:]]}
    )  # fmt: skip
    checks, problems = reconciliation(realistic(), broken)
    assert problems and not all(check.holds for check in checks)
