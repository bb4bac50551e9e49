"""Invitations: codes exported for a mail merge, regenerated, and queued for delivery by SMTP to a
real aiosmtpd server started by the test (the background worker of api.roll.outbox); codes and
e-mail addresses never reach the logs. More on delivery (retries, resend, at rest, workers):
tests/api/test_mail_outbox.py."""

from __future__ import annotations

import csv
import io
import logging
import re
import socket
import time
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.test_roll_support import import_roll, person, populated, voter_id
from tests.conftest import ElectionFixture


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.refuse:
            # As real servers do, the answer repeats the address (status reasons drop it).
            return f"550 5.1.1 <{address}>: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture()
def captured_logs():
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Keep()
    logger = logging.getLogger("stembus")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


# Delivery at test speed: the worker looks every 50 ms, retries after 0.1 s, 0.2 s.
FAST_MAIL = {"mail_poll_seconds": 0.05, "mail_retry_base_seconds": 0.1, "mail_max_attempts": 3}


def client_with(settings, **changes):  # type: ignore[no-untyped-def]
    app = create_app(settings.model_copy(update={**FAST_MAIL, **changes}))
    return TestClient(app, raise_server_exceptions=False), app


def mail_status(e: ElectionFixture, **params) -> dict:  # type: ignore[no-untyped-def]
    r = e.client.get(e.url("/invitations/status"), params=params, headers=e.committee)
    assert r.status_code == 200, r.text
    return dict(r.json())


def delivered(e: ElectionFixture, timeout: float = 20) -> dict:  # type: ignore[no-untyped-def]
    """The status once no mail of the election is queued any more."""
    deadline = time.monotonic() + timeout
    while True:
        st = mail_status(e, limit=500)
        if st["counts"]["queued"] == 0:
            return st
        assert time.monotonic() < deadline, st
        time.sleep(0.05)


def queued(r, e: ElectionFixture, queued: int, without_email: int = 0, already: int = 0) -> None:  # type: ignore[no-untyped-def]
    """A 202 with these counts and the status as Location."""
    assert r.status_code == 202, r.text
    url = f"/api/v1/elections/{e.id}/invitations/status"
    assert r.headers["location"] == url
    assert r.json() == {
        "queued": queued,
        "without_email": without_email,
        "already_queued": already,
        "status_url": url,
    }


def test_export_for_mail_merge_and_regenerate(election, captured_logs):
    rows = populated(election, 4)
    r = election.client.post(
        election.url("/invitations/export"), json={}, headers=election.committee
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["cache-control"] == "no-store"
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert [t["employee_number"] for t in table] == [x["employee_number"] for x in rows]
    assert list(table[0]) == ["employee_number", "name", "email", "access_code"]
    codes = {t["employee_number"]: t["access_code"] for t in table}
    assert len(set(codes.values())) == 4
    for code in codes.values():
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}", code)
    for code in codes.values():
        assert election.client.post(election.url("/login"), json={"code": code}).json()[
            "roles"
        ] == ["voter"]
    # Default: only voters without a code — nobody now.
    r = election.client.post(
        election.url("/invitations/export"), json={}, headers=election.committee
    )
    assert len(list(csv.DictReader(io.StringIO(r.text)))) == 0
    # Explicitly selected voters get new codes; the old ones stop working.
    vid = voter_id(election, "E00001")
    r = election.client.post(
        election.url("/invitations/export"),
        json={"voter_ids": [vid], "without_code_only": False},
        headers=election.committee,
    )
    [row] = list(csv.DictReader(io.StringIO(r.text)))
    assert row["access_code"] != codes["E00001"]
    assert (
        election.client.post(election.url("/login"), json={"code": codes["E00001"]}).status_code
        == 401
    )
    assert (
        election.client.post(election.url("/login"), json={"code": row["access_code"]}).status_code
        == 200
    )
    # Regenerating one code.
    r = election.client.post(election.url(f"/roll/voters/{vid}/code"), headers=election.committee)
    assert (
        election.client.post(election.url("/login"), json={"code": row["access_code"]}).status_code
        == 401
    )
    assert (
        election.client.post(
            election.url("/login"), json={"code": r.json()["access_code"]}
        ).status_code
        == 200
    )
    assert (
        election.client.post(
            election.url("/roll/voters/999999/code"), headers=election.committee
        ).status_code
        == 404
    )
    text = "\n".join(captured_logs)
    assert "4 new access codes" in text or "new access codes" in text
    for x in [*codes.values(), *(r["email"] for r in rows)]:
        assert x not in text


def test_send_by_smtp(settings, operator_headers, smtp, request):
    inbox, port = smtp
    client, app = client_with(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_sender="verkiezingen@acme.example",
        smtp_security="none",
    )
    # After create_app, which resets the "stembus" logger's handlers.
    captured_logs = request.getfixturevalue("captured_logs")
    with client:
        e = ElectionFixture(client, operator_headers)
        rows = [person(1), person(2), {**person(3), "email": ""}, person(4)]
        assert import_roll(e, rows).status_code == 200
        inbox.refuse.add(rows[3]["email"])
        r = client.post(e.url("/invitations/send"), json={}, headers=e.committee)
        queued(r, e, 3, without_email=1)
        st = delivered(e)
        assert st["counts"] == {"queued": 0, "sent": 2, "failed": 1} and st["total"] == 3
        by_number = {x["employee_number"]: x for x in st["items"]}
        assert list(by_number) == ["E00001", "E00002", "E00004"]
        refused = by_number["E00004"]
        assert refused["status"] == "failed" and refused["attempts"] == 1
        assert refused["reason"] == "550 5.1.1 <<recipient>>: no such user"
        assert refused["email"] == rows[3]["email"] and refused["name"] == rows[3]["name"]
        assert by_number["E00001"]["status"] == "sent" and by_number["E00001"]["reason"] is None
        [entry] = [x for x in e.log() if x["type"] == "codes_issued"]
        assert (entry["via"], entry["count"], entry["replaced"]) == ("mail", 2, 0)
        assert sorted(to[0] for to, _ in inbox.messages) == [rows[0]["email"], rows[1]["email"]]
        to, msg = inbox.messages[0]
        body = msg.get_payload(decode=True).decode()
        assert msg["From"] == "verkiezingen@acme.example"
        assert msg["Subject"] == "Uw persoonlijke code / Your personal code: OR-verkiezing 2027"
        assert msg["Message-ID"].endswith("@stembus.test>")
        assert "Beste " in body and "Dear " in body
        assert f"https://stembus.test/elections/{e.id}" in body
        code = next(line.split()[-1] for line in body.splitlines() if "Code:" in line)
        assert client.post(e.url("/login"), json={"code": code}).status_code == 200
        # Sending again: only voters still without a code (the refused one and the one
        # without e-mail) are selected.
        inbox.refuse.clear()
        r = client.post(e.url("/invitations/send"), json={}, headers=e.committee)
        queued(r, e, 1, without_email=1)
        st = delivered(e)
        assert st["counts"] == {"queued": 0, "sent": 3, "failed": 0}
        assert mail_status(e, status="failed")["items"] == []
        # Both sends are decisions of the committee in the audit trail, with counts only
        # (newest first): what was queued, not what the mail server did later.
        audit = client.get(
            e.url("/audit"), params={"action": "invitations_sent"}, headers=e.committee
        ).json()
        assert [x["details"] for x in audit["items"]] == [
            {"queued": 1, "without_email": 1, "already_queued": 0},
            {"queued": 3, "without_email": 1, "already_queued": 0},
        ]
        assert audit["items"][0]["actor"]["name"] == "Commissielid"
    app.state.engine.dispose()
    text = "\n".join(captured_logs)
    assert "invitations queued" in text and "mail delivery" in text
    for x in [code, *(r["email"] for r in rows if r["email"])]:
        assert x not in text


def test_smtp_not_configured_or_unreachable(settings, operator_headers, election):
    populated(election, 2)
    r = election.client.post(election.url("/invitations/send"), json={}, headers=election.committee)
    assert r.status_code == 409 and r.json()["type"] == "/problems/smtp-not-configured"
    client, app = client_with(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_security="none",
        mail_max_attempts=2,
    )
    with client:
        e = ElectionFixture(client, operator_headers)
        populated(e, 2)
        code = e.client.post(e.url("/invitations/export"), json={}, headers=e.committee).text
        r = client.post(
            e.url("/invitations/send"), json={"without_code_only": False}, headers=e.committee
        )
        queued(r, e, 2)
        st = delivered(e)
        assert st["counts"] == {"queued": 0, "sent": 0, "failed": 2}
        for item in st["items"]:
            assert item["attempts"] == 2
            assert item["reason"] == "gave up after 2 attempts: connection refused"
        # Nothing changed: the exported codes still work.
        first = list(csv.DictReader(io.StringIO(code)))[0]["access_code"]
        assert client.post(e.url("/login"), json={"code": first}).status_code == 200
        assert [x["via"] for x in e.log() if x["type"] == "codes_issued"] == ["export"]
    app.state.engine.dispose()


def test_preview_with_the_committees_text(election):
    url = election.url("/invitations/preview")
    r = election.client.post(url, json={}, headers=election.committee)
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["subject"] == "Uw persoonlijke code / Your personal code: OR-verkiezing 2027"
    assert p["body"].startswith("Beste Voornaam Achternaam,") and "Dear " in p["body"]
    assert p["body"].count("XXXX-XXXX-XXXX-XXXX-XXXX") == 2
    assert p["body"].count(f"https://stembus.test/elections/{election.id}") == 2
    assert "Helpdesk" not in p["body"] and "Data:" not in p["body"]
    text = {
        "languages": "en",
        "dates": "Voting opens 3 March 09:00 and closes 10 March 17:00",
        "helpdesk": "Ans de Vries, or@acme.example, 020 555 0100",
        "note": "The candidates introduce themselves on the intranet.\nPlease vote!",
        "voter_page_url": "https://vote.acme.example/or2027",
    }
    p = election.client.post(url, json=text, headers=election.committee).json()
    assert p["subject"] == "Your personal code: OR-verkiezing 2027"
    assert "Beste" not in p["body"] and p["body"].startswith("Dear Voornaam Achternaam,")
    for value in (text["dates"], text["helpdesk"], text["note"]):
        assert value in p["body"]
    assert "    Code:    XXXX-XXXX-XXXX-XXXX-XXXX\n" in p["body"]
    assert "    Address: https://vote.acme.example/or2027\n" in p["body"]
    assert "stembus.test" not in p["body"]
    p = election.client.post(url, json={"languages": "nl"}, headers=election.committee).json()
    assert p["subject"] == "Uw persoonlijke code: OR-verkiezing 2027"
    assert "Dear" not in p["body"] and "    Code:  XXXX-XXXX-XXXX-XXXX-XXXX\n" in p["body"]
    # Bounded, plain text, an http(s) address, nothing unknown.
    for bad in (
        {"dates": "x" * 501},
        {"helpdesk": "x" * 501},
        {"note": "x" * 2001},
        {"note": "bell\x07"},
        {"dates": "a\rb"},
        {"voter_page_url": "javascript:alert(1)"},
        {"voter_page_url": "https://a.example/ b"},
        {"languages": "de"},
        {"subject": "mine"},
    ):
        r = election.client.post(url, json=bad, headers=election.committee)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["type"] == "/problems/validation-error"
    r = election.client.post(url, json={"note": "x" * 2000}, headers=election.committee)
    assert r.status_code == 200
    assert election.client.post(url, json={}).status_code == 401


def test_send_with_the_committees_text(settings, operator_headers, smtp):
    inbox, port = smtp
    client, app = client_with(settings, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
    with client:
        e = ElectionFixture(client, operator_headers)
        populated(e, 1)
        text = {"helpdesk": "or@acme.example", "voter_page_url": "https://vote.acme.example/x"}
        r = client.post(e.url("/invitations/send"), json={"text": text}, headers=e.committee)
        queued(r, e, 1)
        assert delivered(e)["counts"]["sent"] == 1
        [(_, msg)] = inbox.messages
        body = msg.get_payload(decode=True).decode()
        assert msg.get_content_type() == "text/plain"
        assert body.count("Helpdesk: or@acme.example") == 2
        assert body.count("https://vote.acme.example/x") == 2 and "stembus.test" not in body
        code = next(line.split()[-1] for line in body.splitlines() if "Code:" in line)
        assert client.post(e.url("/login"), json={"code": code}).status_code == 200
    app.state.engine.dispose()


def test_export_takes_no_mail_text(election):
    populated(election, 1)
    r = election.client.post(
        election.url("/invitations/export"), json={"text": {}}, headers=election.committee
    )
    assert r.status_code == 422 and r.json()["type"] == "/problems/validation-error"
