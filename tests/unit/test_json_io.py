"""JSON scenarios: strict about numbers and keys, lenient about rows, stable when written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from allocator.io.json_io import (
    read_json,
    read_json_bytes,
    read_json_text,
    to_json_text,
    write_json,
)
from allocator.validate import blocking
from models import Scenario
from tests.conftest import DATA
from tests.unit.conftest import find

Doc = dict[str, Any]


def _read(doc: Doc) -> tuple[Scenario | None, list[Any]]:
    return read_json_text(json.dumps(doc))


def test_reads_the_tiny_example(tiny: Scenario) -> None:
    scenario, issues = read_json(DATA / "tiny" / "tiny.json")
    assert issues == []
    assert scenario == tiny


def test_written_json_is_indented_stable_and_ends_with_a_newline(
    tiny: Scenario, tmp_path: Path
) -> None:
    path = tmp_path / "out.json"
    write_json(tiny, path)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.startswith('{\n  "schema_version": "1",\n  "scenario_id": "tiny"')
    assert to_json_text(tiny) == text  # the same every time
    again, issues = read_json(path)
    assert issues == [] and again == tiny
    assert again is not None and again.content_hash() == tiny.content_hash()


def test_floats_survive_exactly(tiny_doc: Doc) -> None:
    tiny_doc["segments"][0]["cost_weight"] = 0.1 + 0.2
    tiny_doc["populations"][0]["headcount"] = 1234.5678901234567
    scenario, _ = _read(tiny_doc)
    assert scenario is not None
    back, _ = read_json_text(to_json_text(scenario))
    assert back is not None
    assert back.segments[0].cost_weight == 0.1 + 0.2
    assert back.populations[0].headcount == 1234.5678901234567


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
def test_non_finite_numbers_are_located(literal: str) -> None:
    text = (
        (DATA / "tiny" / "tiny.json").read_text().replace('"factor": 1.2', f'"factor": {literal}')
    )
    scenario, issues = read_json_text(text)
    assert scenario is None
    issue = find(issues, ("local_adjustments", 0, "factor"), "JSON numbers must be finite")
    assert literal in issue.message
    # pydantic's view of the same cell is not repeated
    assert len([i for i in issues if i.loc == ("local_adjustments", 0, "factor")]) == 1


def test_repeated_keys_are_located() -> None:
    text = '{"scenario_id": "a", "systems": [{"system_id": "S1", "system_id": "S2"}]}'
    _, issues = read_json_text(text)
    find(issues, ("systems", 0, "system_id"), "appears more than once")


def test_syntax_errors_give_line_and_column() -> None:
    scenario, issues = read_json_text('{\n  "scenario_id": "a",\n  "systems": [}\n')
    assert scenario is None
    assert len(issues) == 1
    assert "line 3 column" in issues[0].message


def test_encoding_problems_are_issues() -> None:
    _, issues = read_json_bytes('{"name": "caf\xe9"}'.encode("latin-1"))
    assert "not UTF-8" in issues[0].message
    text = (DATA / "tiny" / "tiny.json").read_bytes()
    scenario, issues = read_json_bytes(b"\xef\xbb\xbf" + text)  # a byte-order mark is fine
    assert issues == [] and scenario is not None


@pytest.mark.parametrize("text", ["[]", "null", "3", '"scenario"'])
def test_a_document_must_be_an_object(text: str) -> None:
    scenario, issues = read_json_text(text)
    assert scenario is None
    assert "object" in issues[0].message


def test_deep_nesting_is_an_issue() -> None:
    scenario, issues = read_json_text("[" * 200_000)
    assert scenario is None and issues


def test_unknown_fields_missing_fields_and_versions(tiny_doc: Doc) -> None:
    tiny_doc["colour"] = "blue"
    tiny_doc["schema_version"] = "99"
    del tiny_doc["scenario_id"]
    tiny_doc["providers"][0]["colour"] = "red"
    _, issues = _read(tiny_doc)
    find(issues, ("colour",), "unexpected field 'colour'")
    find(issues, ("schema_version",), "not supported")
    find(issues, ("scenario_id",), "required")
    find(issues, ("providers", 0, "colour"), "unexpected field")


def test_one_bad_row_per_table_all_reported_and_no_cascade(tiny_doc: Doc) -> None:
    tiny_doc["systems"].append({"system_id": "bad id"})
    tiny_doc["places"][0]["name"] = 5
    tiny_doc["segments"][0]["cost_weight"] = "heavy"
    tiny_doc["populations"][2]["headcount"] = -1
    tiny_doc["funders"][0]["amount_pence"] = "a lot"
    tiny_doc["providers"][1]["segment_ids"] = []
    tiny_doc["fair_shares"][0]["form"] = "band"  # band needs band_share
    tiny_doc["value_curves"][1]["points"] = []
    scenario, issues = _read(tiny_doc)
    assert scenario is None
    find(issues, ("systems", 1, "system_id"), "not a valid id")
    find(issues, ("places", 0, "name"), "must be text")
    find(issues, ("segments", 0, "cost_weight"), "must be a number")
    find(issues, ("populations", 2, "headcount"), "0 or more")
    find(issues, ("funders", 0, "amount_pence"), "whole number of pence")
    find(issues, ("providers", 1, "segment_ids"), "at least 1")
    find(issues, ("fair_shares", 0), "band_share")
    find(issues, ("value_curves", 1, "points"), "at least 1")
    assert len(blocking(issues)) == 8, issues  # nothing cascades from the failed rows


def test_the_planted_json_file_reports_all_errors() -> None:
    scenario, issues = read_json(DATA / "invalid" / "ten_errors.json")
    assert scenario is None
    assert len(blocking(issues)) >= 12
