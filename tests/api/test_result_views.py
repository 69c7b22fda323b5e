"""A result's explanation and risk report, through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from allocator.io.risk_export import TIDY_COLUMNS
from allocator.riskshare import risk_report
from api.security import Role
from api.settings import Settings
from models import Scenario
from tests.api.helpers import (
    API,
    DATA,
    Headers,
    assert_problem,
    make_settings,
    solved_result,
    submit,
    tiny_for,
)

REALISTIC = json.loads((DATA / "realistic" / "realistic.json").read_text())


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url)


def test_explanation_of_a_feasible_and_an_infeasible_result(
    client: TestClient, admin: Headers
) -> None:
    feasible = solved_result(client, admin, submit(client, admin))
    body = client.get(f"{API}/results/{feasible}/explanation", headers=admin).json()
    assert body["result_id"] == feasible and body["feasible"] is True
    assert body["infeasibility"] is None and body["stages"]
    assert body["binding_rules"], "the tiny example's pace-of-change caps bind"
    assert all(rule["binding"] for rule in body["binding_rules"])
    assert all(rule["shadow_price"] is not None for rule in body["binding_rules"])
    assert {rule["block"] for rule in body["binding_rules"]} == {"pace.cap.pace"}
    assert body["explanation"]["pool"], "the value of £1 more from each funder"
    stored = client.get(f"{API}/results/{feasible}", headers=admin).json()["result"]
    assert body["binding_rules"] == [r for r in stored["rules"] if r["binding"]]

    doc = tiny_for("S1")
    doc["pace_of_change"][0].update(floor_growth_share=0.5, cap_growth_share=0.6)
    infeasible = solved_result(client, admin, submit(client, admin, doc))
    body = client.get(f"{API}/results/{infeasible}/explanation", headers=admin).json()
    assert body["status"] == "infeasible" and body["feasible"] is False
    assert body["binding_rules"] == [] and body["explanation"] is None
    diagnosis = body["infeasibility"]
    assert "cannot all hold" in diagnosis["summary"]
    assert diagnosis["least_change"] and diagnosis["least_change_total_pence"] > 0
    assert any("pace-of-change floor" in rule for rule in diagnosis["conflicting_rules"])
    assert all("pace-of-change floor" in change["rule"] for change in diagnosis["least_change"])
    assert diagnosis["pot_increase_pence"] > 0
    assert_problem(client.get(f"{API}/results/nope/explanation", headers=admin), 404)


def _direct_report(result: dict[str, Any], **options: Any) -> dict[str, Any]:
    """The risk report computed here, straight from allocator.riskshare."""
    budgets = {p["provider_id"]: p["budget_pence"] for p in result["providers"]}
    mix = {}
    for provider in result["providers"]:
        total = sum(provider["by_segment_pence"].values())
        if total:
            mix[provider["provider_id"]] = {
                s: pence / total for s, pence in provider["by_segment_pence"].items()
            }
    report = risk_report(budgets, mix, Scenario.model_validate(REALISTIC), **options)
    return dict(report.model_dump(mode="json"))


def test_risk_report_is_seeded_and_is_allocator_riskshare(
    client: TestClient, keys: Callable[..., Headers]
) -> None:
    reader, planner = keys(Role.READ, "TRI"), keys(Role.PLAN, "TRI")
    result_id = solved_result(client, planner, submit(client, planner, REALISTIC))
    url = f"{API}/results/{result_id}/risk"
    query = {"draws": 2_000, "seed": 7, "level": 0.9, "confidence": 0.99}
    first = client.get(url, params=query, headers=reader)
    assert first.status_code == 200, first.text
    again = client.get(url, params=query, headers=reader)
    assert first.json() == again.json()
    body = first.json()
    assert body["result_id"] == result_id and body["version"] == 1 and body["confidence"] == 0.99
    report = body["report"]
    assert (report["draws"], report["seed"], report["level"]) == (2_000, 7, 0.9)
    assert report["pool"]["reserve"]["confidence"] == 0.99
    assert report["pooled_budgets"], "the realistic example has a pooled budget"

    result = client.get(f"{API}/results/{result_id}", headers=reader).json()["result"]
    assert report == _direct_report(result, draws=2_000, seed=7, level=0.9, reserve_confidence=0.99)
    other_seed = client.get(url, params={**query, "seed": 8}, headers=reader).json()["report"]
    assert other_seed["providers"] != report["providers"]
    default = client.get(url, headers=reader).json()  # allocator risk's defaults
    assert (default["report"]["draws"], default["report"]["seed"]) == (10_000, 1)
    assert default["report"]["level"] == default["confidence"] == 0.95

    for edge in ({"draws": 100, "level": 0.999, "confidence": 0.5}, {"level": 0.5}):
        assert client.get(url, params={"draws": 100, **edge}, headers=reader).status_code == 200

    # draws × providers is bounded (17 providers here): a clear 422, pointing at draws.
    too_many = assert_problem(client.get(url, params={"draws": 1_000_000}, headers=reader), 422)
    assert "draws" in too_many["detail"] and too_many["errors"][0]["loc"] == ["query", "draws"]
    assert_problem(client.get(url, params={"level": 1.5}, headers=reader), 422)


def test_risk_report_of_an_infeasible_result_is_a_conflict(
    client: TestClient, admin: Headers
) -> None:
    doc = tiny_for("S1")
    doc["pace_of_change"][0].update(floor_growth_share=0.5, cap_growth_share=0.6)
    result_id = solved_result(client, admin, submit(client, admin, doc))
    body = assert_problem(client.get(f"{API}/results/{result_id}/risk", headers=admin), 409)
    assert "infeasible" in body["detail"]


def test_result_views_follow_roles_and_tenancy(
    client: TestClient, keys: Callable[..., Headers]
) -> None:
    planner = keys(Role.PLAN, "S1")
    result_id = solved_result(client, planner, submit(client, planner))
    reader, stranger = keys(Role.READ, "S1"), keys(Role.ADMIN, "S2")
    for view in ("explanation", "risk"):
        url = f"{API}/results/{result_id}/{view}"
        assert client.get(url, params={"draws": 200}, headers=reader).status_code == 200
        assert_problem(client.get(url, headers=stranger), 404)
        assert_problem(client.get(url), 401)


def test_risk_report_downloads_as_csv_and_excel(
    client: TestClient, keys: Callable[..., Headers]
) -> None:
    reader, planner = keys(Role.READ, "TRI"), keys(Role.PLAN, "TRI")
    result_id = solved_result(client, planner, submit(client, planner, REALISTIC))
    url = f"{API}/results/{result_id}/risk"
    query = {"draws": 1_000, "seed": 3}
    report = client.get(url, params=query, headers=reader).json()["report"]

    csv = client.get(url, params={**query, "format": "csv"}, headers=reader)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    table = pd.read_csv(io.StringIO(csv.text))
    assert tuple(table.columns) == TIDY_COLUMNS
    # The CSV carries the same figures as the JSON: the first provider's CVaR after sharing.
    first = report["providers"][0]
    cvar = table[
        (table["subject_id"] == first["provider_id"])
        & (table["part"] == "share")
        & (table["measure"] == "cvar_pence")
    ]["value"]
    assert cvar.astype(float).tolist() == [first["share"]["cvar_pence"]]

    xlsx = client.get(url, params={**query, "format": "xlsx"}, headers=reader)
    assert xlsx.status_code == 200
    sheets = load_workbook(io.BytesIO(xlsx.content), read_only=True).sheetnames
    assert {"providers", "pool"} <= {name.lower() for name in sheets}
    assert_problem(client.get(url, params={"format": "pdf"}, headers=reader), 422)
