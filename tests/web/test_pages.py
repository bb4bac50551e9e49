"""The voter's pages over HTTP (no browser): the security headers on every page and asset, the
language by ?lang= and Accept-Language, SRI attributes that match the served bytes, booth_assets
naming exactly what is served, and an HTML error page for a browser where the API answers JSON."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.web.assets import booth_assets, sri
from api.web.errors import prefers_html
from tests.conftest import ElectionFixture

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _secure(r: Any) -> None:
    csp = r.headers["content-security-policy"]
    for part in (
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert part in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_every_page_and_asset_carries_the_security_headers(
    client: Any, operator_headers: dict[str, str]
) -> None:
    e = ElectionFixture(client, operator_headers)
    paths = ["/", f"/elections/{e.id}", "/assets/booth.js", "/assets/booth.css"]
    paths += [f"/elections/{e.id}/{p}" for p in ("vote", "registration", "receipt")]
    for path in paths:
        r = client.get(path, headers={"Accept": BROWSER})
        assert r.status_code == 200, path
        _secure(r)


def test_the_language_comes_from_the_link_then_accept_language(client: Any) -> None:
    assert '<html lang="nl">' in client.get("/").text
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "en-GB"}).text
    r = client.get("/?lang=nl", headers={"Accept-Language": "en-GB"})
    assert '<html lang="nl">' in r.text and 'href="?lang=en"' in r.text
    assert "set-cookie" not in r.headers


def test_scripts_and_styles_load_with_integrity_of_the_served_bytes(client: Any) -> None:
    html = client.get("/").text
    tags = re.findall(
        r'<(?:script src|link rel="stylesheet" href)="([^"]+)" integrity="([^"]+)"', html
    )
    assert {u for u, _ in tags} == {"/assets/booth.js", "/assets/booth.css"}
    for url, integrity in tags:
        assert integrity == sri(client.get(url).content)
    assert "<script>" not in html and "style=" not in html
    assert "http://" not in html and "https://" not in html  # no asset from another host


def test_booth_assets_are_the_bytes_served(client: Any, operator_headers: dict[str, str]) -> None:
    e = ElectionFixture(client, operator_headers)
    assets = booth_assets()
    assert set(assets) == {
        "/assets/booth.js",
        "/assets/booth.css",
        "/elections/{election}?lang=nl",
        "/elections/{election}?lang=en",
    }
    for name in ("booth.js", "booth.css"):
        assert client.get(f"/assets/{name}").content == assets[f"/assets/{name}"]
    for lang in ("nl", "en"):
        shell = assets[f"/elections/{{election}}?lang={lang}"]
        for path in ("/", f"/elections/{e.id}", f"/elections/{e.id}/vote"):
            assert client.get(path, params={"lang": lang}).content == shell, (path, lang)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/elections/nope", 404),
        ("/elections/nope/vote", 404),
        ("/nothing", 404),
        ("/elections/bad%20id", 422),
    ],
)
def test_a_browser_gets_an_html_error_page(client: Any, path: str, status: int) -> None:
    r = client.get(path, headers={"Accept": BROWSER, "Accept-Language": "nl"})
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="nl">' in r.text and "application/problem" not in r.text
    _secure(r)
    # A script (fetch's */*) still gets the problem document, and /api/v1 stays JSON.
    assert client.get(path).headers["content-type"] == "application/problem+json"
    r = client.get("/api/v1/elections/nope", headers={"Accept": BROWSER})
    assert r.headers["content-type"] == "application/problem+json"


def test_the_results_page_of_an_unknown_election_is_a_page_in_a_browser(client: Any) -> None:
    r = client.get("/api/v1/elections/nope/results/page", headers={"Accept": BROWSER})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


def test_prefers_html() -> None:
    assert prefers_html(BROWSER)
    assert not prefers_html("*/*")
    assert not prefers_html("application/json, text/html;q=0.5")
    assert not prefers_html(None)
