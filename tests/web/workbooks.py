"""Upload files for the workspace tests, built from the bundled examples."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from allocator.io.excel import build_workbook
from models import Scenario

DATA = Path(__file__).resolve().parents[2] / "data"
REALISTIC = DATA / "realistic" / "realistic.json"

# The three planted errors and where the workspace must say they are.
PLANTED = {
    "Funders!D2": ("Funders", "D2", "lots"),  # text in a money column
    "Providers!F3": ("Providers", "F3", -5),  # a negative baseline
    "Providers!C4": ("Providers", "C4", "hospital"),  # not a provider kind
}


def realistic() -> Scenario:
    return Scenario.model_validate_json(REALISTIC.read_text())


def workbook_bytes(scenario: Scenario, errors: bool = False) -> bytes:
    workbook = build_workbook(scenario)
    if errors:
        for sheet, cell, value in PLANTED.values():
            workbook[sheet][cell] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def smaller_pot(document: dict[str, Any], share: float) -> dict[str, Any]:
    """The same scenario with every funder's contribution cut to ``share`` of it."""
    changed = json.loads(json.dumps(document))
    for funder in changed["funders"]:
        funder["amount_pence"] = round(funder["amount_pence"] * share)
    return changed
