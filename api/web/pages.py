"""The routes of the voter's pages (outside /api/v1): the invitation's address
``/elections/{id}`` and the pages below it answer the one HTML shell (api.web.assets); the
script does the rest through the public API. ``/assets/…`` serves the script and stylesheet.
``/console`` is the committee's and operator's console (issue 17), a client of the same API.

Every answer carries a strict Content-Security-Policy (scripts, styles and connections from this
origin only, nothing inline, no framing), ``Referrer-Policy: no-referrer`` and
``X-Content-Type-Options: nosniff``. The language comes from ``?lang=`` (a link, never a cookie:
the cast sends none), else Accept-Language, else Dutch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response

from api.deps import SessionDep
from api.elections.service import get_election
from api.problems import NOT_FOUND, ProblemError
from api.web.assets import CONSOLE_FILES, FILES, console_shell, shell, static_file
from rules.explain import pick_lang

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# The pages below an election's address (web/src/app.js names the same).
PAGES = ("vote", "registration", "nominations", "candidacies", "receipt", "trustee")

router = APIRouter(include_in_schema=False)

LangQuery = Annotated[str | None, Query(max_length=16)]
AcceptLanguage = Annotated[str | None, Header(max_length=500)]
ElectionId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _page(lang: str | None, accept_language: str | None, console: bool = False) -> Response:
    language = pick_lang(lang, accept_language)
    return Response(
        console_shell(language) if console else shell(language),
        media_type="text/html; charset=utf-8",
        headers={
            **SECURITY_HEADERS,
            "Content-Language": language,
            "Vary": "Accept-Language",
            "Cache-Control": "no-cache",
        },
    )


@router.get("/")
def home(lang: LangQuery = None, accept_language: AcceptLanguage = None) -> Response:
    return _page(lang, accept_language)


@router.get("/elections/{election_id}")
def landing(
    election_id: ElectionId,
    session: SessionDep,
    lang: LangQuery = None,
    accept_language: AcceptLanguage = None,
) -> Response:
    get_election(session, election_id)  # an unknown election is a 404 page, not an empty shell
    return _page(lang, accept_language)


@router.get("/elections/{election_id}/{page}")
def election_page(
    election_id: ElectionId,
    page: Annotated[str, Path(max_length=32)],
    session: SessionDep,
    lang: LangQuery = None,
    accept_language: AcceptLanguage = None,
) -> Response:
    if page not in PAGES:
        raise ProblemError(NOT_FOUND, "no such page")
    get_election(session, election_id)
    return _page(lang, accept_language)


@router.get("/console")
def console(lang: LangQuery = None, accept_language: AcceptLanguage = None) -> Response:
    """The committee's and operator's console (issue 17): one shell, the script routes by the
    address's fragment and does everything through /api/v1 with the member's bearer token."""
    return _page(lang, accept_language, console=True)


@router.get("/assets/{name}")
def asset(name: Annotated[str, Path(max_length=32)]) -> Response:
    media = FILES.get(name) or CONSOLE_FILES.get(name)
    if media is None:
        raise ProblemError(NOT_FOUND, "no such asset")
    return Response(
        static_file(name),
        media_type=media,
        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"},
    )
