"""The public base URL is explicit: `stembus serve` says when it is not where the server
listens, and production opens no voting under a localhost log origin (it is permanent)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth.tokens import issue_token
from api.main import create_app
from api.settings import Settings, is_local_host, origin_mismatch
from tests.api.test_voting_support import voting_election
from tests.conftest import ElectionFixture, bearer


@pytest.mark.parametrize(
    ("url", "host", "port", "same"),
    [
        ("http://localhost:8000", "127.0.0.1", 8000, True),
        ("http://localhost:8000/", "localhost", 8000, True),
        ("http://127.0.0.1:8761", "127.0.0.1", 8761, True),
        ("http://localhost:8000", "127.0.0.1", 8761, False),  # `serve --port 8761`
        ("https://stembus.acme.nl", "127.0.0.1", 8000, False),  # behind a proxy: still said
        ("http://stembus.acme.nl:8000", "0.0.0.0", 8000, False),  # noqa: S104
        ("https://localhost:8000", "127.0.0.1", 8000, False),  # TLS is not what it serves
    ],
)
def test_serve_names_a_public_base_url_other_than_where_it_listens(
    url: str, host: str, port: int, same: bool
) -> None:
    said = origin_mismatch(url, host, port)
    assert (said is None) == same
    if said:
        assert url in said and f"http://{host}:{port}" in said


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("app.localhost", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", True),  # noqa: S104
        ("", True),
        ("stembus.acme.nl", False),
        ("10.0.0.5", False),
        ("localhost.acme.nl", False),
    ],
)
def test_local_hosts(host: str, local: bool) -> None:
    assert is_local_host(host) is local


def _production_app(settings: Settings, public_base_url: str) -> Any:
    return create_app(
        settings.model_copy(update={"mode": "production", "public_base_url": public_base_url})
    )


def _open_voting(settings: Settings, public_base_url: str) -> tuple[Any, Any]:
    prod = _production_app(settings, public_base_url)
    op_settings = prod.state.settings
    token, _ = issue_token(
        op_settings, subject="operator", roles={"operator"}, election_id=None, minutes=5
    )
    with TestClient(prod, raise_server_exceptions=False) as c:
        ve = voting_election(
            prod,
            lambda s=None: ElectionFixture(c, bearer(token), s),
            n_voters=2,
            open_voting=False,
        )
        r = ve.e.transition("voting")
        log = ve.e.log()
    prod.state.engine.dispose()
    return r, log


def test_production_refuses_to_open_voting_under_a_localhost_origin(settings: Settings) -> None:
    r, log = _open_voting(settings, "http://localhost:8000")
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["type"] == "/problems/local-log-origin"
    assert body["origin"].startswith("localhost:8000/elections/")
    assert "permanent" in body["detail"] and "STEMBUS_PUBLIC_BASE_URL" in body["detail"]
    assert not [x for x in log if x["type"] == "phase_changed" and x["to"] == "voting"]


def test_production_opens_voting_under_a_public_origin(settings: Settings) -> None:
    r, log = _open_voting(settings, "https://stembus.acme.example")
    assert r.status_code == 200, r.text
    assert log[-1]["type"] == "phase_changed" and log[-1]["to"] == "voting"


def test_development_opens_voting_under_localhost(app: Any, make_election: Any) -> None:
    # The test deployment is in development mode: a local origin is fine there.
    ve = voting_election(app, make_election, n_voters=2, open_voting=False)
    assert ve.e.transition("voting").status_code == 200
