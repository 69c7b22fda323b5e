"""The workspace over HTTP: sessions, cookie flags, CSRF, CSP, roles and tenancy, uploads."""

from __future__ import annotations

import io
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from allocator.io.excel import build_workbook
from api.security import Role
from api.web.session import PRESESSION_COOKIE, SESSION_COOKIE
from models import Scenario
from tests.api.helpers import tiny_for
from tests.web.helpers import client_of, csrf_of, key, scenario_id_of, sign_in, tiny_json, upload


def test_signing_in_sets_a_strict_httponly_cookie(app: FastAPI, web: TestClient) -> None:
    page = web.get("/app")
    assert page.url.path == "/app/signin"  # not signed in: sent to sign in
    pre = web.get("/app/signin")
    assert (
        "HttpOnly" in pre.headers["set-cookie"] and "SameSite=strict" in pre.headers["set-cookie"]
    )
    answer = web.post(
        "/app/signin",
        data={"csrf_token": csrf_of(pre.text), "api_key": key(app, Role.READ, "S1")},
        follow_redirects=False,
    )
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/app" in cookie
    assert "Secure" not in cookie  # plain HTTP: a Secure cookie would never come back
    assert key(app, Role.READ, "S1").split("_")[2] not in cookie  # never the key's secret


def test_cookie_is_secure_over_https(app: FastAPI) -> None:
    with client_of(app, "https://testserver") as client:
        pre = client.get("/app/signin")
        answer = client.post(
            "/app/signin",
            data={"csrf_token": csrf_of(pre.text), "api_key": key(app, Role.READ, "S1")},
            follow_redirects=False,
        )
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_a_wrong_key_or_a_forged_sign_in_is_refused(app: FastAPI, web: TestClient) -> None:
    pre = web.get("/app/signin")
    wrong = web.post("/app/signin", data={"csrf_token": csrf_of(pre.text), "api_key": "alc_x_y"})
    assert wrong.status_code == 401 and "not known" in wrong.text
    web.cookies.delete(PRESESSION_COOKIE, path="/app")
    forged = web.post(
        "/app/signin", data={"csrf_token": "made-up", "api_key": key(app, Role.READ, "S1")}
    )
    assert forged.status_code == 403
    assert SESSION_COOKIE not in web.cookies


def test_pages_carry_a_self_only_content_security_policy(web: TestClient) -> None:
    for path in ("/app/signin", "/docs", "/redoc", "/static/app.css"):
        policy = web.get(path).headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "http" not in policy  # no other host allowed
        assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    workspace = web.get("/app/signin").headers
    assert "'unsafe-inline'" not in workspace["content-security-policy"]
    assert workspace["x-frame-options"] == "DENY"


def test_forms_without_the_session_csrf_token_are_refused(app: FastAPI, web: TestClient) -> None:
    sign_in(web, key(app, Role.ADMIN, "S1"))
    missing = upload(web, "", "tiny.json", tiny_json())
    assert missing.status_code == 403 and "security token" in missing.text
    foreign = sign_in(client_of(app), key(app, Role.ADMIN, "S1"))  # another session's
    assert upload(web, foreign, "tiny.json", tiny_json()).status_code == 403
    assert "<table" not in web.get("/app").text  # nothing was stored
    assert web.post("/app/signout", data={}).status_code == 403


def test_read_key_sees_no_actions_and_is_refused(app: FastAPI, web: TestClient) -> None:
    csrf = sign_in(web, key(app, Role.PLAN, "S1"))
    created = upload(web, csrf, "tiny.json", tiny_json())
    scenario_id = scenario_id_of(str(created.url))
    solved = web.post(f"/app/scenarios/{scenario_id}/versions/1/solve", data={"csrf_token": csrf})
    assert solved.url.path.startswith("/app/results/"), solved.text[:500]
    result_url = solved.url.path
    assert 'id="approve"' not in solved.text  # a planner may not approve either
    assert web.post(f"{result_url}/approve", data={"csrf_token": csrf}).status_code == 403

    reader = client_of(app)
    read_csrf = sign_in(reader, key(app, Role.READ, "S1"))
    page = reader.get(f"/app/scenarios/{scenario_id}")
    assert page.status_code == 200 and "Solve v1" not in page.text
    assert 'id="upload"' not in reader.get("/app").text
    for path in (f"/app/scenarios/{scenario_id}/versions/1/solve", f"{result_url}/approve"):
        refused = reader.post(path, data={"csrf_token": read_csrf})
        assert refused.status_code == 403 and "role" in refused.text
    assert upload(reader, read_csrf, "tiny.json", tiny_json()).status_code == 403


def test_other_systems_scenarios_are_invisible(app: FastAPI, web: TestClient) -> None:
    csrf = sign_in(web, key(app, Role.ADMIN, "S1"))
    scenario_id = scenario_id_of(str(upload(web, csrf, "tiny.json", tiny_json()).url))
    solved = web.post(f"/app/scenarios/{scenario_id}/versions/1/solve", data={"csrf_token": csrf})
    outsider = client_of(app)
    other = sign_in(outsider, key(app, Role.ADMIN, "S2"))
    assert scenario_id not in outsider.get("/app").text
    for path in (
        f"/app/scenarios/{scenario_id}",
        f"/app/scenarios/{scenario_id}/versions/1/download?format=xlsx",
        solved.url.path,
        f"{solved.url.path}/export?format=csv",
    ):
        assert outsider.get(path).status_code == 404, path
    stolen = outsider.post(f"{solved.url.path}/approve", data={"csrf_token": other})
    assert stolen.status_code == 404
    # Uploading a scenario of a system the key is not bound to is refused, not stored.
    assert upload(outsider, other, "tiny.json", tiny_json("S1")).status_code == 403


def test_workbook_problems_are_located_by_cell_and_nothing_is_stored(
    app: FastAPI, web: TestClient
) -> None:
    csrf = sign_in(web, key(app, Role.PLAN, "S1"))
    workbook = build_workbook(Scenario.model_validate(tiny_for("S1")))
    workbook["Providers"]["F3"] = -5
    workbook["Funders"]["D2"] = "lots"
    buffer = io.BytesIO()
    workbook.save(buffer)
    answer = upload(web, csrf, "tiny.xlsx", buffer.getvalue())
    assert answer.status_code == 422
    cells = re.findall(r'<td class="where">([^<]+)</td>', answer.text)
    assert sorted(cells) == ["Funders!D2", "Providers!F3"]
    assert "must be 0 or more" in answer.text
    assert "<table" not in web.get("/app").text


def test_download_a_version_as_workbook_and_json(app: FastAPI, web: TestClient) -> None:
    csrf = sign_in(web, key(app, Role.PLAN, "S1"))
    scenario_id = scenario_id_of(str(upload(web, csrf, "tiny.json", tiny_json()).url))
    base = f"/app/scenarios/{scenario_id}/versions/1/download"
    as_json = web.get(f"{base}?format=json")
    assert as_json.json()["scenario_id"] == tiny_for("S1")["scenario_id"]
    as_xlsx = web.get(f"{base}?format=xlsx")
    assert "Providers" in load_workbook(io.BytesIO(as_xlsx.content)).sheetnames


def test_a_stale_version_upload_is_refused(app: FastAPI, web: TestClient) -> None:
    csrf = sign_in(web, key(app, Role.PLAN, "S1"))
    scenario_id = scenario_id_of(str(upload(web, csrf, "tiny.json", tiny_json()).url))
    path = f"/app/scenarios/{scenario_id}/versions"

    def post(base: int) -> TestClient:
        return web.post(
            path,
            data={"csrf_token": csrf, "base_version": str(base)},
            files={"file": ("tiny.json", tiny_json())},
        )

    assert post(1).url.path == f"/app/scenarios/{scenario_id}"
    stale = post(1)  # edited version 1, but version 2 exists now
    assert stale.status_code == 409 and "changed since you read it" in stale.text
    assert "v3" not in web.get(f"/app/scenarios/{scenario_id}").text


def test_expired_or_tampered_sessions_and_revoked_keys_end(app: FastAPI, web: TestClient) -> None:
    token = key(app, Role.READ, "S1")
    sign_in(web, token)
    cookie = web.cookies.get(SESSION_COOKIE, path="/app")
    assert cookie and web.get("/app").url.path == "/app"
    key_id, session_id, _, _ = cookie.split(".")
    signer = app.state.web_signer
    web.cookies.set(SESSION_COOKIE, signer.cookie_value(key_id, session_id, 1_000), path="/app")
    assert web.get("/app").url.path == "/app/signin"  # expired
    web.cookies.set(SESSION_COOKIE, cookie.replace(key_id, "0" * len(key_id)), path="/app")
    assert web.get("/app").url.path == "/app/signin"  # tampered
    web.cookies.set(SESSION_COOKIE, cookie, path="/app")
    with app.state.database.transaction() as session:
        from api.storage.tables import ApiKey, utcnow

        row = session.get(ApiKey, key_id)
        assert row is not None
        row.revoked_at = utcnow()
    assert web.get("/app").url.path == "/app/signin"  # revoked key: the session is over


def test_signing_out_ends_the_session(app: FastAPI, web: TestClient) -> None:
    csrf = sign_in(web, key(app, Role.READ, "S1"))
    answer = web.post("/app/signout", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303
    assert web.get("/app").url.path == "/app/signin"


def test_a_copied_cookie_stops_working_after_sign_out(app: FastAPI, web: TestClient) -> None:
    csrf = sign_in(web, key(app, Role.READ, "S1"))
    copied = web.cookies.get(SESSION_COOKIE, path="/app")
    assert copied
    thief = client_of(app)
    thief.cookies.set(SESSION_COOKIE, copied, path="/app")
    assert thief.get("/app").url.path == "/app"  # the copy works while the session lasts
    web.post("/app/signout", data={"csrf_token": csrf}, follow_redirects=False)
    assert thief.get("/app").url.path == "/app/signin"  # revoked on the server, not just here
    again = sign_in(web, key(app, Role.READ, "S1"))
    assert again != csrf and web.get("/app").url.path == "/app"  # a new sign-in is a new session
    assert thief.get("/app").url.path == "/app/signin"
    # A cookie signed with the server's secret is still refused if no sign-in recorded it.
    key_id = copied.split(".")[0]
    unrecorded = app.state.web_signer.cookie_value(key_id, "never-signed-in", 4_000_000_000)
    thief.cookies.set(SESSION_COOKIE, unrecorded, path="/app")
    assert thief.get("/app").url.path == "/app/signin"
