"""The workspace end to end in a real Chromium, against a server started by the test.

One flow, in order, as a planner and a finance director would use it: sign in, upload the
realistic workbook with three planted errors and see them located, upload it fixed,
solve, see the Sankey and the distance-from-target chart, upload a version with a 2%
smaller pot and compare, approve; then a read-only key sees no approve button and is
refused if it posts anyway. Every page is checked for console errors and for requests to
any host but the app's, and screenshotted into var/screenshots/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api.security import Role
from tests.web.conftest import SCREENSHOTS, Server
from tests.web.workbooks import PLANTED, REALISTIC, realistic, smaller_pot, workbook_bytes

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"

pytestmark = pytest.mark.e2e


def by_css(driver: Any, selector: str) -> list[Any]:
    return list(driver.find_elements("css selector", selector))


def wait_for(driver: Any, selector: str, timeout: float = 60) -> Any:
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(
        expected_conditions.presence_of_element_located(("css selector", selector))
    )


def page_checked(driver: Any, server: Server, name: str, status: int | None = None) -> None:
    """Screenshot the page; no console errors; nothing requested from another host.

    ``status``: the page itself is answered with this error status on purpose (its network
    log line is expected; any script, CSP or other resource error is still a failure)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(int(height), 1000), 9000))  # the whole page
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    driver.set_window_size(1280, 1000)
    expected = f"status of {status} " if status else None
    errors = [
        e
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE"
        and not (expected and e["source"] == "network" and expected in e["message"])
    ]
    assert errors == [], f"console errors on {name}: {errors}"
    outside = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if not url.startswith((server.base_url, "data:", "blob:")):
                outside.append(url)
    assert outside == [], f"{name} requested outside the app: {outside}"


def no_serious_accessibility_problems(driver: Any, name: str) -> None:
    """axe-core (injected by the test only) finds no serious or critical violation."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    report = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations))"
        ".catch(e => done([{id: 'axe-failed', impact: 'critical', help: String(e)}]));"
    )
    serious = [
        (v["id"], v["help"], [n["target"] for n in v.get("nodes", [])][:3])
        for v in report
        if v.get("impact") in ("serious", "critical")
    ]
    assert serious == [], f"accessibility on {name}: {serious}"


def record_load_times(driver: Any, url: str, name: str, times: int = 3) -> None:
    """Navigation Timing of fresh loads of ``url`` into var/screenshots/timings.json
    (measured, not asserted: the numbers depend on the machine)."""
    runs = []
    for _ in range(times):
        driver.get(url)
        entry = driver.execute_script(
            "return performance.getEntriesByType('navigation')[0].toJSON()"
        )
        runs.append({k: round(entry[k], 1) for k in
                     ("responseStart", "responseEnd", "domInteractive", "loadEventEnd")})  # fmt: skip
    path = SCREENSHOTS / "timings.json"
    recorded = json.loads(path.read_text()) if path.exists() else {}
    recorded[name] = runs
    path.write_text(json.dumps(recorded, indent=2))


def sign_in(driver: Any, server: Server, token: str) -> None:
    driver.get(f"{server.base_url}/app")
    field = wait_for(driver, "#api_key")  # the workspace sent us to sign in
    field.send_keys(token)
    driver.find_element("css selector", "#signin").click()
    wait_for(driver, "#role")


def upload(driver: Any, path: Path, field: str = "#file", button: str = "#upload") -> None:
    driver.find_element("css selector", field).send_keys(str(path))
    driver.find_element("css selector", button).click()


def test_planner_to_plan_of_record(browser: Any, server: Server, tmp_path: Path) -> None:
    driver = browser
    approver = server.key(Role.APPROVE, "TRI", name="Finance director")
    reader = server.key(Role.READ, "TRI", name="Board member")

    driver.get(f"{server.base_url}/app/signin")
    wait_for(driver, "#api_key")
    page_checked(driver, server, "00-sign-in")
    no_serious_accessibility_problems(driver, "sign in")
    sign_in(driver, server, approver)
    page_checked(driver, server, "01-scenarios-empty")
    no_serious_accessibility_problems(driver, "scenarios")

    broken = tmp_path / "realistic-with-errors.xlsx"
    broken.write_bytes(workbook_bytes(realistic(), errors=True))
    upload(driver, broken)
    wait_for(driver, "#problems")
    located = [cell.text for cell in by_css(driver, "#problems td.where")]
    assert sorted(located) == sorted(PLANTED), located
    page_checked(driver, server, "02-upload-problems", status=422)
    no_serious_accessibility_problems(driver, "upload problems")
    driver.get(f"{server.base_url}/app")
    assert by_css(driver, "table.sortable") == [], "an invalid upload must store nothing"

    fixed = tmp_path / "realistic.xlsx"
    fixed.write_bytes(workbook_bytes(realistic()))
    upload(driver, fixed)
    wait_for(driver, "#versions")
    scenario_url = driver.current_url.split("?")[0]
    page_checked(driver, server, "03-scenario")
    no_serious_accessibility_problems(driver, "scenario")

    driver.find_element("css selector", "#solve-v1").click()
    wait_for(driver, "svg.sankey", timeout=180)
    first_result = driver.current_url.split("?")[0]
    assert len(by_css(driver, "svg.sankey path.sankey-link")) > 20
    assert len(by_css(driver, "svg.sankey rect.sankey-node")) == 5 + 2 + 1 + 3 + 17
    assert len(by_css(driver, "svg.distance rect.bar")) == 3 + 25
    assert len(by_css(driver, "#distance tbody tr")) == 3 + 25
    assert "reconciles to the penny" in driver.find_element("css selector", "#recon-verdict").text
    record_load_times(driver, first_result, "allocation page, realistic example")
    page_checked(driver, server, "04-allocation")
    no_serious_accessibility_problems(driver, "allocation")

    driver.find_element("css selector", "#risk-link").click()
    wait_for(driver, "svg.histogram")
    assert len(by_css(driver, "svg.histogram rect.bar")) > 5
    assert len(by_css(driver, "#provider-risk tbody tr")) == 17
    page_checked(driver, server, "04b-risk")
    no_serious_accessibility_problems(driver, "risk")
    driver.get(first_result)

    # Sorting the distance table by its Distance heading, from the keyboard.
    heading = driver.find_element("css selector", "#distance thead th:last-child button")
    heading.send_keys("\n")
    values = [
        float(td.get_attribute("data-sort")) for td in by_css(driver, "#distance td:last-child")
    ]
    assert values == sorted(values)

    smaller = tmp_path / "realistic-2pc-smaller.json"
    smaller.write_text(json.dumps(smaller_pot(json.loads(REALISTIC.read_text()), 0.98)))
    driver.get(scenario_url)
    upload(driver, smaller, field="#version-file", button="#upload-version")
    wait_for(driver, "#solve-v2")
    driver.find_element("css selector", "#solve-v2").click()
    wait_for(driver, "#status", timeout=180)
    second_result = driver.current_url.split("?")[0]
    driver.get(f"{server.base_url}/app/compare?a={first_result.rsplit('/', 1)[1]}"
               f"&b={second_result.rsplit('/', 1)[1]}")  # fmt: skip
    wait_for(driver, "svg.waterfall")
    assert driver.find_element("css selector", "#pot-change").text.startswith("−£")
    assert len(by_css(driver, "#changes-provider tbody tr")) == 17
    page_checked(driver, server, "05-compare")
    no_serious_accessibility_problems(driver, "compare")

    driver.get(first_result)
    driver.find_element("css selector", "#note").send_keys("Agreed at the March board")
    driver.find_element("css selector", "#approve").click()
    record = wait_for(driver, "#plan-of-record")
    assert "Agreed at the March board" in record.text
    page_checked(driver, server, "06-approved")

    driver.find_element("css selector", "header form button").click()  # sign out
    wait_for(driver, "#api_key")
    sign_in(driver, server, reader)
    driver.get(first_result)
    wait_for(driver, "svg.sankey")
    assert by_css(driver, "#approve") == [] and by_css(driver, "#approve-form") == []
    driver.get(scenario_url)
    assert by_css(driver, "button.solve") == [] and by_css(driver, "#upload-version") == []
    page_checked(driver, server, "07-read-only")
    # Posting anyway, with this session's own CSRF token, is refused by the server.
    status = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const token = document.querySelector('input[name=csrf_token]').value;"
        "fetch(arguments[0], {method: 'POST', body: new URLSearchParams("
        "{csrf_token: token, note: 'not mine to approve'})}).then(r => done(r.status));",
        f"{first_result}/approve",
    )
    assert status == 403
    # Without the token (as a forged cross-site form would be) the server refuses too; and
    # the session cookie is out of the page's scripts' reach.
    forged = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {method: 'POST', body: new URLSearchParams({note: 'x'})})"
        ".then(r => done(r.status));",
        f"{first_result}/approve",
    )
    assert forged == 403
    assert "alc_session" not in driver.execute_script("return document.cookie")
    assert driver.get_cookie("alc_session")["httpOnly"] is True
    assert driver.get_cookie("alc_session")["sameSite"] == "Strict"
    driver.get_log("browser")  # the refused fetch is logged as an error, as it should be


def test_api_docs_render_from_local_assets(browser: Any, server: Server) -> None:
    driver = browser
    driver.get(f"{server.base_url}/docs")
    title = wait_for(driver, ".swagger-ui .info .title")
    assert "Care allocator API" in title.text
    assert by_css(driver, ".opblock")  # the operations rendered
    page_checked(driver, server, "08-docs")
    driver.get(f"{server.base_url}/redoc")
    heading = wait_for(driver, "h1")
    assert "Care allocator API" in heading.text
    page_checked(driver, server, "09-redoc")
