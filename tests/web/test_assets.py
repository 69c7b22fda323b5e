"""No page or asset the app serves refers to another host; the API docs are served locally.

The browser test proves it by watching every request a real Chromium makes; this test
reads what the server sends, so it runs everywhere (no browser needed).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.security import Role
from tests.web.helpers import key, scenario_id_of, sign_in, tiny_json, upload

STATIC = Path(__file__).resolve().parents[2] / "api" / "web" / "static"
ATTRIBUTE = re.compile(r'\b(?:src|href|action|spec-url|data-openapi-url)="([^"]*)"')
ABSOLUTE = re.compile(r"\bhttps?://[^\s\"'<>)]+")
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)|@import\s+['\"]([^'\"]+)")
CDN_HINTS = ("cdn.", "fonts.googleapis", "fonts.gstatic", "unpkg.com", "jsdelivr", "cdnjs")


def outside(url: str) -> bool:
    """Whether ``url`` would be fetched from a host that is not the app's."""
    parts = urlsplit(url)
    return bool(parts.netloc) and parts.netloc != "testserver"


def pages(app: FastAPI, web: TestClient) -> dict[str, str]:
    csrf = sign_in(web, key(app, Role.ADMIN, "S1"))
    scenario = str(upload(web, csrf, "tiny.json", tiny_json()).url)
    path = f"/app/scenarios/{scenario_id_of(scenario)}/versions/1/solve"
    result = web.post(path, data={"csrf_token": csrf}).url.path
    found = {p: web.get(p).text for p in ("/app", f"/app/scenarios/{scenario_id_of(scenario)}",
                                          result, "/docs", "/redoc")}  # fmt: skip
    web.post("/app/signout", data={"csrf_token": csrf})
    found["/app/signin"] = web.get("/app/signin").text
    return found


def test_no_page_or_asset_refers_to_another_host(app: FastAPI, web: TestClient) -> None:
    assets: set[str] = set()
    for path, html in pages(app, web).items():
        without_namespaces = re.sub(r'\sxmlns(?::\w+)?="[^"]*"', "", html)
        assert ABSOLUTE.findall(without_namespaces) == [], path
        for url in ATTRIBUTE.findall(html):
            assert not outside(url), (path, url)
            if url.startswith("/static/"):
                assets.add(url.split("?")[0])
    assert {"/static/app.css", "/static/app.js", "/static/swagger-init.js",
            "/static/vendor/swagger-ui/swagger-ui-bundle.js",
            "/static/vendor/redoc/redoc.standalone.js"} <= assets  # fmt: skip
    for asset in sorted(assets):
        answer = web.get(asset)
        assert answer.status_code == 200, asset
        text = answer.text
        if asset.endswith(".css"):
            for match in CSS_URL.finditer(text):
                url = match.group(1) or match.group(2)
                assert url.startswith("data:") or not outside(url), (asset, url)
        elif "/vendor/" in asset:  # third-party bundles: strings, but no CDN to load from
            assert not [hint for hint in CDN_HINTS if hint in text], asset
        else:  # the app's own scripts and images name no host at all
            assert ABSOLUTE.findall(re.sub(r'xmlns="[^"]*"', "", text)) == [], asset


def test_vendored_files_keep_their_licences() -> None:
    for folder in ("swagger-ui", "redoc"):
        assert (STATIC / "vendor" / folder / "LICENSE").read_text().strip()
    assert "swagger-ui-dist" in (STATIC / "vendor" / "VERSIONS.txt").read_text()


def test_docs_pages_use_only_local_assets(web: TestClient) -> None:
    swagger = web.get("/docs")
    assert swagger.status_code == 200
    assert '<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js">' in swagger.text
    assert "<script>" not in swagger.text  # no inline script: the CSP would block it
    redoc = web.get("/redoc")
    assert '<script src="/static/vendor/redoc/redoc.standalone.js">' in redoc.text
    assert web.get("/openapi.json").json()["info"]["title"] == "Care allocator API"
