"""Verify, trace, bridge, alternatives and what would it take from a result's page, in Chromium.

A planner solves the tiny example and a version with a 2% smaller pot; from the result's
page re-verifies it (identical), traces a provider budget (its parts add to it) and
bridges the two results (for every figure the steps add to the total change). Each page
is checked for console errors, requests to other hosts and serious accessibility problems.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api.security import Role
from tests.api.helpers import tiny_for
from tests.web.conftest import Server
from tests.web.test_browser import (
    by_css,
    no_serious_accessibility_problems,
    page_checked,
    sign_in,
    upload,
    wait_for,
)

pytestmark = pytest.mark.e2e


def _pence(cell: Any) -> int:
    return int(cell.get_attribute("data-pence"))


def test_verify_trace_and_bridge_from_a_result(
    browser: Any, server: Server, tmp_path: Path
) -> None:
    driver = browser
    sign_in(driver, server, server.key(Role.PLAN, "S1", name="Answers planner"))
    doc = tiny_for("S1")
    first = tmp_path / "tiny.json"
    first.write_text(json.dumps(doc))
    upload(driver, first)
    wait_for(driver, "#versions")
    scenario_url = driver.current_url.split("?")[0]
    driver.find_element("css selector", "#solve-v1").click()
    wait_for(driver, "#status", timeout=120)
    first_result = driver.current_url.split("?")[0]

    for funder in doc["funders"]:
        funder["amount_pence"] = round(funder["amount_pence"] * 0.98)
    second = tmp_path / "tiny-smaller.json"
    second.write_text(json.dumps(doc))
    driver.get(scenario_url)
    upload(driver, second, field="#version-file", button="#upload-version")
    wait_for(driver, "#solve-v2")
    driver.find_element("css selector", "#solve-v2").click()
    wait_for(driver, "#status", timeout=120)
    second_result = driver.current_url.split("?")[0]
    assert second_result != first_result

    driver.get(first_result)
    driver.find_element("css selector", "#verify-link").click()
    assert wait_for(driver, "#verdict", timeout=120).text == "identical"
    page_checked(driver, server, "20-verify")
    no_serious_accessibility_problems(driver, "verify")

    driver.get(first_result)
    driver.find_element("css selector", "#trace-link").click()
    provider = doc["providers"][0]["provider_id"]
    wait_for(driver, "#figure").send_keys(f"provider {provider}")
    driver.find_element("css selector", "#trace-submit").click()
    wait_for(driver, "#trace-parts", timeout=120)
    parts = [_pence(td) for td in by_css(driver, "#trace-parts tbody td.num")]
    published = driver.find_element("css selector", "#trace-published").text
    assert parts and driver.find_element("css selector", "#trace-total").text == published
    assert by_css(driver, "#trace-stages tbody tr")
    page_checked(driver, server, "21-trace")
    no_serious_accessibility_problems(driver, "trace")

    driver.get(second_result)
    driver.find_element("css selector", "#bridge-link").click()
    wait_for(driver, "#bridge-submit").click()
    wait_for(driver, "#bridge-table", timeout=120)
    assert driver.find_element("css selector", "#bridge-order").text == "pot and funders"
    rows = by_css(driver, "#bridge-table tbody tr")
    assert len(rows) >= len(doc["providers"])
    for row in rows:
        cells = row.find_elements("css selector", "td.num")
        assert sum(_pence(c) for c in cells[:-1]) == _pence(cells[-1])
    page_checked(driver, server, "22-bridge")
    no_serious_accessibility_problems(driver, "bridge")


def test_alternatives_and_what_it_takes_from_a_result(
    browser: Any, server: Server, tmp_path: Path
) -> None:
    driver = browser
    driver.delete_all_cookies()  # the browser may still hold another test's session
    sign_in(driver, server, server.key(Role.PLAN, "S1", name="Negotiating planner"))
    doc = tiny_for("S1")
    first = tmp_path / "tiny.json"
    first.write_text(json.dumps(doc))
    upload(driver, first)
    wait_for(driver, "#versions")
    driver.find_element("css selector", "#solve-v1").click()
    wait_for(driver, "#status", timeout=120)
    result = driver.current_url.split("?")[0]

    driver.find_element("css selector", "#alternatives-link").click()
    provider = doc["providers"][0]["provider_id"]
    wait_for(driver, "#along").send_keys(f"provider {provider}")
    within = driver.find_element("css selector", "#within")
    within.clear()
    within.send_keys("5")
    driver.find_element("css selector", "#alternatives-submit").click()
    wait_for(driver, "#alternatives-table", timeout=120)
    rows = by_css(driver, "#alternatives-table tbody tr")
    assert rows
    for row in rows:
        assert row.find_element("css selector", ".reconciled").text == "reconciles to the penny"
    page_checked(driver, server, "23-alternatives")
    no_serious_accessibility_problems(driver, "alternatives")
    within = driver.find_element("css selector", "#within")
    within.clear()
    within.send_keys("0")
    driver.find_element("css selector", "#alternatives-submit").click()
    assert "within_share" in wait_for(driver, "#answer-error").text
    page_checked(driver, server, "23-alternatives-zero", status=422)

    driver.get(result)
    driver.find_element("css selector", "#what-it-takes-link").click()
    wait_for(driver, "#answer-submit").click()
    wait_for(driver, "#answer-table", timeout=120)
    total = sum(f["amount_pence"] for f in doc["funders"])
    change = _pence(driver.find_element("css selector", "#answer-change"))
    assert _pence(driver.find_element("css selector", "#answer-pot")) == total + change
    page_checked(driver, server, "24-what-it-takes")
    no_serious_accessibility_problems(driver, "what would it take")
    driver.find_element("css selector", "#funder").send_keys("nobody")
    driver.find_element("css selector", "#answer-submit").click()
    assert "no funder 'nobody'" in wait_for(driver, "#answer-error").text
    page_checked(driver, server, "24-what-it-takes-unknown-funder", status=422)
