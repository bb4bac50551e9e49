"""A JSON body sent with another content type (what `fetch` does with a string body unless told
otherwise: text/plain) is `malformed-request`, not a validation error of its members."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize(
    "ctype", ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded"]
)
def test_a_json_body_of_another_content_type_is_malformed(election, ctype):
    for url, body in (
        (election.url("/login"), {"code": "AAAA-BBBB-CCCC-DDDD-EEEE"}),
        (election.url("/ballots"), {"type": "ballot"}),
        (election.url("/transitions"), {"to": "nomination"}),
    ):
        r = election.client.post(
            url,
            content=json.dumps(body).encode(),
            headers={**election.committee, "Content-Type": ctype}
            if url.endswith("/transitions")
            else {"Content-Type": ctype},
        )
        assert r.status_code == 400, (url, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "/problems/malformed-request"
        assert r.json()["detail"] == "the body must be sent as application/json"


def test_json_content_types_are_read_as_json(election):
    code = {"code": "AAAA-BBBB-CCCC-DDDD-EEEE"}
    for ctype in ("application/json", "application/json; charset=utf-8"):
        r = election.client.post(
            election.url("/login"),
            content=json.dumps(code).encode(),
            headers={"Content-Type": ctype},
        )
        assert r.status_code == 401 and r.json()["type"] == "/problems/invalid-access-code"
    # JSON of the wrong shape stays a validation error
    r = election.client.post(election.url("/login"), json=["not", "an", "object"])
    assert r.status_code == 422 and r.json()["type"] == "/problems/validation-error"
