"""Invitations delivered in the background (api.roll.outbox), against real aiosmtpd servers: a
temporary refusal retried over STARTTLS with a login, a permanent one failed with the server's
reason (without the address), resend, a code that becomes active only when its mail is accepted
and that is never in plain text in any table (nor in the SQLite file) while queued, several
workers on one database delivering each mail once, `stembus mail deliver`, paging and limits,
and the purge deleting the statuses."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import ssl
import threading
from collections import Counter
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from api.db import make_engine
from api.log import atrest
from api.roll import outbox
from api.roll.models import MailOutbox
from cli.main import app as cli_app
from tests.api.test_invitations import (  # noqa: F401 - fixtures
    Inbox,
    client_with,
    delivered,
    free_port,
    mail_status,
    queued,
    smtp,
)
from tests.api.test_invitations_tls import PASSWORD, USER, Logins, cert  # noqa: F401
from tests.api.test_roll_support import populated, voter_id
from tests.conftest import TEST_SECRET, ElectionFixture
from tests.db_scan import text_cells


def _code(msg: Any) -> str:
    body = msg.get_payload(decode=True).decode()
    return str(next(line.split()[-1] for line in body.splitlines() if "Code:" in line))


def _logs_in(e: ElectionFixture, code: str) -> bool:
    r = e.client.post(e.url("/login"), json={"code": code})
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


class Greylisting(Inbox):
    """Answers 451 to the first RCPT of each address (as greylisting servers do), then OK."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: Counter[str] = Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        self.seen[address] += 1
        if self.seen[address] == 1:
            return f"451 4.7.1 <{address}>: greylisted, try again later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


class Gated(Inbox):
    """Keeps each message, then holds the answer to DATA until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.arrived = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        self.arrived.set()
        await asyncio.to_thread(self.gate.wait, 30)
        return "250 Message accepted for delivery"


def test_a_temporary_refusal_is_retried_over_starttls(settings, operator_headers, cert):  # noqa: F811
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    inbox, logins = Greylisting(), Logins()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=logins,
        auth_required=True,
        tls_context=ctx,
        require_starttls=True,
        auth_require_tls=True,
    )
    controller.start()
    try:
        client, app = client_with(
            settings,
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            smtp_security="starttls",
            smtp_username=USER,
            smtp_password=SecretStr(PASSWORD),
            smtp_ca_file=cert[0],
            smtp_timeout_seconds=5,
        )
        with client:
            e = ElectionFixture(client, operator_headers)
            rows = populated(e, 3)
            queued(client.post(e.url("/invitations/send"), json={}, headers=e.committee), e, 3)
            st = delivered(e)
            assert st["counts"] == {"queued": 0, "sent": 3, "failed": 0}
            assert [(x["status"], x["attempts"], x["reason"]) for x in st["items"]] == [
                ("sent", 2, None)
            ] * 3
            assert sorted(to[0] for to, _ in inbox.messages) == sorted(r["email"] for r in rows)
            assert all(n == 2 for n in inbox.seen.values()) and len(logins.mechanisms) >= 2
            for _, msg in inbox.messages:
                assert _logs_in(e, _code(msg))
            # Each accepted batch made its codes active with one codes_issued entry.
            issued = [x for x in e.log() if x["type"] == "codes_issued"]
            assert sum(x["count"] for x in issued) == 3 and {x["via"] for x in issued} == {"mail"}
        app.state.engine.dispose()
    finally:
        controller.stop()


def _plain_code_places(engine: Any, code: str) -> list[str]:
    """Every column of every table (reflected from the database) where the code stands, with
    or without its dashes."""
    forms = [code, code.replace("-", "")]
    found = []
    for table, col, value in text_cells(engine):
        text = (
            bytes(value).decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
        )
        found += [f"{table}.{col}" for f in forms if f in text]
    return found


def test_the_code_is_active_only_once_accepted_and_never_plain_at_rest(settings, operator_headers):
    inbox = Gated()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        client, app = client_with(
            settings,
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            smtp_security="none",
            smtp_timeout_seconds=20,
        )
        with client:
            e = ElectionFixture(client, operator_headers)
            populated(e, 1)
            exported = client.post(e.url("/invitations/export"), json={}, headers=e.committee)
            old = list(csv.DictReader(io.StringIO(exported.text)))[0]["access_code"]
            vid = voter_id(e, "E00001")
            r = client.post(
                e.url("/invitations/send"),
                json={"without_code_only": False},
                headers=e.committee,
            )
            queued(r, e, 1)
            # The server has the message but has not answered DATA yet.
            assert inbox.arrived.wait(20)
            [(_, msg)] = inbox.messages
            new = _code(msg)
            assert new != old
            [item] = mail_status(e)["items"]
            assert item["status"] == "queued" and item["voter_id"] == vid
            # Queued: the new code does not log in, the old one still does.
            assert not _logs_in(e, new) and _logs_in(e, old)
            # Nowhere in plain text: not in any table, not in the SQLite file or its WAL.
            engine = app.state.engine
            assert _plain_code_places(engine, new) == []
            url = make_url(settings.sqlalchemy_url)
            if url.get_backend_name() == "sqlite":
                db = Path(str(url.database))
                for f in (db, db.with_name(db.name + "-wal")):
                    if f.exists():
                        raw = f.read_bytes()
                        assert new.encode() not in raw and new.replace("-", "").encode() not in raw
            # What is stored is the code encrypted under this deployment's keys-at-rest key,
            # for this voter of this election only.
            from sqlmodel import Session

            with Session(engine) as s:
                row = s.exec(select(MailOutbox).where(MailOutbox.election_id == e.id)).scalar_one()
                blob = bytes(row.code_enc)
            assert atrest.decrypt(settings, blob, f"mail-code/{e.id}/{vid}") == new.encode()
            with pytest.raises(Exception, match="InvalidTag|^$"):
                atrest.decrypt(settings, blob, f"mail-code/{e.id}/{vid + 1}")
            # Accepted: the new code works, the old one stops, the ciphertext is gone.
            inbox.gate.set()
            [item] = delivered(e)["items"]
            assert (item["status"], item["attempts"]) == ("sent", 1)
            assert _logs_in(e, new) and not _logs_in(e, old)
            with Session(engine) as s:
                row = s.exec(select(MailOutbox).where(MailOutbox.election_id == e.id)).scalar_one()
                assert row.code_enc is None and row.claim_token is None
        app.state.engine.dispose()
    finally:
        inbox.gate.set()
        controller.stop()


def test_a_permanent_refusal_fails_at_once_and_resend(settings, operator_headers, smtp):  # noqa: F811
    inbox, port = smtp
    client, app = client_with(settings, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
    with client:
        e = ElectionFixture(client, operator_headers)
        rows = populated(e, 3)
        inbox.refuse.add(rows[1]["email"])
        queued(client.post(e.url("/invitations/send"), json={}, headers=e.committee), e, 3)
        st = delivered(e)
        assert st["counts"] == {"queued": 0, "sent": 2, "failed": 1}
        [failed] = mail_status(e, status="failed")["items"]
        assert failed["employee_number"] == "E00002" and failed["attempts"] == 1
        assert failed["reason"] == "550 5.1.1 <<recipient>>: no such user"
        assert rows[1]["email"] not in failed["reason"]
        # Resend the failed ones (the default): only that one, with a new code once accepted.
        inbox.refuse.clear()
        r = client.post(e.url("/invitations/resend"), json={}, headers=e.committee)
        queued(r, e, 1)
        st = delivered(e)
        assert st["counts"] == {"queued": 0, "sent": 3, "failed": 0}
        again = next(x for x in st["items"] if x["employee_number"] == "E00002")
        assert (again["attempts"], again["reason"]) == (1, None)
        assert [to[0] for to, _ in inbox.messages].count(rows[1]["email"]) == 1
        # Nothing failed any more: the default resends nothing.
        queued(client.post(e.url("/invitations/resend"), json={}, headers=e.committee), e, 0)
        # A sent one again, with a new text: a new code; the one of the first mail stops.
        first = next(m for to, m in inbox.messages if to == [rows[0]["email"]])
        vid = voter_id(e, "E00001")
        r = client.post(
            e.url("/invitations/resend"),
            json={"voter_ids": [vid], "failed_only": False, "text": {"languages": "en"}},
            headers=e.committee,
        )
        queued(r, e, 1)
        delivered(e)
        second = [m for to, m in inbox.messages if to == [rows[0]["email"]]][-1]
        assert second["Subject"] == "Your personal code: OR-verkiezing 2027"
        assert _logs_in(e, _code(second)) and not _logs_in(e, _code(first))
        # Each resend is a committee decision in the audit trail, with its counts (newest first).
        audit = client.get(
            e.url("/audit"), params={"action": "invitations_resent"}, headers=e.committee
        ).json()
        assert [x["details"]["queued"] for x in audit["items"]] == [1, 0, 1]
        assert {x["actor"]["role"] for x in audit["items"]} == {"committee"}
    app.state.engine.dispose()


def test_queue_paging_limits_and_stembus_mail_deliver(settings, operator_headers, smtp):  # noqa: F811
    """With the worker off (STEMBUS_MAIL_WORKER=false) mail waits for `stembus mail deliver`."""
    inbox, port = smtp
    smtp_settings = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none"}
    client, app = client_with(settings, mail_worker=False, **smtp_settings)
    with client:
        e = ElectionFixture(client, operator_headers)
        populated(e, 5)
        queued(client.post(e.url("/invitations/send"), json={}, headers=e.committee), e, 5)
        # Still queued: sending again queues nobody twice.
        r = client.post(e.url("/invitations/send"), json={}, headers=e.committee)
        queued(r, e, 0, already=5)
        r = client.post(
            e.url("/invitations/resend"), json={"failed_only": False}, headers=e.committee
        )
        queued(r, e, 0, already=5)
        page = mail_status(e, limit=2)
        assert page["total"] == 5 and page["counts"] == {"queued": 5, "sent": 0, "failed": 0}
        assert [x["employee_number"] for x in page["items"]] == ["E00001", "E00002"]
        assert [x["employee_number"] for x in mail_status(e, offset=4)["items"]] == ["E00005"]
        assert mail_status(e, status="sent") == {**page, "total": 0, "items": []}
        # The operator reads it too.
        r = client.get(e.url("/invitations/status"), headers=operator_headers)
        assert r.status_code == 200 and r.json()["total"] == 5
        for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"status": "bounced"}):
            r = client.get(e.url("/invitations/status"), params=bad, headers=e.committee)
            assert r.status_code == 422 and r.json()["type"] == "/problems/validation-error", bad
        for body in ({"voter_ids": [-1]}, {"failed_only": "maybe"}, {"text": {"x": 1}}, {"y": 1}):
            r = client.post(e.url("/invitations/resend"), json=body, headers=e.committee)
            assert r.status_code == 422 and r.json()["type"] == "/problems/validation-error", body
        assert inbox.messages == []
        env = {
            "STEMBUS_DATABASE_URL": settings.sqlalchemy_url,
            "STEMBUS_SECRET": TEST_SECRET,
            "STEMBUS_PUBLIC_BASE_URL": "https://stembus.test",
            "STEMBUS_SMTP_HOST": "127.0.0.1",
            "STEMBUS_SMTP_PORT": str(port),
            "STEMBUS_SMTP_SECURITY": "none",
        }
        result = CliRunner().invoke(cli_app, ["mail", "deliver"], env=env)
        assert result.exit_code == 0, result.output
        assert "mail: 5 sent, 0 to retry later, 0 failed" in result.output
        assert mail_status(e)["counts"] == {"queued": 0, "sent": 5, "failed": 0}
        assert len(inbox.messages) == 5 and all(_logs_in(e, _code(m)) for _, m in inbox.messages)
        no_smtp = {k: v for k, v in env.items() if not k.startswith("STEMBUS_SMTP")}
        result = CliRunner().invoke(
            cli_app, ["mail", "deliver"], env={**no_smtp, "STEMBUS_SMTP_HOST": ""}
        )
        assert result.exit_code == 2 and "no mail server configured" in result.output
    app.state.engine.dispose()


def test_several_workers_on_one_database_deliver_each_mail_once(settings, operator_headers, smtp):  # noqa: F811
    """Four workers, each with its own engine (connections), claiming batches of 3 at once:
    on PostgreSQL through FOR UPDATE SKIP LOCKED, on SQLite through its writer lock."""
    inbox, port = smtp
    mail = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none"}
    client, app = client_with(settings, mail_worker=False, **mail)
    n = 40
    with client:
        e = ElectionFixture(client, operator_headers)
        rows = populated(e, n)
        queued(client.post(e.url("/invitations/send"), json={}, headers=e.committee), e, n)
        worker_settings = app.state.settings.model_copy(update={"mail_batch_size": 3})
        results: list[Counter[str]] = []
        errors: list[BaseException] = []
        start = threading.Barrier(4)

        def work() -> None:
            engine = make_engine(worker_settings.sqlalchemy_url)
            try:
                start.wait()
                results.append(outbox.deliver_all(engine, worker_settings))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                engine.dispose()

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        sent_to = Counter(to[0] for to, _ in inbox.messages)
        assert sent_to == Counter(r["email"] for r in rows)  # each exactly once
        assert sum(c["sent"] for c in results) == n
        assert sum(1 for c in results if c["sent"]) >= 2, results  # the work was shared
        assert mail_status(e)["counts"] == {"queued": 0, "sent": n, "failed": 0}
        issued = [x for x in e.log() if x["type"] == "codes_issued"]
        assert sum(x["count"] for x in issued) == n
    app.state.engine.dispose()


def test_purge_deletes_the_mail_statuses(settings, operator_headers, smtp):  # noqa: F811
    inbox, port = smtp
    client, app = client_with(settings, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
    with client:
        e = ElectionFixture(client, operator_headers)
        rows = populated(e, 2)
        inbox.refuse.add(rows[0]["email"])
        queued(client.post(e.url("/invitations/send"), json={}, headers=e.committee), e, 2)
        assert delivered(e)["counts"] == {"queued": 0, "sent": 1, "failed": 1}
        r = client.post(e.url("/cancel"), json={"reason": "opnieuw"}, headers=e.committee)
        assert r.status_code == 200, r.text
        r = client.post(e.url("/retention/purge"), json={"force": True}, headers=operator_headers)
        assert r.status_code == 200, r.text
        assert r.json()["counts"]["mail_statuses"] == 2
        r = client.get(e.url("/invitations/status"), headers=operator_headers)
        assert r.json() == {
            "counts": {"queued": 0, "sent": 0, "failed": 0},
            "total": 0,
            "items": [],
        }
        from sqlmodel import Session

        with Session(app.state.engine) as s:
            left = s.exec(select(MailOutbox).where(MailOutbox.election_id == e.id)).all()
        assert left == []
    app.state.engine.dispose()


def test_reasons_are_bounded_and_hold_no_address():
    r = outbox.clean_reason(
        "550 5.1.1 <Jan@Acme.NL>:\r\n mailbox\tunavailable " + "x" * 300, "jan@acme.nl"
    )
    assert r.startswith("550 5.1.1 <<recipient>>: mailbox unavailable x")
    assert len(r) == outbox.REASON_MAX and "acme" not in r.lower()
    assert os.linesep not in r and "\t" not in r
