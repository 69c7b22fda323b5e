"""POST /results/{id}/alternatives: a negotiation menu over a stored result."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import API, Headers, assert_problem, solved_result, submit


def test_api_alternatives(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    result_id = solved_result(client, admin, scenario_id)
    result = client.get(f"{API}/results/{result_id}", headers=admin).json()["result"]
    provider = result["providers"][0]["provider_id"]
    response = client.post(
        f"{API}/results/{result_id}/alternatives",
        json={"along": f"provider {provider}", "within_share": 0.05, "count": 2},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["alternatives"]) == 2
    for alt in body["alternatives"]:
        budgets = {p["provider_id"]: p["budget_pence"] for p in alt["result"]["providers"]}
        assert budgets[provider] == alt["along_pence"]
        assert alt["problems"] == []
    unknown = client.post(
        f"{API}/results/{result_id}/alternatives", json={"along": "provider nope"}, headers=admin
    )
    assert "no provider" in assert_problem(unknown, 422)["detail"]
    bad = client.post(
        f"{API}/results/{result_id}/alternatives",
        json={"along": "acute", "within_share": 2},
        headers=admin,
    )
    assert_problem(bad, 422)


def test_api_what_would_it_take_pot(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    result_id = solved_result(client, admin, scenario_id)
    response = client.post(
        f"{API}/results/{result_id}/what-would-it-take/pot", json={}, headers=admin
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pot_pence"] > 0
    assert body["full_solves"] >= 2
    unknown = client.post(
        f"{API}/results/{result_id}/what-would-it-take/pot",
        json={"funder_id": "nope"},
        headers=admin,
    )
    assert "no funder 'nope'" in assert_problem(unknown, 422)["detail"]


def test_api_what_would_it_take_scheme(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    result_id = solved_result(client, admin, scenario_id)
    unknown = client.post(
        f"{API}/results/{result_id}/what-would-it-take/scheme",
        json={"scheme_id": "nope"},
        headers=admin,
    )
    assert "no scheme 'nope'" in assert_problem(unknown, 422)["detail"]


def test_api_what_would_it_take_pace(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    result_id = solved_result(client, admin, scenario_id)
    url = f"{API}/results/{result_id}/what-would-it-take/pace"
    assert_problem(client.post(url, json={"by_year": 9}, headers=admin), 422)
    assert_problem(client.post(url, json={"by_year": 1, "parameter": "x"}, headers=admin), 422)
    response = client.post(url, json={"by_year": 1, "rule_id": "nope"}, headers=admin)
    assert "no place pace rule 'nope'" in assert_problem(response, 422)["detail"]
