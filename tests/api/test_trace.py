"""GET /results/{id}/trace: the derivation of one published figure."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import API, Headers, assert_problem, solved_result, submit


def test_api_trace(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    result_id = solved_result(client, admin, scenario_id)
    result = client.get(f"{API}/results/{result_id}", headers=admin).json()["result"]
    provider = result["providers"][0]
    response = client.get(
        f"{API}/results/{result_id}/trace",
        params={"figure": f"provider {provider['provider_id']}"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["published_pence"] == provider["budget_pence"]
    assert sum(body["parts_pence"].values()) == provider["budget_pence"]
    assert body["fixed_by_stage"] in {s["stage"] for s in result["stages"]}
    unknown = client.get(
        f"{API}/results/{result_id}/trace", params={"figure": "provider nope"}, headers=admin
    )
    assert "the providers are" in assert_problem(unknown, 422)["detail"]


def test_api_trace_a_cell_and_a_flow(client: TestClient, admin: Headers) -> None:
    result_id = solved_result(client, admin, submit(client, admin))
    result = client.get(f"{API}/results/{result_id}", headers=admin).json()["result"]
    cell, flow = result["cells"][0], result["flows"][0]
    for figure, published in (
        (
            f"cell {cell['provider_id']} {cell['neighbourhood_id']} {cell['segment_id']}",
            cell["budget_pence"],
        ),
        (
            f"flow {flow['funder_id']} {flow['provider_id']} {flow['segment_id']}",
            flow["amount_pence"],
        ),
    ):
        response = client.get(
            f"{API}/results/{result_id}/trace", params={"figure": figure}, headers=admin
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["published_pence"] == published
        assert sum(body["parts_pence"].values()) == published
