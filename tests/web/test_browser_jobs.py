"""Jobs, batches, multi-year plans and sign-out in a real Chromium, against a server on
which every solve is a job whose stages are paced (`tests.web.paced_solvers`).

A planner solves the realistic scenario as a job and watches each solver stage reported
as it finishes, then cancels a second solve while it runs; starts a batch and reads its
result tables; plans five years and sees the glide-path chart and its table; signs out,
after which a copy of the session cookie no longer opens the workspace.
"""

from __future__ import annotations

import re
import time
import urllib.request
from typing import Any

import pytest

from api.security import Role
from tests.web.conftest import Server
from tests.web.test_browser import (
    by_css,
    no_serious_accessibility_problems,
    page_checked,
    sign_in,
    upload,
    wait_for,
)
from tests.web.workbooks import REALISTIC

pytestmark = pytest.mark.e2e

STAGE = re.compile(r"stage (\d+) of (\d+) solved")


def text_of(driver: Any, selector: str) -> str | None:
    """The element's text, or None while the page swaps in its live part."""
    from selenium.common.exceptions import WebDriverException

    try:
        found = by_css(driver, selector)
        return str(found[0].text) if found else None
    except WebDriverException:
        return None


def watch_job(driver: Any, deadline_s: float = 240) -> list[str]:
    """The phases the job page showed, in order, until it opened the result."""
    seen: list[str] = []
    deadline = time.monotonic() + deadline_s
    while "/app/results/" not in driver.current_url:
        assert time.monotonic() < deadline, f"the job did not finish; it showed {seen}"
        phase = text_of(driver, "#job-phase")
        if phase and (not seen or seen[-1] != phase):
            seen.append(phase)
        time.sleep(0.2)
    return seen


def wait_text(driver: Any, selector: str, wanted: str, deadline_s: float = 240) -> None:
    deadline = time.monotonic() + deadline_s
    while text_of(driver, selector) != wanted:
        assert time.monotonic() < deadline, f"{selector} never read {wanted!r}"
        time.sleep(0.2)


def test_jobs_batches_plans_and_sign_out(browser: Any, job_server: Server) -> None:
    driver, server = browser, job_server
    sign_in(driver, server, server.key(Role.PLAN, "TRI", name="Planner"))
    upload(driver, REALISTIC)
    wait_for(driver, "#versions")
    scenario_url = driver.current_url.split("?")[0]

    # Solve as a job: every stage is reported as it finishes, then the result opens.
    driver.find_element("css selector", "#solve-v1").click()
    wait_for(driver, "#job-state")
    page_checked(driver, server, "10-job-running")
    no_serious_accessibility_problems(driver, "job")
    phases = watch_job(driver)
    stages = [(int(m[1]), int(m[2])) for p in phases if (m := STAGE.search(p))]
    total = stages[-1][1]
    assert total >= 2 and [done for done, _ in stages] == list(range(1, total + 1)), phases
    wait_for(driver, "svg.sankey")

    # A second solve, cancelled while its stages run: no result is stored.
    driver.get(scenario_url)
    driver.find_element("css selector", "#solve-v1").click()
    deadline = time.monotonic() + 120
    while not STAGE.search(text_of(driver, "#job-phase") or ""):
        assert time.monotonic() < deadline, "the second job never started"
        time.sleep(0.2)
    driver.find_element("css selector", "#cancel-job").click()
    wait_text(driver, "#job-state", "cancelled")
    assert by_css(driver, "#cancel-job") == []
    page_checked(driver, server, "11-job-cancelled")
    driver.get(scenario_url)
    assert len(by_css(driver, "#results tbody tr")) == 1

    # A batch: a sweep of three pot growths, followed until done, with its tables.
    growth = driver.find_element("css selector", "#batch-growth")
    growth.clear()
    growth.send_keys("-1, 0, 1")
    driver.find_element("css selector", "#start-batch").click()
    wait_for(driver, "#batch-state")
    driver.execute_script("window.sameDocument = true")  # gone if the page reloaded
    done_seen: list[str] = []
    deadline = time.monotonic() + 240
    while text_of(driver, "#batch-state") != "succeeded":  # followed live, no reload
        assert time.monotonic() < deadline, f"the batch did not finish: {done_seen}"
        done = text_of(driver, "#batch-done")
        if done and (not done_seen or done_seen[-1] != done):
            done_seen.append(done)
        time.sleep(0.2)
    assert set(done_seen) & {"1", "2"}, done_seen  # seen part done, as the runs finished
    assert done_seen == sorted(done_seen), done_seen
    assert driver.find_element("css selector", "#batch-done").text == "3"
    assert driver.execute_script("return window.sameDocument === true")
    assert len(by_css(driver, "#batch-runs tbody tr.run-optimal")) == 3
    assert len(by_css(driver, "#batch-places tbody tr")) == 3
    assert len(by_css(driver, "#batch-places thead th")) == 1 + 3  # a column per place
    assert by_css(driver, "#batch-places thead abbr")[0].get_attribute("title") == "Northbridge"
    assert len(by_css(driver, "#batch-providers thead th")) == 1 + 17
    page_checked(driver, server, "12-batch")
    no_serious_accessibility_problems(driver, "batch")
    driver.get(f"{server.base_url}/app/batches")
    assert len(by_css(driver, "#batches tbody tr")) == 1
    no_serious_accessibility_problems(driver, "batches")

    # A five-year plan: a glide path per place, with the table behind it.
    driver.get(scenario_url)
    driver.find_element("css selector", "#plan").click()
    wait_for(driver, "svg.glide-path", timeout=240)
    assert len(by_css(driver, "svg.glide-path path.glide")) == 3
    assert len(by_css(driver, "svg.glide-path circle.glide-point")) == 3 * 5
    assert len(by_css(driver, "#glide thead th")) == 1 + 5
    assert len(by_css(driver, "#glide tbody tr")) == 3
    page_checked(driver, server, "13-multi-year-plan")
    no_serious_accessibility_problems(driver, "multi-year plan")

    # Signing out ends the session on the server: a copy of the cookie is refused.
    copied = driver.get_cookie("alc_session")["value"]

    def open_with_copy() -> str:
        request = urllib.request.Request(
            f"{server.base_url}/app", headers={"Cookie": f"alc_session={copied}"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return str(answer.url)

    assert open_with_copy().endswith("/app")
    driver.find_element("css selector", "header form button").click()
    wait_for(driver, "#api_key")
    assert open_with_copy().endswith("/app/signin")
