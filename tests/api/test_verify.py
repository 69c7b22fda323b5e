"""POST /results/{id}/verify: re-solve the stored scenario and compare to the penny."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import API, Headers, solved_result, submit


def test_api_verify(client: TestClient, admin: Headers) -> None:
    scenario_id = submit(client, admin)
    result_id = solved_result(client, admin, scenario_id)
    response = client.post(f"{API}/results/{result_id}/verify", headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verdict"] == "identical"
    assert body["figures_compared"] > 0
    assert client.post(f"{API}/results/nope/verify", headers=admin).status_code == 404
