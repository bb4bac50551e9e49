"""Text the database can store: no NUL character (PostgreSQL refuses it in text) and no lone
surrogate (not a character at all: no UTF-8 encoding exists, so neither database nor any
client can take it). Every text field of a request — path, query, JSON body (keys too) —
is checked before anything else runs, and refused with a 422 naming the field; the roll import
checks its own rows (api.roll.importer), and CSV out neutralises formulas (`csv_cell`)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request

from api.problems import VALIDATION, ProblemError

_BAD = re.compile("[\x00\ud800-\udfff]")
# In a JSON text, NUL and surrogates can only appear as \u escapes (raw NUL is invalid JSON and
# raw surrogates invalid UTF-8): a body without these bytes needs no walk (a C-speed scan; a
# ballot or a login has none).
_ESCAPES = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
MSG = "must not contain NUL characters or lone surrogates"


def bad_text(s: str) -> bool:
    return _BAD.search(s) is not None


def without_bad_text(s: str) -> str:
    return _BAD.sub("", s)


def _walk(value: Any, loc: list[str | int]) -> list[str | int] | None:
    if isinstance(value, str):
        return loc if bad_text(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and bad_text(k):
                return [*loc, k.encode("utf-8", "backslashreplace").decode()]
            found = _walk(v, [*loc, k])
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _walk(v, [*loc, i])
            if found is not None:
                return found
    return None


def _refuse(loc: list[str | int]) -> ProblemError:
    return ProblemError(
        VALIDATION,
        "the request is invalid",
        errors=[{"loc": [str(p) for p in loc], "msg": MSG, "type": "string_invalid_characters"}],
    )


async def refuse_unstorable_text(request: Request) -> None:
    """Router dependency (api.routes): runs after FastAPI has read and parsed the body, before
    it validates it and before any other dependency."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and bad_text(value):
            raise _refuse(["path", name])
    if b"%00" in request.scope.get("query_string", b""):
        for name, value in request.query_params.multi_items():
            if bad_text(name) or bad_text(value):
                raise _refuse(["query", name])
    # FastAPI parsed the JSON body with Request.json(), which keeps it (Starlette's cache); a
    # route that reads its body itself (the roll import) has no parsed body here, and must not
    # be read early (its size bound applies while reading).
    body = request.__dict__.get("_body")
    if isinstance(body, bytes) and _ESCAPES.search(body) and "_json" in request.__dict__:
        loc = _walk(request.__dict__["_json"], ["body"])
        if loc is not None:
            raise _refuse(loc)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run: OWASP's advice for CSV injection, a leading `'`
    before a cell that starts with =, +, -, @, tab or carriage return (csv.writer quotes the
    cell when it holds the separator, a quote or a line break)."""
    return "'" + value if value.startswith(_FORMULA_START) else value
