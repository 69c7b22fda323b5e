"""Validation: each check finds its problem, located; parse and semantic issues come together."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from allocator.errors import Issue, ScenarioInvalid
from allocator.io.document import parse_document
from allocator.io.load import UNREADABLE, load_and_validate, load_scenario
from allocator.validate import (
    WARNING,
    blocking,
    issues_from_validation_error,
    validate_scenario,
    warnings,
)
from cli.app import app
from models import Provider, Scenario
from tests.conftest import DATA
from tests.unit.conftest import find

Doc = dict[str, Any]
INVALID = DATA / "invalid"


def _validate(doc: Doc) -> list[Issue]:
    return validate_scenario(Scenario.model_validate(doc))


def test_the_tiny_example_has_no_issues(tiny: Scenario) -> None:
    assert validate_scenario(tiny) == []


def _provider(pid: str, **extra: Any) -> Doc:
    base: Doc = {
        "provider_id": pid,
        "kind": "community",
        "place_ids": ["P1"],
        "segment_ids": ["well"],
        "baseline_pence": 1_000,
    }
    return {**base, **extra}


def _scheme(**extra: Any) -> Doc:
    base: Doc = {
        "scheme_id": "hub",
        "provider_id": "C",
        "place_id": "P1",
        "segment_id": "frail",
        "cost_per_unit_pence": 1_000,
        "value_per_unit": 1.0,
    }
    return {**base, **extra}


def _curve(*points: tuple[int, float]) -> Doc:
    return {
        "segment_id": "frail",
        "provider_kind": "social_care",
        "points": [{"spend_per_head_pence": s, "value_per_head": v} for s, v in points],
    }


def _dup(table: str, index: int = 0) -> Callable[[Doc], None]:
    def edit(doc: Doc) -> None:
        doc[table].append(dict(doc[table][index]))

    return edit


def _set(*path: str | int, value: Any) -> Callable[[Doc], None]:
    def edit(doc: Doc) -> None:
        node: Any = doc
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return edit


def _append(table: str, row: Doc) -> Callable[[Doc], None]:
    def edit(doc: Doc) -> None:
        doc.setdefault(table, []).append(row)

    return edit


def _many(*edits: Callable[[Doc], None]) -> Callable[[Doc], None]:
    def edit(doc: Doc) -> None:
        for e in edits:
            e(doc)

    return edit


AGREEMENT = {"agreement_id": "RS1", "overspend_bands": [{"provider_share": 0.5}]}
BLOCKING_CASES: list[tuple[str, Callable[[Doc], None], tuple[str | int, ...], str]] = [
    # duplicate ids and rows
    ("dup system", _dup("systems"), ("systems", 1, "system_id"), "duplicate system id"),
    ("dup place", _dup("places"), ("places", 2, "place_id"), "duplicate place id 'P1'"),
    (
        "dup neighbourhood",
        _dup("neighbourhoods"),
        ("neighbourhoods", 2, "neighbourhood_id"),
        "duplicate",
    ),
    ("dup segment", _dup("segments"), ("segments", 2, "segment_id"), "duplicate segment id"),
    ("dup funder", _dup("funders"), ("funders", 2, "funder_id"), "duplicate funder id"),
    ("dup provider", _dup("providers"), ("providers", 3, "provider_id"), "duplicate provider id"),
    (
        "dup scheme",
        _many(_append("schemes", _scheme()), _append("schemes", _scheme())),
        ("schemes", 1, "scheme_id"),
        "duplicate scheme id",
    ),
    (
        "dup ring-fence",
        _dup("ring_fences"),
        ("ring_fences", 1, "ringfence_id"),
        "duplicate ring-fence id",
    ),
    (
        "dup pace rule",
        _dup("pace_of_change"),
        ("pace_of_change", 1, "rule_id"),
        "duplicate pace-of-change rule id",
    ),
    (
        "dup fair share",
        _dup("fair_shares"),
        ("fair_shares", 1, "rule_id"),
        "duplicate fair-share rule id",
    ),
    (
        "dup minimum spend",
        _many(
            _append("minimum_spends", {"rule_id": "m", "minimum_pence": 1}),
            _append("minimum_spends", {"rule_id": "m", "minimum_pence": 2}),
        ),
        ("minimum_spends", 1, "rule_id"),
        "duplicate minimum-spend rule id",
    ),
    (
        "dup agreement",
        _many(
            _append("risk_share_agreements", AGREEMENT), _append("risk_share_agreements", AGREEMENT)
        ),
        ("risk_share_agreements", 1, "agreement_id"),
        "duplicate risk-share agreement id",
    ),
    ("dup population", _dup("populations", 1), ("populations", 4), "neighbourhood × segment"),
    ("dup value curve", _dup("value_curves"), ("value_curves", 2), "segment × provider kind"),
    (
        "dup demand growth",
        _many(
            _append("demand_growth", {"segment_id": "well", "growth_share": 0.01}),
            _append("demand_growth", {"segment_id": "well", "growth_share": 0.02}),
        ),
        ("demand_growth", 1, "segment_id"),
        "duplicate",
    ),
    (
        "dup volatility",
        _set(
            "outturn",
            value={
                "segment_overrides": [
                    {"segment_id": "well", "sd_share": 0.1},
                    {"segment_id": "well", "sd_share": 0.2},
                ]
            },
        ),
        ("outturn", "segment_overrides", 1, "segment_id"),
        "duplicate",
    ),
    # unknown references
    (
        "place system",
        _set("places", 1, "system_id", value="S9"),
        ("places", 1, "system_id"),
        "unknown system 'S9'",
    ),
    (
        "neighbourhood place",
        _set("neighbourhoods", 0, "place_id", value="P9"),
        ("neighbourhoods", 0, "place_id"),
        "unknown place 'P9'",
    ),
    (
        "population neighbourhood",
        _set("populations", 0, "neighbourhood_id", value="N9"),
        ("populations", 0, "neighbourhood_id"),
        "unknown neighbourhood",
    ),
    (
        "population segment",
        _set("populations", 0, "segment_id", value="wel"),
        ("populations", 0, "segment_id"),
        "did you mean 'well'",
    ),
    (
        "adjustment neighbourhood",
        _set("local_adjustments", 0, "neighbourhood_id", value="N7"),
        ("local_adjustments", 0, "neighbourhood_id"),
        "unknown neighbourhood",
    ),
    (
        "growth segment",
        _append("demand_growth", {"segment_id": "x", "growth_share": 0.01}),
        ("demand_growth", 0, "segment_id"),
        "unknown segment",
    ),
    (
        "pass-through provider",
        _set("funders", 0, "pass_through", value=[{"provider_id": "Z", "amount_pence": 1}]),
        ("funders", 0, "pass_through", 0, "provider_id"),
        "unknown provider",
    ),
    (
        "pass-through segment",
        _set(
            "funders",
            0,
            "pass_through",
            value=[{"provider_id": "C", "segment_id": "Z", "amount_pence": 1}],
        ),
        ("funders", 0, "pass_through", 0, "segment_id"),
        "unknown segment",
    ),
    (
        "ring-fence funder",
        _set("ring_fences", 0, "funder_id", value="XX"),
        ("ring_fences", 0, "funder_id"),
        "unknown funder",
    ),
    (
        "ring-fence segments",
        _set("ring_fences", 0, "segment_ids", value=["frail", "Q"]),
        ("ring_fences", 0, "segment_ids", 1),
        "unknown segment",
    ),
    (
        "ring-fence providers",
        _set("ring_fences", 0, "provider_ids", value=["Q"]),
        ("ring_fences", 0, "provider_ids", 0),
        "unknown provider",
    ),
    (
        "min-spend providers",
        _append("minimum_spends", {"rule_id": "m", "minimum_pence": 1, "provider_ids": ["Q"]}),
        ("minimum_spends", 0, "provider_ids", 0),
        "unknown provider",
    ),
    (
        "min-spend segments",
        _append("minimum_spends", {"rule_id": "m", "minimum_pence": 1, "segment_ids": ["Q"]}),
        ("minimum_spends", 0, "segment_ids", 0),
        "unknown segment",
    ),
    (
        "min-spend places",
        _append("minimum_spends", {"rule_id": "m", "minimum_pence": 1, "place_ids": ["Q"]}),
        ("minimum_spends", 0, "place_ids", 0),
        "unknown place",
    ),
    (
        "min-spend funders",
        _append("minimum_spends", {"rule_id": "m", "minimum_pence": 1, "funder_ids": ["Q"]}),
        ("minimum_spends", 0, "funder_ids", 0),
        "unknown funder",
    ),
    (
        "provider places",
        _set("providers", 2, "place_ids", value=["P1", "P3"]),
        ("providers", 2, "place_ids", 1),
        "unknown place 'P3'",
    ),
    (
        "provider segments",
        _set("providers", 2, "segment_ids", value=["Q"]),
        ("providers", 2, "segment_ids", 0),
        "unknown segment",
    ),
    (
        "provider agreement",
        _set("providers", 2, "risk_share_agreement_id", value="RS9"),
        ("providers", 2, "risk_share_agreement_id"),
        "unknown risk-share agreement",
    ),
    (
        "scheme provider",
        _append("schemes", _scheme(provider_id="Q")),
        ("schemes", 0, "provider_id"),
        "unknown provider",
    ),
    (
        "scheme place",
        _append("schemes", _scheme(place_id="Q")),
        ("schemes", 0, "place_id"),
        "unknown place",
    ),
    (
        "scheme segment",
        _append("schemes", _scheme(segment_id="Q")),
        ("schemes", 0, "segment_id"),
        "unknown segment",
    ),
    (
        "curve segment",
        _set("value_curves", 0, "segment_id", value="Q"),
        ("value_curves", 0, "segment_id"),
        "unknown segment",
    ),
    (
        "pace providers",
        _set("pace_of_change", 0, "provider_ids", value=["G1", "Q"]),
        ("pace_of_change", 0, "provider_ids", 1),
        "unknown provider",
    ),
    (
        "volatility segment",
        _set("outturn", value={"segment_overrides": [{"segment_id": "Q", "sd_share": 0.1}]}),
        ("outturn", "segment_overrides", 0, "segment_id"),
        "unknown segment",
    ),
    # served by the provider
    (
        "scheme place not served",
        _append("schemes", _scheme(provider_id="G1", place_id="P2", segment_id="well")),
        ("schemes", 0, "place_id"),
        "does not serve place 'P2'",
    ),
    (
        "scheme segment not served",
        _append("schemes", _scheme(segment_id="well")),
        ("schemes", 0, "segment_id"),
        "does not serve segment 'well'",
    ),
    (
        "pass-through segment not served",
        _set(
            "funders",
            0,
            "pass_through",
            value=[{"provider_id": "C", "segment_id": "well", "amount_pence": 1}],
        ),
        ("funders", 0, "pass_through", 0, "segment_id"),
        "does not serve segment",
    ),
    # coverage
    (
        "system without places",
        _append("systems", {"system_id": "S2"}),
        ("systems", 1),
        "has no places",
    ),
    (
        "place without neighbourhoods",
        _append("places", {"place_id": "P3", "system_id": "S1"}),
        ("places", 2),
        "has no neighbourhoods",
    ),
    (
        "neighbourhood without population",
        _append("neighbourhoods", {"neighbourhood_id": "N3", "place_id": "P1"}),
        ("neighbourhoods", 2),
        "no population rows",
    ),
    (
        "zero weighted population",
        _many(
            _set("populations", 2, "headcount", value=0),
            _set("populations", 3, "headcount", value=0),
        ),
        ("places", 1),
        "weighted population of zero",
    ),
    # eligible uses
    (
        "ring-fence nobody serves",
        _set("ring_fences", 0, "provider_kinds", value=["hospice"]),
        ("ring_fences", 0),
        "no provider serves",
    ),
    (
        "min spend nobody matches",
        _append(
            "minimum_spends", {"rule_id": "m", "minimum_pence": 1, "provider_kinds": ["acute"]}
        ),
        ("minimum_spends", 0),
        "no provider matches",
    ),
    # value curves
    (
        "curve spend not increasing",
        _set("value_curves", 0, value=_curve((300_000, 0.1), (300_000, 0.2))),
        ("value_curves", 0, "points", 1, "spend_per_head_pence"),
        "increase strictly",
    ),
    (
        "curve spend at zero",
        _set("value_curves", 0, value=_curve((0, 0.0), (10, 0.1))),
        ("value_curves", 0, "points", 0, "spend_per_head_pence"),
        "increase strictly",
    ),
    (
        "curve value falls",
        _set("value_curves", 0, value=_curve((100, 0.2), (200, 0.1))),
        ("value_curves", 0, "points", 1, "value_per_head"),
        "must not fall",
    ),
    (
        "curve not concave",
        _set("value_curves", 0, value=_curve((100, 0.1), (200, 0.3))),
        ("value_curves", 0, "points", 1, "value_per_head"),
        "concave",
    ),
    # the pool
    (
        "pass-through above amount",
        _set(
            "funders", 1, "pass_through", value=[{"provider_id": "C", "amount_pence": 300_000_000}]
        ),
        ("funders", 1, "pass_through"),
        "exceeds funder LA's £2,000,000.00 by £1,000,000.00",
    ),
    (
        "reserve above pooled",
        _set("reserve", value={"amount_pence": 1_300_000_000}),
        ("reserve", "amount_pence"),
        "larger than the pooled money",
    ),
    # rules
    (
        "min units above max",
        _append("schemes", _scheme(min_units=3, max_units=2)),
        ("schemes", 0, "min_units"),
        "more than max_units",
    ),
    (
        "convergence at provider level",
        _many(
            _set("pace_of_change", 0, "form", value="convergence"),
            _set("pace_of_change", 0, "convergence_share", value=0.15),
        ),
        ("pace_of_change", 0, "form"),
        "providers have none",
    ),
    (
        "cap over target at provider level",
        _set("pace_of_change", 0, "cap_over_target_share", value=0.05),
        ("pace_of_change", 0, "cap_over_target_share"),
        "providers have none",
    ),
    (
        "band below target at provider level",
        _set("pace_of_change", 0, "below_target_band_share", value=0.05),
        ("pace_of_change", 0, "below_target_band_share"),
        "providers have none",
    ),
    (
        "lexicographic without stages",
        _set("objective", value={"stages": []}),
        ("objective", "stages"),
        "at least one stage",
    ),
    (
        "fairness at provider level",
        _set("objective", value={"fairness_level": "provider"}),
        ("objective", "fairness_level"),
        "no fair-share target",
    ),
]

WARNING_CASES: list[tuple[str, Callable[[Doc], None], tuple[str | int, ...], str]] = [
    (
        "segment nobody serves",
        _set("providers", 2, "place_ids", value=["P1"]),
        ("segments", 1),
        "no provider serves it there",
    ),
    (
        "commitments above funding",
        _set("funders", 0, "amount_pence", value=800_000_000),
        ("funders",),
        "shortfall of £1,200,000.00",
    ),
    (
        "minimum spend above funding",
        _append(
            "minimum_spends",
            {"rule_id": "big", "minimum_pence": 1_250_000_000, "provider_kinds": ["social_care"]},
        ),
        ("funders",),
        "minimum spend 'big' adds",
    ),
    (
        "required scheme above funding",
        _many(
            _append("schemes", _scheme(min_units=1, cost_per_unit_pence=300_000_000)),
            _set("pace_of_change", 0, "cap_growth_share", value=2.0),
        ),
        ("funders",),
        "required schemes £3,000,000.00",
    ),
    (
        "minimum spend above its funders",
        _append(
            "minimum_spends", {"rule_id": "la", "minimum_pence": 199_000_000, "funder_ids": ["LA"]}
        ),
        ("minimum_spends", 0, "funder_ids"),
        "after their share of the reserve",
    ),
    (
        "capacity below fixed costs",
        _many(
            _set("providers", 2, "fixed_costs_pence", value=215_000_000),
            _set("providers", 2, "capacity_pence", value=210_000_000),
        ),
        ("providers", 2, "capacity_pence"),
        "below its fixed costs",
    ),
    (
        "capacity below own floor",
        _set("providers", 2, "capacity_pence", value=190_000_000),
        ("providers", 2, "capacity_pence"),
        "cannot meet its own pace-of-change floor",
    ),
    (
        "block above capacity",
        _many(
            _set("providers", 2, "payment", value={"kind": "block", "amount_pence": 200_000_000}),
            _set("providers", 2, "capacity_pence", value=150_000_000),
        ),
        ("providers", 2, "payment", "amount_pence"),
        "above its capacity",
    ),
    (
        "block below fixed costs",
        _many(
            _set("providers", 2, "payment", value={"kind": "block"}),
            _set("providers", 2, "fixed_costs_pence", value=250_000_000),
        ),
        ("providers", 2, "baseline_pence"),
        "below its fixed costs",
    ),
    (
        "pass-through above capacity",
        _many(
            _set(
                "funders",
                0,
                "pass_through",
                value=[{"provider_id": "C", "amount_pence": 300_000_000}],
            ),
            _set("providers", 2, "capacity_pence", value=250_000_000),
        ),
        ("providers", 2, "capacity_pence"),
        "more than its capacity",
    ),
    (
        "blended fixed part above capacity",
        _many(
            _set(
                "providers",
                0,
                "payment",
                value={
                    "kind": "blended",
                    "fixed_pence": 500_000_000,
                    "unit_price_pence": 100,
                    "planned_volume": 10,
                },
            ),
            _set("providers", 0, "capacity_pence", value=450_000_000),
            _set("pace_of_change", 0, "floor_growth_share", value=-0.5),
        ),
        ("providers", 0, "payment", "fixed_pence"),
        "blended fixed part",
    ),
    (
        "max volume below plan",
        _set(
            "providers",
            0,
            "payment",
            value={
                "kind": "activity",
                "unit_price_pence": 100,
                "planned_volume": 10,
                "max_volume": 5,
            },
        ),
        ("providers", 0, "payment", "max_volume"),
        "below the planned volume",
    ),
    (
        "place rule with providers",
        _append(
            "pace_of_change",
            {"rule_id": "pp", "level": "place", "floor_growth_share": 0.0, "provider_ids": ["G1"]},
        ),
        ("pace_of_change", 1, "provider_ids"),
        "ignored",
    ),
    (
        "weighted with zero weights",
        _set(
            "objective",
            value={
                "kind": "weighted",
                "weights": {
                    "fairness_per_gbp_shortfall": 0,
                    "value": 0,
                    "stability_per_gbp_change": 0,
                },
            },
        ),
        ("objective", "weights"),
        "every weight is zero",
    ),
    (
        "agreement without bands",
        _append("risk_share_agreements", {"agreement_id": "RS1"}),
        ("risk_share_agreements", 0),
        "has none",
    ),
    (
        "place listed twice",
        _set("providers", 2, "place_ids", value=["P1", "P2", "P1"]),
        ("providers", 2, "place_ids", 2),
        "listed twice",
    ),
]


@pytest.mark.parametrize(
    ("edit", "loc", "fragment"), [c[1:] for c in BLOCKING_CASES], ids=[c[0] for c in BLOCKING_CASES]
)
def test_each_blocking_check_finds_its_problem(
    tiny_doc: Doc, edit: Callable[[Doc], None], loc: tuple[str | int, ...], fragment: str
) -> None:
    edit(tiny_doc)
    issue = find(_validate(tiny_doc), loc, fragment)
    assert issue.code != WARNING


@pytest.mark.parametrize(
    ("edit", "loc", "fragment"), [c[1:] for c in WARNING_CASES], ids=[c[0] for c in WARNING_CASES]
)
def test_each_warning_check_finds_its_problem_without_blocking(
    tiny_doc: Doc, edit: Callable[[Doc], None], loc: tuple[str | int, ...], fragment: str
) -> None:
    edit(tiny_doc)
    issues = _validate(tiny_doc)
    assert find(issues, loc, fragment).code == WARNING
    assert blocking(issues) == []


def test_blocking_and_warnings_partition_the_issues() -> None:
    issues = [Issue(("a",), "x"), Issue(("b",), "y", code=WARNING), Issue((), "z", code=UNREADABLE)]
    assert blocking(issues) == [issues[0], issues[2]]
    assert warnings(issues) == [issues[1]]


def test_infeasibility_by_arithmetic_does_not_block_a_solve(tiny_doc: Doc) -> None:
    # The solver explains infeasibility with the least change; validation only warns.
    tiny_doc["funders"][0]["amount_pence"] = 800_000_000
    issue = find(_validate(tiny_doc), ("funders",), "pace-of-change floors £11,000,000.00")
    assert "£9,800,000.00 is left after the £200,000.00 reserve" in issue.message


AT_ONCE = [
    "dup segment",
    "place system",
    "population segment",
    "adjustment neighbourhood",
    "pass-through provider",
    "ring-fence funder",
    "provider places",
    "curve not concave",
    "min units above max",
    "cap over target at provider level",
    "fairness at provider level",
]


def test_every_problem_is_found_at_once(tiny_doc: Doc) -> None:
    cases = [case for case in BLOCKING_CASES if case[0] in AT_ONCE]
    for _, edit, _, _ in cases:
        edit(tiny_doc)
    issues = _validate(tiny_doc)
    for _, _, loc, fragment in cases:
        find(issues, loc, fragment)
    assert len(cases) == len(AT_ONCE)


# -- pydantic errors as issues -------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "loc", "fragment"),
    [
        ({"baseline_pence": 1.5}, ("baseline_pence",), "whole number of pence (no decimals)"),
        ({"baseline_pence": -1}, ("baseline_pence",), "must be 0 or more"),
        ({"baseline_pence": "lots"}, ("baseline_pence",), "whole number of pence"),
        ({"kind": "hospital"}, ("kind",), "is not a known provider kind; expected one of acute"),
        ({"colour": "red"}, ("colour",), "unexpected field 'colour'"),
        ({"capacity_pence": float("nan")}, ("capacity_pence",), "finite"),
        (
            {"payment": {"kind": "activity", "unit_price_pence": 1}},
            ("payment", "planned_volume"),
            "'planned_volume' is required",
        ),
        ({"payment": {"kind": "barter"}}, ("payment",), "not a known payment kind"),
        (
            {
                "payment": {
                    "kind": "blended",
                    "fixed_pence": 1,
                    "unit_price_pence": 1,
                    "planned_volume": 1,
                    "variable_rate_share": 2,
                }
            },
            ("payment", "variable_rate_share"),
            "at most 1 (a share",
        ),
        ({"provider_id": "has space"}, ("provider_id",), "not a valid id"),
        ({"place_ids": []}, ("place_ids",), "at least 1"),
    ],
)
def test_validation_errors_become_readable_located_issues(
    change: Doc, loc: tuple[str | int, ...], fragment: str
) -> None:
    row = {**_provider("X"), **change}
    with pytest.raises(ValidationError) as caught:
        Provider.model_validate(row)
    issues = issues_from_validation_error(caught.value, ("providers", 4))
    find(issues, ("providers", 4, *loc), fragment)


def test_infinity_is_rejected() -> None:
    with pytest.raises(ValidationError) as caught:
        Provider.model_validate({**_provider("X"), "fixed_costs_pence": float("inf")})
    find(issues_from_validation_error(caught.value), ("fixed_costs_pence",), "")


def test_model_validator_messages_drop_the_pydantic_prefix(tiny_doc: Doc) -> None:
    tiny_doc["reserve"] = {"share": 0.1, "amount_pence": 5}
    with pytest.raises(ValidationError) as caught:
        Scenario.model_validate(tiny_doc)
    issue = find(
        issues_from_validation_error(caught.value), ("reserve",), "either share or amount_pence"
    )
    assert not issue.message.startswith("Value error")


# -- lenient parsing -----------------------------------------------------------------------


def test_a_bad_row_does_not_hide_other_rows_or_semantic_checks(tiny_doc: Doc) -> None:
    tiny_doc["providers"][0]["baseline_pence"] = -3  # a type error in row 0
    tiny_doc["funders"][1]["amount_pence"] = 1.25  # another table
    tiny_doc["providers"][2]["place_ids"] = ["P1", "P5"]  # a reference error in a parsed row
    scenario, issues = parse_document(tiny_doc)
    assert scenario is None
    find(issues, ("providers", 0, "baseline_pence"), "0 or more")
    find(issues, ("funders", 1, "amount_pence"), "whole number of pence")
    # located at the original row although row 0 did not parse
    find(issues, ("providers", 2, "place_ids", 1), "unknown place 'P5'")
    # a ring-fence on the funder whose row failed is not reported as an unknown funder
    assert not [i for i in issues if i.loc[:1] == ("ring_fences",)]


def test_duplicates_are_found_against_rows_that_failed(tiny_doc: Doc) -> None:
    tiny_doc["providers"][0]["kind"] = "nope"
    tiny_doc["providers"].append(_provider("G1"))
    _, issues = parse_document(tiny_doc)
    find(issues, ("providers", 3, "provider_id"), "duplicate provider id 'G1'")


def test_missing_tables_and_settings_are_reported(tiny_doc: Doc) -> None:
    del tiny_doc["scenario_id"]
    tiny_doc["providers"] = []
    tiny_doc["places"] = "P1"
    _, issues = parse_document(tiny_doc)
    find(issues, ("scenario_id",), "required")
    find(issues, ("providers",), "at least 1 row")
    find(issues, ("places",), "must be a list")


# -- files ---------------------------------------------------------------------------------

PLANTED_JSON = [
    (("systems", 0, "colour"), "unexpected field 'colour'"),
    (("places", 1, "system_id"), "unknown system 'S9'"),
    (("neighbourhoods", 1, "place_id"), "unknown place 'P3'"),
    (("segments", 1, "cost_weight"), "more than 0"),
    (("populations", 3, "segment_id"), "did you mean 'frail'"),
    (("local_adjustments", 0, "factor"), "NaN is not allowed"),
    (("funders", 0, "pass_through", 0, "provider_id"), "unknown provider 'G9'"),
    (("funders", 1, "kind"), "not a known funder kind"),
    (("ring_fences", 0, "funder_id"), "did you mean 'LA'"),
    (("reserve", "share"), "at most 1"),
    (("providers", 0, "baseline_pence"), "whole number of pence"),
    (("providers", 1, "kind"), "not a known provider kind"),
    (("providers", 2, "place_ids", 2), "unknown place 'P7'"),
    (("providers", 3, "provider_id"), "duplicate provider id 'G1'"),
    (("schemes", 0, "min_units"), "more than max_units"),
    (("schemes", 1, "segment_id"), "does not serve segment 'well'"),
    (("pace_of_change", 1, "form"), "providers have none"),
    (("value_curves", 0, "points", 1, "value_per_head"), "concave"),
    (("places", 1), "has no neighbourhoods"),
]


def test_every_planted_error_in_the_json_file_is_reported() -> None:
    scenario, issues = load_and_validate(INVALID / "ten_errors.json")
    assert scenario is None
    for loc, fragment in PLANTED_JSON:
        find(issues, loc, fragment)
    assert len(blocking(issues)) == len(PLANTED_JSON)


def test_load_scenario_raises_with_every_blocking_issue() -> None:
    with pytest.raises(ScenarioInvalid) as caught:
        load_scenario(INVALID / "ten_errors.json")
    assert len(caught.value.issues) == len(PLANTED_JSON)


def test_load_scenario_reads_both_formats(tiny: Scenario, tmp_path: Path) -> None:
    from allocator.io.excel import write_workbook

    write_workbook(tiny, tmp_path / "tiny.xlsx")
    assert load_scenario(DATA / "tiny" / "tiny.json") == tiny
    assert load_scenario(tmp_path / "tiny.xlsx") == tiny


@pytest.mark.parametrize("name", ["missing.json", "folder.json", "notes.txt", "old.xls", "noext"])
def test_unreadable_files_are_one_issue_not_an_exception(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name == "folder.json":
        path.mkdir()
    elif name != "missing.json":
        path.write_text("{}")
    scenario, issues = load_and_validate(path)
    assert scenario is None
    assert [i.code for i in issues] == [UNREADABLE]


# -- the command line ----------------------------------------------------------------------

runner = CliRunner()


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": "240"})


def test_cli_summarises_a_valid_file() -> None:
    result = _run("validate", str(DATA / "tiny" / "tiny.json"))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "is valid" in out
    assert "1 system · 2 places · 2 neighbourhoods · 2 segments" in out
    assert "15,600 people" in out and "weighted population 20,000.0" in out
    assert "total £12,000,000.00" in out and "reserve £240,000.00" in out
    assert "capitated pot £11,760,000.00" in out
    assert "general_practice" in out and "£9,000,000.00" in out
    assert "ring-fences 1" in out and "pace of change 1" in out and "fair shares 1" in out
    tiny = load_scenario(DATA / "tiny" / "tiny.json")
    assert tiny.content_hash() in out


@pytest.mark.parametrize("name", ["ten_errors.json", "ten_errors.xlsx"])
def test_cli_lists_every_planted_error_and_exits_1(name: str) -> None:
    result = _run("validate", str(INVALID / name))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    _, issues = load_and_validate(INVALID / name)
    problems = blocking(issues)
    assert f"{len(problems)} problem(s)" in result.output
    for issue in problems:
        assert issue.message in result.output
    if name.endswith(".xlsx"):
        assert "Providers!F3 (baseline_pence)" in result.output
        assert "warning" in result.output


def test_cli_exits_2_for_an_unreadable_file(tmp_path: Path) -> None:
    result = _run("validate", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "no such file" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.json", b""),
        ("list.json", b"[1, 2]"),
        ("null.json", b"null"),
        ("deep.json", b"[" * 100_000),
        ("latin1.json", '{"scenario_id": "caf\xe9"}'.encode("latin-1")),
        (
            "types.json",
            json.dumps({"systems": 5, "places": [1, "x", None], "reserve": []}).encode(),
        ),
        ("garbage.xlsx", b"\x00\x01garbage" * 100),
        ("old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512),
        ("big.json", b'{"scenario_id": 1e999, "systems": [{"system_id": -Infinity}]}'),
    ],
)
def test_cli_never_shows_a_traceback(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = _run("validate", str(path))
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_template_writes_a_workbook_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "budget.xlsx"
    assert _run("template", str(out)).exit_code == 0
    assert out.stat().st_size > 0
    again = _run("template", str(out))
    assert again.exit_code == 1 and "--force" in again.output
    assert _run("template", str(out), "--force").exit_code == 0
    assert _run("template", str(tmp_path / "budget.csv")).exit_code == 2
    check = _run("validate", str(out))
    assert check.exit_code == 1 and "needs at least 1 row" in check.output


def test_workbook_errors_are_cited_as_cells_in_the_same_order_by_validate_and_solve() -> None:
    import re

    checked, solved = (
        _run("validate", str(INVALID / "ten_errors.xlsx")),
        _run("solve", str(INVALID / "ten_errors.xlsx")),
    )
    assert checked.exit_code == 1 and solved.exit_code == 1
    cell = r"[A-Za-z]+![A-Z]+\d+ \([a-z_.]+\)|[A-Za-z]+!\d+:\d+[^:\n]*"

    def cited(output: str) -> list[str]:
        return re.findall(rf"^\s*\d+\. ({cell})", output, flags=re.MULTILINE)

    problems = cited(checked.output.split("warning(s)")[0])
    assert "Funders!D3 (amount_pence)" in problems
    assert "Scenario!C7 (reserve.share)" in problems
    assert problems == cited(solved.output)[: len(problems)]
    assert len(cited(solved.output)) == len(problems)


def test_cell_address_is_as_excel_cites_it() -> None:
    from allocator.errors import Issue, cell_address

    assert cell_address("Funders", "D", 3) == "Funders!D3"
    assert cell_address("Funders", None, 3) == "Funders!3:3"
    assert cell_address("Pace of change", "B", 4) == "'Pace of change'!B4"
    assert cell_address("Funders") == "Funders"
    issue = Issue(
        ("funders", 1, "amount_pence"), "x", "Funders", 3, column="D", field="amount_pence"
    )
    assert issue.where() == "Funders!D3 (amount_pence)"
    assert Issue(("funders", 1), "x").where() == "funders[1]"
