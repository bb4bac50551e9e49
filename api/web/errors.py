"""An HTML error page for a person in a browser: wherever the service would answer a problem
document, a request that prefers text/html outside /api/ gets a page in Dutch or English with
the same status (and Retry-After) instead. /api/v1 stays JSON for every client; the results
page (``…/results/page``), which people open in a browser, gets the page too.

Each problem handler of api.problems is wrapped, not replaced: the problem answer is made first
and gives the status, so both say the same."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from html import escape

from fastapi import FastAPI, Request
from starlette.responses import Response

from api.web.catalogue import TEXTS, error_text
from rules.explain import pick_lang

Handler = Callable[[Request, Exception], Awaitable[Response] | Response]
_RESULTS_PAGE = re.compile(r"^/api/v1/elections/[^/]+/results/page$")


def _q(part: str) -> float:
    for p in part.split(";")[1:]:
        k, _, v = p.strip().partition("=")
        if k.strip() == "q":
            try:
                return float(v)
            except ValueError:
                return 0.0
    return 1.0


def prefers_html(accept: str | None) -> bool:
    """text/html is named in Accept and weighs more than any JSON type (a browser's navigation,
    not `fetch`, whose default is */*)."""
    html = json = 0.0
    for part in (accept or "").lower().split(","):
        media = part.split(";", 1)[0].strip()
        if media in ("text/html", "application/xhtml+xml"):
            html = max(html, _q(part))
        elif media in ("application/json", "application/problem+json"):
            json = max(json, _q(part))
    return html > 0 and html > json


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") and not _RESULTS_PAGE.match(path):
        return False
    return prefers_html(request.headers.get("accept"))


def error_page(request: Request, status: int) -> Response:
    from api.web.assets import sri, static_file
    from api.web.pages import SECURITY_HEADERS

    lang = pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
    title, text = error_text(status, lang)
    t = {k: escape(v[lang]) for k, v in TEXTS.items()}
    other = "en" if lang == "nl" else "nl"
    html = (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} – Stembus</title>\n"
        f'<link rel="stylesheet" href="/assets/booth.css" '
        f'integrity="{sri(static_file("booth.css"))}">\n</head>\n<body>\n'
        '<header><div class="bar"><p class="brand">Stembus</p>\n'
        f'<nav><a href="?lang={other}" hreflang="{other}" lang="{other}">{t["other_lang"]}</a>'
        "</nav></div></header>\n"
        f'<main id="main"><h1>{escape(title)}</h1>\n'
        f'<section class="card"><p>{escape(text)}</p>\n'
        f'<p class="hint">{t["error"]} {status}</p>\n'
        f'<p><a href="/?lang={lang}">{t["home"]}</a></p></section></main>\n'
        f"<footer><p>{t['footer']}</p></footer>\n</body>\n</html>\n"
    )
    return Response(
        html,
        status_code=status,
        media_type="text/html; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Language": lang, "Vary": "Accept, Accept-Language"},
    )


def _wrap(original: Handler) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        answer = original(request, exc)
        response = await answer if not isinstance(answer, Response) else answer
        if not wants_html(request):
            return response
        page = error_page(request, response.status_code)
        if "retry-after" in response.headers:
            page.headers["Retry-After"] = response.headers["retry-after"]
        return page

    return handler


def install(app: FastAPI) -> None:
    """After api.problems.install: every problem handler answers a browser with a page."""
    for key, original in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _wrap(original)
