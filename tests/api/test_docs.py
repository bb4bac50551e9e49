"""The interactive docs (/docs, /redoc) reference only the service's own origin, and work."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

# Attributes through which a page makes the browser fetch something.
_FETCHING = {"src", "href", "spec-url", "srcset", "action", "data", "poster"}


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        self.refs += [v for k, v in attrs if k in _FETCHING and v]

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.scripts.append(data)


def _parse(html: str) -> _Refs:
    p = _Refs()
    p.feed(html)
    return p


def _same_origin(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_page_references_only_its_own_origin(client: TestClient, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    parsed = _parse(r.text)
    assert parsed.refs, "the page loads its assets"
    assert all(_same_origin(u) for u in parsed.refs), parsed.refs
    # No absolute URL anywhere in the page (inline config, comments, fonts): nothing that could
    # make the browser talk to another host.
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", r.text, re.I), r.text
    # Every referenced asset is served here, with a usable type.
    for url in parsed.refs:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
        assert asset.headers["content-type"].split(";")[0] in {
            "text/javascript",
            "application/javascript",
            "text/css",
            "image/png",
            "application/json",
        }, (url, asset.headers["content-type"])


def test_swagger_ui_loads_the_contract_and_its_bundle(client: TestClient) -> None:
    html = client.get("/docs").text
    assert "/docs/assets/swagger-ui-bundle.js" in html and "/docs/assets/swagger-ui.css" in html
    assert "url: '/openapi.json'" in html
    assert '"validatorUrl": null' in html  # no contract sent to validator.swagger.io
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in bundle.text
    assert client.get("/openapi.json").json()["info"]["title"] == "Stembus"


def test_redoc_loads_the_contract_without_google_fonts(client: TestClient) -> None:
    html = client.get("/redoc").text
    assert '<redoc spec-url="/openapi.json">' in html
    assert "fonts.googleapis" not in html
    assert "Redoc" in client.get("/docs/assets/redoc.standalone.js").text


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_carry_a_csp_of_this_origin_only(client: TestClient, page: str) -> None:
    r = client.get(page)
    csp = dict(
        (d.split(" ", 1) + [""])[:2] for d in r.headers["content-security-policy"].split("; ")
    )
    assert csp["default-src"] == "'none'"
    assert csp["connect-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    script_src = csp["script-src"].split()
    assert script_src[0] == "'self'" and "'unsafe-inline'" not in script_src
    for source in csp.values():
        assert "http" not in source and "*" not in source, csp
    # Every inline script of the page is allowed by its hash, and nothing else is.
    wanted = {
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _parse(r.text).scripts
    }
    assert set(script_src[1:]) == wanted
    assert r.headers["x-content-type-options"] == "nosniff"


def test_unknown_asset_is_404(client: TestClient) -> None:
    assert client.get("/docs/assets/nope.js").status_code == 404
    assert client.get("/docs/assets/../../pyproject.toml").status_code == 404
