"""Test fixtures: a real database built by the migrations, and the ASGI app over httpx.

The database is SQLite (a file in a temporary folder) unless STEMBUS_TEST_DATABASE_URL names a
PostgreSQL server, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; then this run
creates its own database on that server and drops it afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from api.auth.tokens import issue_token
from api.main import create_app
from api.migrate import upgrade
from api.settings import Settings

TEST_SECRET = "test-secret-" + "s" * 40
DB_ENV = "STEMBUS_TEST_DATABASE_URL"


def _pg_admin(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    u = make_url(url)
    return psycopg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        dbname=u.database or "postgres",
        autocommit=True,
    )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = os.environ.get(DB_ENV)
    if not server:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'stembus.sqlite3'}"
        upgrade(url)
        yield url
        return
    name = f"stembus_test_{secrets.token_hex(6)}"
    with _pg_admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with _pg_admin(server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        secret=TEST_SECRET,
        public_base_url="https://stembus.test",
        data_dir=tmp_path_factory.mktemp("data"),
        login_max_failures=5,
    )


@pytest.fixture(scope="session")
def app(settings: Settings):  # type: ignore[no-untyped-def]
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture()
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def operator_headers(settings: Settings) -> dict[str, str]:
    token, _ = issue_token(
        settings, subject="operator", roles={"operator"}, election_id=None, minutes=30
    )
    return bearer(token)


class ElectionFixture:
    """A fresh election with a committee member logged in; tests add what they need."""

    def __init__(
        self,
        client: TestClient,
        operator_headers: dict[str, str],
        settings_body: dict[str, Any] | None = None,
    ) -> None:
        self.client = client
        body = {
            "name": "OR-verkiezing 2027",
            "organisation": "Acme B.V.",
            "settings": settings_body or {"seats": 9},
        }
        r = client.post("/api/v1/elections", json=body, headers=operator_headers)
        assert r.status_code == 201, r.text
        self.data = r.json()
        self.id: str = self.data["id"]
        r = client.post(
            f"/api/v1/elections/{self.id}/members",
            json={"name": "Commissielid", "committee": True, "trustee": True},
            headers=operator_headers,
        )
        assert r.status_code == 201, r.text
        self.member_code = r.json()["access_code"]
        self.committee = bearer(self.login(self.member_code))

    def login(self, code: str) -> str:
        r = self.client.post(f"/api/v1/elections/{self.id}/login", json={"code": code})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def url(self, suffix: str = "") -> str:
        return f"/api/v1/elections/{self.id}{suffix}"

    def transition(self, to: str) -> Any:
        return self.client.post(self.url("/transitions"), json={"to": to}, headers=self.committee)

    def log(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start: int | None = 0
        while start is not None:
            page = self.client.get(self.url("/log/entries"), params={"start": start}).json()
            out.extend(e["entry"] for e in page["entries"])
            start = page["next"]
        return out


@pytest.fixture()
def election(client: TestClient, operator_headers: dict[str, str]) -> ElectionFixture:
    return ElectionFixture(client, operator_headers)


@pytest.fixture()
def make_election(client: TestClient, operator_headers: dict[str, str]):  # type: ignore[no-untyped-def]
    def make(settings_body: dict[str, Any] | None = None) -> ElectionFixture:
        return ElectionFixture(client, operator_headers, settings_body)

    return make
