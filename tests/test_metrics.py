"""Prometheus metrics: the same totals from every worker of `stembus serve --workers 2`
(prometheus-client's multiprocess mode), /metrics behind STEMBUS_METRICS_TOKEN when it is set,
and labels that name routes, never paths or anything of a voter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from cli.client import StembusClient
from tests.api.test_voting_support import voting_election
from tests.test_serve import _free_port


def _samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    out = []
    for line in text.splitlines():
        m = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            out.append((labels, float(m.group(2))))
    return out


def _count(text: str, route: str) -> float:
    return sum(
        v
        for labels, v in _samples(text, "stembus_http_requests_total")
        if labels["route"] == route and labels["status"] == "200"
    )


def test_every_worker_answers_with_the_same_totals(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "STEMBUS_DATA_DIR": str(tmp_path / "data"),
        "STEMBUS_SECRET": "x" * 40,
        "STEMBUS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    for var in ("STEMBUS_DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR", "STEMBUS_METRICS_TOKEN"):
        env.pop(var, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.3)
        for _ in range(30):  # a new connection each: the kernel spreads them over the workers
            assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        seen = set()
        for _ in range(8):
            text = httpx.get(f"{base}/metrics", timeout=5).text
            seen.add(_count(text, "/healthz"))
        assert seen == {30.0}, seen
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "metrics of all workers added up in" in " ".join(out.split()), out


def test_metrics_token(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"metrics_token": "m" * 32}))
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            r = c.get("/metrics")
            assert r.status_code == 401 and r.json()["type"] == "/problems/unauthenticated"
            r = c.get("/metrics", headers={"Authorization": "Bearer " + "n" * 32})
            assert r.status_code == 401
            r = c.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
            assert r.status_code == 200 and "stembus_http_requests_total" in r.text
    finally:
        app.state.engine.dispose()


def test_labels_are_routes_and_the_cast_path_has_nothing_else(
    app: Any, client: TestClient, make_election: Any
) -> None:
    for path in ("/openapi.json", "/docs", "/redoc", "/docs/assets/swagger-ui.css"):
        assert client.get(path).status_code == 200
    client.get("/api/v1/elections/nope12345678/results")
    ve = voting_election(app, make_election, n_voters=2)
    sdk = StembusClient(http=client)
    cred, _ = sdk.vote(ve.id, next(iter(ve.codes.values())), {"q1": ["yes"]})
    text = client.get("/metrics").text
    samples = _samples(text, "stembus_http_requests_total")
    routes = {labels["route"] for labels, _ in samples}
    assert {"/openapi.json", "/docs", "/redoc", "/docs/assets"} <= routes
    assert "/elections/{election_id}/ballots" in routes  # the template, as its router has it
    for labels, _ in samples:
        assert set(labels) == {"method", "route", "status"}
        # Templates only: no election id, credential or other value of a request.
        assert ve.id not in labels["route"] and "nope" not in labels["route"]
        assert labels["route"] == "unmatched" or labels["route"].startswith("/")
    for labels, _ in _samples(text, "stembus_http_request_seconds_bucket"):
        assert set(labels) == {"method", "route", "le"}
    assert cred.credential not in text and ve.id not in text
