"""The booth's assets: the exact bytes the service serves for the voter's pages, and their
Subresource Integrity hashes.

The script (api/web/static/booth.js) is built by esbuild from web/src and web/package-lock.json
and committed (tests/web/test_bundle.py rebuilds it and compares every byte); the stylesheet is
written by hand. The HTML shell is the same for every page and every election, one per
language, so :func:`booth_assets` is the whole set a browser can be given: the lead pins these
hashes in the public log when voting opens (issue 16 item 4), and an auditor compares them with
what a server serves.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from html import escape
from pathlib import Path

from api.web.catalogue import TEXTS
from rules.explain import Lang

STATIC = Path(__file__).resolve().parent / "static"
ASSETS_URL = "/assets"
FILES = {"booth.js": "text/javascript; charset=utf-8", "booth.css": "text/css; charset=utf-8"}
# The committee's and operator's console (/console, issue 17): its own bundle, on the booth's
# stylesheet; not a booth asset, so not pinned in the log.
CONSOLE_FILES = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
# The shell's address in booth_assets: it is served at /, /elections/{id} and every page below it.
SHELL_URL = "/elections/{election}?lang="


def sri(data: bytes) -> str:
    """The integrity attribute's value (SRI, sha256)."""
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()


@cache
def static_file(name: str) -> bytes:
    return (STATIC / name).read_bytes()


@cache
def shell(lang: Lang) -> bytes:
    """The one HTML document of every voter's page in ``lang``; the script reads the path."""
    t = {k: escape(v[lang]) for k, v in TEXTS.items()}
    other = "en" if lang == "nl" else "nl"
    js, css = static_file("booth.js"), static_file("booth.css")
    html = (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        "<title>Stembus</title>\n"
        '<link rel="icon" href="data:,">\n'
        f'<link rel="stylesheet" href="{ASSETS_URL}/booth.css" integrity="{sri(css)}">\n'
        f'<script src="{ASSETS_URL}/booth.js" integrity="{sri(js)}" defer></script>\n'
        "</head>\n<body>\n"
        f'<a class="skip" href="#main">{t["skip"]}</a>\n'
        '<header><div class="bar"><p class="brand">Stembus</p>\n'
        f'<nav><a href="?lang={other}" hreflang="{other}" lang="{other}">{t["other_lang"]}</a>'
        "</nav></div></header>\n"
        '<main id="main" tabindex="-1">\n'
        f'<p role="status">{t["loading"]}</p>\n'
        f"<noscript><p>{t['noscript']}</p></noscript>\n"
        "</main>\n"
        '<div id="live" class="visually-hidden" aria-live="polite"></div>\n'
        f"<footer><p>{t['footer']}</p></footer>\n"
        "</body>\n</html>\n"
    )
    return html.encode()


@cache
def console_shell(lang: Lang) -> bytes:
    """The one HTML document of the console in ``lang``; the script reads the fragment."""
    t = {k: escape(v[lang]) for k, v in TEXTS.items()}
    other = "en" if lang == "nl" else "nl"
    base, css, js = static_file("booth.css"), static_file("console.css"), static_file("console.js")
    html = (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{t['console']} – Stembus</title>\n"
        '<link rel="icon" href="data:,">\n'
        f'<link rel="stylesheet" href="{ASSETS_URL}/booth.css" integrity="{sri(base)}">\n'
        f'<link rel="stylesheet" href="{ASSETS_URL}/console.css" integrity="{sri(css)}">\n'
        f'<script src="{ASSETS_URL}/console.js" integrity="{sri(js)}" defer></script>\n'
        '</head>\n<body class="console">\n'
        f'<a class="skip" href="#main">{t["skip"]}</a>\n'
        f'<header><div class="bar"><p class="brand">Stembus · {t["console"]}</p>\n'
        f'<nav><a href="?lang={other}" hreflang="{other}" lang="{other}">{t["other_lang"]}</a>'
        "</nav></div></header>\n"
        '<main id="main" tabindex="-1">\n'
        f'<p role="status">{t["loading"]}</p>\n'
        f"<noscript><p>{t['console_noscript']}</p></noscript>\n"
        "</main>\n"
        '<div id="live" class="visually-hidden" aria-live="polite"></div>\n'
        f"<footer><p>{t['console_footer']}</p></footer>\n"
        "</body>\n</html>\n"
    )
    return html.encode()


def booth_assets() -> dict[str, bytes]:
    """URL path → the exact bytes served, for every booth asset (the HTML shell in both
    languages, the script, the stylesheet)."""
    out = {f"{ASSETS_URL}/{name}": static_file(name) for name in FILES}
    for lang in ("nl", "en"):
        out[f"{SHELL_URL}{lang}"] = shell(lang)
    return out
