"""OpenAPI links: how the id a create route answers with is used by the routes that read it.

They document the API's workflows (submit, then solve, then read the result) for clients,
and let a stateful fuzzer follow them (``schemathesis`` with the ``stateful`` phase).
"""

from __future__ import annotations

from typing import Any

SCENARIO = {"scenario_id": "$response.body#/id"}
VERSION = {**SCENARIO, "version": "$response.body#/latest_version"}
RESULT_READERS = (
    "results-get_result",
    "results-export_result",
    "results-get_report_pdf",
    "results-get_explanation",
    "results-get_risk",
    "results-approve_result",
    "results-verify",
    "results-trace",
)

# (operation id, status) -> {target operation id: parameters}
LINKS: dict[tuple[str, str], dict[str, dict[str, str]]] = {
    ("scenarios-create_scenario", "201"): {
        "scenarios-get_scenario": SCENARIO,
        "scenarios-list_versions": SCENARIO,
        "scenarios-list_results": SCENARIO,
        "scenarios-create_version": SCENARIO,
        "scenarios-get_version": VERSION,
        "scenarios-download_version": VERSION,
        "solves-solve_version": VERSION,
    },
    ("solves-solve_version", "200"): {
        "jobs-get_job": {"job_id": "$response.body#/job/id"},
        **{target: {"result_id": "$response.body#/result/id"} for target in RESULT_READERS},
    },
    ("solves-solve_version", "202"): {
        "jobs-get_job": {"job_id": "$response.body#/job/id"},
        "jobs-cancel_job": {"job_id": "$response.body#/job/id"},
        "jobs-delete_job": {"job_id": "$response.body#/job/id"},
    },
    ("jobs-get_job", "200"): {
        target: {"result_id": "$response.body#/result_id"} for target in RESULT_READERS
    },
    ("batches-create_batch", "202"): {
        target: {"batch_id": "$response.body#/id"}
        for target in (
            "batches-get_batch",
            "batches-list_batch_runs",
            "batches-cancel_batch",
            "batches-resume_batch",
        )
    },
    ("admin-create_api_key", "201"): {"admin-revoke_api_key": {"key_id": "$response.body#/key_id"}},
}


def add_links(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with `LINKS` on the responses of the operations present in it."""
    operations = {
        operation.get("operationId"): operation
        for item in spec.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, dict)
    }
    for (source, status), targets in LINKS.items():
        response = operations.get(source, {}).get("responses", {}).get(status)
        if response is None:
            continue
        response["links"] = {
            target.split("-", 1)[1]: {"operationId": target, "parameters": parameters}
            for target, parameters in targets.items()
            if target in operations
        }
    return spec


__all__ = ["add_links"]
