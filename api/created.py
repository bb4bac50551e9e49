"""`201 Created` answers name what they created in a `Location` header (RFC 9110 §10.2.2): the URL
a client reads it back from — its own URL, or, where the created thing has none, the one view
that lists it (noted per route in the contract)."""

from __future__ import annotations

from typing import Any

from fastapi import Response

LOCATION_HEADER = {
    "Location": {
        "description": "where the created resource is read back (an absolute path)",
        "schema": {"type": "string"},
    }
}


def created(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entry of a 201 with its Location header."""
    return {201: {"description": description, "headers": LOCATION_HEADER}}


def set_location(response: Response, path: str) -> None:
    response.headers["Location"] = path
