"""The mental health investment standard tied to its base: last year's eligible spend grown at
the funder's recurrent allocation growth, ⌈baseline × recurrent ÷ last year's recurrent⌉."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from allocator.batch.multiyear import roll_forward
from allocator.errors import ScenarioInvalid
from allocator.io.excel import read_workbook, write_workbook
from allocator.io.load import load_scenario
from allocator.pipeline import solve_scenario
from allocator.publish.spend import matching_spend_pence
from allocator.validate import blocking, validate_scenario
from cli.app import app
from models import Scenario
from models.funding import Funder, MinimumSpend
from tests.conftest import DATA


def _nhs(last_year: int | None, recurrent: int | None) -> Funder:
    return Funder(
        funder_id="NHS",
        amount_pence=10**12,
        last_year_recurrent_pence=last_year,
        recurrent_pence=recurrent,
    )


def _standard(baseline: int, **extra: Any) -> MinimumSpend:
    return MinimumSpend(
        rule_id="mhis", baseline_pence=baseline, growth_from_recurrent="NHS", **extra
    )


def test_minimum_is_the_base_grown_at_the_recurrent_growth() -> None:
    # Recurrent £500m -> £530m is 6% growth; £60m of eligible spend last year -> £63.6m.
    funders = [_nhs(50_000_000_000, 53_000_000_000)]
    assert _standard(6_000_000_000).required_pence(funders) == 6_360_000_000
    # £1,000,000.01 × 1.06 = £1,060,000.0106, rounded up to £1,060,000.02.
    assert _standard(100_000_001).required_pence(funders) == 106_000_002
    line = _standard(6_000_000_000).derivation(funders)
    assert line == (
        "baseline £60,000,000.00 × NHS recurrent £530,000,000.00 ÷ last year "
        "£500,000,000.00, rounded up"
    )


def test_exact_integer_arithmetic_where_a_float_would_round() -> None:
    # 7 × 10**14 × 3 ÷ 7 is exactly 3 × 10**14; floats drift at this size.
    funders = [_nhs(7 * 10**13, 3 * 10**13)]
    assert _standard(7 * 10**14).required_pence(funders) == 3 * 10**14
    # A fall in the recurrent allocation lowers the minimum: ⌈999 × 2 ÷ 3⌉ = 666.
    assert _standard(999).required_pence([_nhs(3, 2)]) == 666
    assert _standard(1000).required_pence([_nhs(3, 2)]) == 667


def _tiny(baseline: int, **rule: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / "tiny" / "tiny.json").read_text())
    # NHS recurrent allocation £9,000,000.00 last year, £9,540,000.00 this year: +6%.
    doc["funders"][0]["last_year_recurrent_pence"] = 900_000_000
    doc["funders"][0]["recurrent_pence"] = 954_000_000
    doc["minimum_spends"] = [
        {
            "rule_id": "mhis",
            "name": "G1 stands in for the mental health providers",
            "funder_ids": ["NHS"],
            "provider_ids": ["G1"],
            "baseline_pence": baseline,
            "growth_from_recurrent": "NHS",
            **rule,
        }
    ]
    return doc


def test_standard_binds_and_the_published_spend_is_exactly_the_minimum() -> None:
    # Unconstrained, G1 gets £4,060,000.00. Its eligible spend last year was £4,000,000.00;
    # grown 6% the minimum is £4,240,000.00, within G1's +10% cap of £4,400,000.00, so G1 is
    # lifted to exactly that.
    scenario = Scenario.model_validate(_tiny(400_000_000))
    result = solve_scenario(scenario)
    assert result.feasible, result.status_detail
    assert {p.provider_id: p.budget_pence for p in result.providers}["G1"] == 424_000_000
    assert matching_spend_pence(scenario.minimum_spends[0], scenario, result) == 424_000_000
    [line] = result.minimum_spends
    assert (line.rule_id, line.required_pence, line.published_pence, line.binding) == (
        "mhis",
        424_000_000,
        424_000_000,
        True,
    )
    assert line.derivation == (
        "baseline £4,000,000.00 × NHS recurrent £9,540,000.00 ÷ last year £9,000,000.00, rounded up"
    )


def test_standard_below_the_unconstrained_spend_does_not_bind() -> None:
    # £3,800,000.00 × 1.06 = £4,028,000.00, below G1's unconstrained £4,060,000.00.
    scenario = Scenario.model_validate(_tiny(380_000_000))
    result = solve_scenario(scenario)
    [line] = result.minimum_spends
    assert (line.required_pence, line.published_pence, line.binding) == (
        402_800_000,
        406_000_000,
        False,
    )


def test_standard_above_what_can_be_spent_is_diagnosed_by_how_much() -> None:
    # £4,200,000.00 × 1.06 = £4,452,000.00, but G1 may get at most £4,400,000.00: the
    # standard must come down by £52,000.00.
    result = solve_scenario(Scenario.model_validate(_tiny(420_000_000)))
    assert not result.feasible
    assert result.infeasibility is not None
    [change] = result.infeasibility.least_change
    assert (change.block, change.amount_pence, change.bound_pence) == (
        "minspend.mhis",
        5_200_000,
        445_200_000,
    )
    assert result.minimum_spends[0].required_pence == 445_200_000
    assert result.minimum_spends[0].published_pence is None


def _located(doc: dict[str, Any]) -> dict[str, str]:
    issues = blocking(validate_scenario(Scenario.model_validate(doc)))
    return {issue.path(): issue.message for issue in issues}


def test_unknown_funder_is_located() -> None:
    found = _located(_tiny(400_000_000, growth_from_recurrent="NHSS"))
    message = found["minimum_spends[0].growth_from_recurrent"]
    assert "'mhis'" in message and "unknown funder 'NHSS'" in message and "'NHS'" in message


def test_funder_without_recurrent_figures_is_located() -> None:
    doc = _tiny(400_000_000, growth_from_recurrent="LA")
    message = _located(doc)["minimum_spends[0].growth_from_recurrent"]
    assert "'mhis'" in message and "funder 'LA' has no recurrent figures" in message
    with pytest.raises(ScenarioInvalid):
        solve_scenario(Scenario.model_validate(doc))


def test_growth_stated_two_ways_is_located() -> None:
    found = _located(_tiny(400_000_000, min_growth_share=0.05))
    assert "one way of stating growth" in found["minimum_spends[0].min_growth_share"]


def test_growth_from_recurrent_needs_a_baseline() -> None:
    doc = _tiny(400_000_000)
    rule = doc["minimum_spends"][0]
    rule["minimum_pence"], rule["baseline_pence"] = rule["baseline_pence"], None
    assert "give baseline_pence" in _located(doc)["minimum_spends[0].growth_from_recurrent"]


@pytest.mark.parametrize(
    ("figures", "path", "fragment"),
    [
        ({"recurrent_pence": None}, "funders[0].recurrent_pence", "give both or neither"),
        (
            {"last_year_recurrent_pence": None},
            "funders[0].last_year_recurrent_pence",
            "give both or neither",
        ),
        (
            {"last_year_recurrent_pence": 0},
            "funders[0].last_year_recurrent_pence",
            "last year's recurrent allocation is 0",
        ),
    ],
)
def test_funder_recurrent_figures_are_both_or_neither(
    figures: dict[str, int | None], path: str, fragment: str
) -> None:
    doc = _tiny(400_000_000)
    doc["funders"][0].update(figures)
    found = _located(doc)
    assert fragment in found[path]
    assert "minimum_spends[0].growth_from_recurrent" in found  # and the rule is told why


def test_next_year_is_based_on_this_years_published_eligible_spend() -> None:
    # Year 1 publishes G1's eligible spend at £4,240,000.00. Year 2: that is the base, last
    # year's recurrent is £9,540,000.00, this year's grows 2% with the pot to £9,730,800.00,
    # so the minimum is £4,240,000.00 × 1.02 = £4,324,800.00.
    scenario = Scenario.model_validate(_tiny(400_000_000))
    result = solve_scenario(scenario)
    rolled = roll_forward(scenario, result, pot_growth=0.02, demand_growth={}, uplift=0.02, year=2)
    nhs = rolled.funders[0]
    assert (nhs.last_year_recurrent_pence, nhs.recurrent_pence) == (954_000_000, 973_080_000)
    rule = rolled.minimum_spends[0]
    assert (rule.baseline_pence, rule.growth_from_recurrent) == (424_000_000, "NHS")
    assert rule.min_growth_share == 0.0
    assert rule.required_pence(rolled.funders) == 432_480_000
    assert blocking(validate_scenario(rolled)) == []


def test_workbook_round_trip_keeps_the_recurrent_columns(tmp_path: Path) -> None:
    scenario = Scenario.model_validate(_tiny(400_000_000))
    path = tmp_path / "mhis.xlsx"
    write_workbook(scenario, path)
    back, issues = read_workbook(path)
    assert issues == []
    assert back == scenario
    assert back is not None and back.content_hash() == scenario.content_hash()


def test_scenarios_without_recurrent_figures_hash_as_before() -> None:
    # The blank recurrent fields are left out of the canonical JSON.
    doc = json.loads((DATA / "tiny" / "tiny.json").read_text())
    canonical = Scenario.model_validate(doc).canonical_json()
    assert "recurrent" not in canonical
    doc["funders"][0]["recurrent_pence"] = 1
    assert '"recurrent_pence":1' in Scenario.model_validate(doc).canonical_json()


def test_cli_solve_prints_each_minimum_with_its_derivation(tmp_path: Path) -> None:
    path = tmp_path / "mhis.json"
    path.write_text(json.dumps(_tiny(400_000_000)))
    done = CliRunner().invoke(app, ["solve", str(path)], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    assert "Minimum spends" in text and "£4,240,000.00" in text
    assert "× NHS recurrent £9,540,000.00 ÷ last year £9,000,000.00" in text


def test_convert_keeps_the_content_hash_of_a_recurrent_scenario(tmp_path: Path) -> None:
    source, xlsx, back = tmp_path / "mhis.json", tmp_path / "mhis.xlsx", tmp_path / "back.json"
    source.write_text(json.dumps(_tiny(400_000_000)))
    original = load_scenario(source).content_hash()
    runner = CliRunner()
    assert runner.invoke(app, ["convert", str(source), str(xlsx)]).exit_code == 0
    assert runner.invoke(app, ["convert", str(xlsx), str(back)]).exit_code == 0
    rolled_back = json.loads(back.read_text())
    assert rolled_back["funders"][0]["recurrent_pence"] == 954_000_000
    assert rolled_back["minimum_spends"][0]["growth_from_recurrent"] == "NHS"
    assert load_scenario(back).content_hash() == original
