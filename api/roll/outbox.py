"""Invitations delivered in the background: the outbox (api.roll.models.MailOutbox) and its worker.

`POST …/invitations/send` only queues: one row per (election, voter) with a NEW access code,
encrypted at rest under the keys-at-rest key (api.log.atrest, label
``mail-code/<election>/<voter>``), and answers 202. A worker — an asyncio task in each service
process (:func:`lifespan`), or `stembus mail deliver` — claims due rows, sends them over one SMTP
connection (in a thread: smtplib blocks) and records each outcome:

- **accepted** (2xx after DATA): the code's hash becomes the voter's active code, their earlier
  code stops working (api.roll.invitations.store_codes, one `codes_issued` entry per batch), the
  row is `sent` and the ciphertext is deleted. A refused or undelivered mail changes no code.
- **temporary** (a 4xx answer, a timeout, a refused or lost connection, a refused login, an
  untrusted certificate): queued again after ``mail_retry_base_seconds × 2^(attempts-1)`` (at most
  ``mail_retry_max_seconds``) until ``mail_max_attempts``; then `failed`, ciphertext deleted.
- **permanent** (a 5xx answer to the recipient or the message, a malformed address, a voter
  off the roll or without an address, an ended election): `failed` at once, ciphertext deleted.

Claims are safe with several workers on one database: on PostgreSQL the claim locks its rows
with ``FOR UPDATE SKIP LOCKED`` (another worker's rows are skipped, not waited for); on SQLite
every write transaction holds the single writer lock, so the claiming UPDATE is atomic. A claim
carries a random token and holds until ``claimed_until``: rows of a worker killed mid-batch
become due again after ``mail_claim_seconds``; an outcome is recorded only while the row is
still queued under the worker's own token. A mail accepted by the server just before its worker
was killed (before the outcome's commit) is sent again on the next claim, with the same code and
Message-ID: SMTP cannot make this window zero.

`reason` is the server's answer (e.g. "550 5.1.1 mailbox unavailable") with the recipient's
address taken out, never a code. Nothing here logs an address, a name or a code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import smtplib
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidTag
from fastapi import FastAPI
from sqlalchemy import func, insert, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.auth import codes
from api.auth.tokens import Principal
from api.db import is_unavailable, rowcount, session_scope
from api.elections.models import Election, utcnow
from api.log import atrest
from api.problems import ProblemError
from api.roll import invitations
from api.roll.models import MailOutbox, Voter
from api.roll.schemas import InvitationText
from api.settings import Settings
from rules.phases import TERMINAL

log = logging.getLogger("stembus.mail")

STATUSES = ("queued", "sent", "failed")
REASON_MAX = 200
_CHUNK = 500


def status_url(election_id: str) -> str:
    return f"/api/v1/elections/{election_id}/invitations/status"


def _label(election_id: str, voter_id: int) -> str:
    return f"mail-code/{election_id}/{voter_id}"


def _queued_values(
    settings: Settings, election_id: str, voter_id: int, text_json: str, by: str
) -> dict[str, Any]:
    """A fresh queued state with a new code, encrypted; attempts and reason reset."""
    code = codes.new_code()
    now = utcnow()
    return {
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "claim_token": None,
        "claimed_until": None,
        "reason": None,
        "updated_at": now,
        "text_json": text_json,
        "requested_by": by,
        "code_enc": atrest.encrypt(settings, code.encode(), _label(election_id, voter_id)),
    }


def _rows_of(session: Session, election_id: str, voter_ids: list[int]) -> dict[int, MailOutbox]:
    out: dict[int, MailOutbox] = {}
    for i in range(0, len(voter_ids), _CHUNK):
        chunk = voter_ids[i : i + _CHUNK]
        for row in session.exec(
            select(MailOutbox).where(
                MailOutbox.election_id == election_id, col(MailOutbox.voter_id).in_(chunk)
            )
        ):
            out[row.voter_id] = row
    return out


def _report(election_id: str, queued: int, without_email: int, already: int) -> dict[str, Any]:
    return {
        "queued": queued,
        "without_email": without_email,
        "already_queued": already,
        "status_url": status_url(election_id),
    }


def queue(
    session: Session,
    settings: Settings,
    election: Election,
    voters: list[Any],
    by: Principal,
    text: InvitationText,
) -> dict[str, Any]:
    """Queue an invitation with a new code for each selected voter with an e-mail address; a
    voter whose mail is still queued keeps that one (`already_queued`). No code changes here."""
    from api.elections.service import actor

    if not settings.smtp_host:
        raise ProblemError(invitations.SMTP_NOT_CONFIGURED)
    with_mail = [v for v in voters if v.email]
    existing = _rows_of(session, election.id, [v.id for v in with_mail])
    text_json = text.model_dump_json()
    role = actor(by)
    queued = already = 0
    inserts: list[dict[str, Any]] = []
    for v in with_mail:
        row = existing.get(v.id)
        if row is not None and row.status == "queued":
            already += 1
            continue
        values = _queued_values(settings, election.id, v.id, text_json, role)
        if row is None:
            inserts.append({"election_id": election.id, "voter_id": v.id, **values})
        else:
            session.execute(update(MailOutbox).where(col(MailOutbox.id) == row.id).values(**values))
        queued += 1
    for i in range(0, len(inserts), _CHUNK):
        session.execute(insert(MailOutbox.__table__), inserts[i : i + _CHUNK])  # type: ignore[attr-defined]
    session.flush()
    log.info(
        "invitations queued",
        extra={
            "election": election.id,
            "queued": queued,
            "already_queued": already,
            "without_email": len(voters) - len(with_mail),
        },
    )
    return _report(election.id, queued, len(voters) - len(with_mail), already)


def resend(
    session: Session,
    settings: Settings,
    election: Election,
    voter_ids: list[int] | None,
    failed_only: bool,
    text: InvitationText | None,
    by: Principal,
) -> dict[str, Any]:
    """Queue again, with a new code, the failed mails (or, `failed_only` false, the sent ones
    too) of the selected voters; the committee's text is the new one, or each mail's own."""
    from api.elections.service import actor

    if not settings.smtp_host:
        raise ProblemError(invitations.SMTP_NOT_CONFIGURED)
    stmt = (
        select(MailOutbox, Voter.email, Voter.on_roll)
        .join(Voter, col(Voter.id) == col(MailOutbox.voter_id))
        .where(MailOutbox.election_id == election.id)
    )
    if voter_ids is not None:
        stmt = stmt.where(col(MailOutbox.voter_id).in_(voter_ids))
    role = actor(by)
    queued = already = without_email = 0
    for row, email, on_roll in session.execute(stmt.order_by(col(MailOutbox.id))).all():
        if row.status == "queued":
            already += 1
            continue
        if (failed_only and row.status != "failed") or not on_roll:
            continue
        if not email:
            without_email += 1
            continue
        text_json = text.model_dump_json() if text is not None else row.text_json
        session.execute(
            update(MailOutbox)
            .where(col(MailOutbox.id) == row.id)
            .values(**_queued_values(settings, election.id, row.voter_id, text_json, role))
        )
        queued += 1
    session.flush()
    log.info(
        "invitations queued again",
        extra={"election": election.id, "queued": queued, "already_queued": already},
    )
    return _report(election.id, queued, without_email, already)


def status_page(
    session: Session, election_id: str, status: str | None, offset: int, limit: int
) -> dict[str, Any]:
    """Per voter, where their invitation is: counts per status, then one page of rows in
    employee-number order (optionally of one status)."""
    counts = dict.fromkeys(STATUSES, 0)
    for st, n in session.execute(
        select(MailOutbox.status, func.count())
        .where(MailOutbox.election_id == election_id)
        .group_by(col(MailOutbox.status))
    ):
        counts[st] = int(n)
    stmt = (
        select(  # type: ignore[call-overload]
            col(MailOutbox.voter_id),
            col(Voter.employee_number),
            col(Voter.name),
            col(Voter.email),
            col(MailOutbox.status),
            col(MailOutbox.attempts),
            col(MailOutbox.reason),
            col(MailOutbox.updated_at),
        )
        .join(Voter, col(Voter.id) == col(MailOutbox.voter_id))
        .where(MailOutbox.election_id == election_id)
    )
    if status is not None:
        stmt = stmt.where(MailOutbox.status == status)
    page = session.execute(
        stmt.order_by(col(Voter.employee_number), col(MailOutbox.id)).offset(offset).limit(limit)
    ).all()
    return {
        "counts": counts,
        "total": counts[status] if status is not None else sum(counts.values()),
        "items": [
            {
                "voter_id": r.voter_id,
                "employee_number": r.employee_number,
                "name": r.name,
                "email": r.email or "",
                "status": r.status,
                "attempts": r.attempts,
                "reason": r.reason,
                "updated_at": r.updated_at,
            }
            for r in page
        ],
    }


# --- delivery ---------------------------------------------------------------------------------


@dataclass
class Job:
    id: int
    election_id: str
    voter_id: int
    attempts: int
    requested_by: str
    code: str | None = None
    message: EmailMessage | None = None
    address: str = ""
    outcome: str = ""  # sent | temporary | permanent | released
    reason: str | None = None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def clean_reason(text: str, address: str = "") -> str:
    """The server's answer, readable and bounded, without the recipient's address (a server
    often repeats it: "550 5.1.1 <jan@acme.nl>: mailbox unavailable")."""
    if address:
        text = re.sub(re.escape(address), "<recipient>", text, flags=re.IGNORECASE)
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text[:REASON_MAX] or "unknown"


def _answer(code: int, raw: bytes | str, address: str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return clean_reason(f"{code} {text}", address)


def _connection_reason(e: BaseException) -> str:
    if isinstance(e, invitations._LoginRefused):
        return "the mail server refused the login"
    if isinstance(e, ssl.SSLCertVerificationError):
        return clean_reason(
            f"TLS: the mail server's certificate is not trusted ({e.verify_message})"
        )
    if isinstance(e, ssl.SSLError):
        return clean_reason(f"TLS: {e.reason or e}")
    if isinstance(e, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, socket.gaierror):
        return "the mail server's name is not found"
    if isinstance(e, smtplib.SMTPServerDisconnected):
        return "the mail server closed the connection"
    if isinstance(e, smtplib.SMTPResponseException):
        return _answer(e.smtp_code, e.smtp_error, "")
    return clean_reason(str(e) or type(e).__name__)


def _temporary_code(code: int) -> bool:
    return not 500 <= code < 600


def _claim(session: Session, settings: Settings, token: str) -> list[int]:
    """Mark up to a batch of due, unclaimed rows as this worker's, in one transaction. Two
    statements, not UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED): PostgreSQL
    may run such a sub-select more than once and so claim more than n rows (seen here: 40 of
    40 with n = 3)."""
    now = utcnow()
    free = or_(col(MailOutbox.claimed_until).is_(None), col(MailOutbox.claimed_until) < now)
    ids = [
        i
        for i in session.exec(
            select(MailOutbox.id)
            .where(col(MailOutbox.status) == "queued", col(MailOutbox.next_attempt_at) <= now, free)
            .order_by(col(MailOutbox.next_attempt_at), col(MailOutbox.id))
            .limit(settings.mail_batch_size)
            # PostgreSQL: rows another worker is claiming are skipped, not waited for, and a
            # row locked here is re-checked as committed. SQLite renders no FOR UPDATE: the
            # transaction holds the single writer lock from its start (api.db), so no other
            # worker claims between the two statements.
            .with_for_update(skip_locked=True)
        )
        if i is not None
    ]
    if not ids:
        return []
    session.execute(
        update(MailOutbox)
        .where(col(MailOutbox.id).in_(ids))
        .values(
            claim_token=token,
            claimed_until=now + timedelta(seconds=settings.mail_claim_seconds),
        )
        .execution_options(synchronize_session=False)
    )
    return ids


def _prepare(session: Session, settings: Settings, token: str) -> list[Job]:
    """The claimed rows as jobs: the message built (the code decrypted, in memory only), or an
    outcome already when it cannot be sent."""
    rows = session.execute(
        select(MailOutbox, Voter.name, Voter.email, Voter.on_roll)
        .join(Voter, col(Voter.id) == col(MailOutbox.voter_id))
        .where(MailOutbox.claim_token == token, MailOutbox.status == "queued")
        .order_by(col(MailOutbox.id))
    ).all()
    elections: dict[str, Election | None] = {}
    jobs: list[Job] = []
    domain = urlsplit(settings.public_base_url).hostname or "localhost"
    for row, name, email, on_roll in rows:
        job = Job(row.id, row.election_id, row.voter_id, row.attempts, row.requested_by)
        jobs.append(job)
        if row.election_id not in elections:
            elections[row.election_id] = session.get(Election, row.election_id)
        election = elections[row.election_id]
        if election is None or election.status in TERMINAL:
            job.outcome, job.reason = "permanent", "the election has ended"
            continue
        if not on_roll:
            job.outcome, job.reason = "permanent", "no longer on the roll"
            continue
        if not email:
            job.outcome, job.reason = "permanent", "no e-mail address"
            continue
        if row.code_enc is None:
            job.outcome, job.reason = "permanent", "no code to send; resend"
            continue
        try:
            job.code = atrest.decrypt(
                settings, bytes(row.code_enc), _label(row.election_id, row.voter_id)
            ).decode()
        except InvalidTag:
            job.outcome = "permanent"
            job.reason = "the code cannot be read (the deployment secret changed); resend"
            continue
        text = InvitationText.model_validate(json.loads(row.text_json))
        voter = _Addressee(name=name, email=email)
        try:
            msg = invitations.message(settings, election, voter, job.code, text)
            # The same Message-ID if this very mail must be sent again (see the module).
            msg["Message-ID"] = f"<stembus.{row.id}.{bytes(row.code_enc)[:6].hex()}@{domain}>"
        except (ValueError, TypeError):
            job.outcome, job.reason = "permanent", "the e-mail address is not valid"
            continue
        job.message, job.address = msg, email
    return jobs


@dataclass
class _Addressee:
    name: str
    email: str


def _send(settings: Settings, jobs: list[Job], stop: threading.Event, deadline: float) -> None:
    """Send the jobs that have a message over one connection; sets each one's outcome."""
    todo = [j for j in jobs if j.message is not None and not j.outcome]
    if not todo:
        return
    try:
        smtp = invitations.connect(settings)
    except (invitations._LoginRefused, OSError, smtplib.SMTPException) as e:
        reason = _connection_reason(e)
        for j in todo:
            j.outcome, j.reason = "temporary", reason
        return
    with contextlib.closing(smtp):
        for i, j in enumerate(todo):
            if stop.is_set() or time.monotonic() > deadline:
                for rest in todo[i:]:
                    rest.outcome = "released"
                break
            assert j.message is not None
            try:
                smtp.send_message(j.message)
                j.outcome = "sent"
            except smtplib.SMTPRecipientsRefused as e:
                code, answer = next(iter(e.recipients.values()), (550, b"refused"))
                j.outcome = "temporary" if _temporary_code(code) else "permanent"
                j.reason = _answer(code, answer, j.address)
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
                j.outcome = "temporary" if _temporary_code(e.smtp_code) else "permanent"
                j.reason = _answer(e.smtp_code, e.smtp_error, j.address)
            except (OSError, smtplib.SMTPException) as e:
                # The connection is gone: this mail and the rest wait for the next attempt.
                reason = _connection_reason(e)
                for rest in todo[i:]:
                    rest.outcome, rest.reason = "temporary", reason
                break
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.quit()


def _backoff(settings: Settings, attempts: int) -> float:
    return float(
        min(settings.mail_retry_base_seconds * 2 ** (attempts - 1), settings.mail_retry_max_seconds)
    )


def _record(session: Session, settings: Settings, token: str, jobs: list[Job]) -> Counter[str]:
    """Each job's outcome, only where the row is still queued under this claim; the accepted
    codes become active per (election, role) with one codes_issued entry."""
    now = utcnow()
    counts: Counter[str] = Counter()
    accepted: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for j in jobs:
        mine = (
            update(MailOutbox)
            .where(
                col(MailOutbox.id) == j.id,
                col(MailOutbox.claim_token) == token,
                col(MailOutbox.status) == "queued",
            )
            .execution_options(synchronize_session=False)
        )
        released = {"claim_token": None, "claimed_until": None}
        if j.outcome == "released" or not j.outcome:
            rowcount(session, mine.values(**released))
            counts["released"] += 1
            continue
        attempts = j.attempts + 1
        if j.outcome == "sent":
            values: dict[str, Any] = {"status": "sent", "reason": None, "code_enc": None}
        elif j.outcome == "temporary" and attempts < settings.mail_max_attempts:
            values = {
                "status": "queued",
                "reason": j.reason,
                "next_attempt_at": now + timedelta(seconds=_backoff(settings, attempts)),
            }
        else:
            reason = j.reason or "unknown"
            if j.outcome == "temporary":
                reason = clean_reason(f"gave up after {attempts} attempts: {reason}")
            values = {"status": "failed", "reason": reason, "code_enc": None}
        values.update(released, attempts=attempts, updated_at=now)
        if rowcount(session, mine.values(**values)) != 1:
            counts["lost_claim"] += 1  # resent or taken over meanwhile: its new state stands
            continue
        counts["retrying" if values["status"] == "queued" else values["status"]] += 1
        if j.outcome == "sent" and j.code is not None:
            accepted.setdefault((j.election_id, j.requested_by), []).append((j.voter_id, j.code))
    for (election_id, role), pairs in accepted.items():
        invitations.store_codes(
            session,
            settings,
            election_id,
            pairs,
            via="mail",
            by=Principal(subject="mail-delivery", roles=frozenset({role})),
        )
    return counts


def deliver_once(
    engine: Engine, settings: Settings, stop: threading.Event | None = None
) -> Counter[str]:
    """Claim one batch of due mail, send it and record the outcomes. `claimed` is 0 when
    nothing was due."""
    stop = stop or threading.Event()
    token = secrets.token_hex(16)
    info = {"settings": settings}
    for s in session_scope(engine, info):
        claimed = _claim(s, settings, token)
    if not claimed:
        return Counter(claimed=0)
    for s in session_scope(engine, info):
        jobs = _prepare(s, settings, token)
    # Stop sending well before the claim runs out, so no other worker takes these rows while
    # this one still sends them.
    deadline = time.monotonic() + settings.mail_claim_seconds - settings.smtp_timeout_seconds
    deadline = max(deadline, time.monotonic() + settings.mail_claim_seconds / 2)
    _send(settings, jobs, stop, deadline)
    for s in session_scope(engine, info):
        counts = _record(s, settings, token, jobs)
    counts["claimed"] = len(claimed)
    for election_id in sorted({j.election_id for j in jobs}):
        mine = Counter(j.outcome for j in jobs if j.election_id == election_id)
        log.info(
            "mail delivery",
            extra={
                "election": election_id,
                "sent": mine["sent"],
                "temporary_failures": mine["temporary"],
                "permanent_failures": mine["permanent"],
            },
        )
    return counts


def deliver_all(engine: Engine, settings: Settings) -> Counter[str]:
    """Batches until nothing is due now (the CLI: one run of delivery)."""
    total: Counter[str] = Counter()
    while True:
        counts = deliver_once(engine, settings)
        if not counts["claimed"]:
            return total
        total.update(counts)
        if counts["claimed"] == counts["retrying"] + counts["released"]:
            return total  # every mail of the batch waits for a later attempt


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The delivery worker of this service process, when a mail server is configured and
    STEMBUS_MAIL_WORKER is on. Woken by a send or resend (after its commit), else it looks
    every mail_poll_seconds. At shutdown it finishes the mail in hand and records it."""
    settings: Settings = app.state.settings
    app.state.wake_mailer = _no_wake
    if not (settings.smtp_host and settings.mail_worker):
        yield
        return
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    stop = threading.Event()

    def wake_up() -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(wake.set)

    async def run() -> None:
        while not stop.is_set():
            busy = False
            try:
                counts = await asyncio.to_thread(deliver_once, app.state.engine, settings, stop)
                busy = counts["claimed"] > counts["retrying"] + counts["released"]
            except Exception as e:  # keep the worker alive; the next round retries
                if is_unavailable(e):
                    log.warning(
                        "mail delivery failed",
                        extra={"event": "database-unavailable", "error": type(e).__name__},
                    )
                else:
                    log.exception("mail delivery failed")
            if busy:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), settings.mail_poll_seconds)
            wake.clear()

    app.state.wake_mailer = wake_up
    task = asyncio.create_task(run())
    try:
        yield
    finally:
        app.state.wake_mailer = _no_wake
        stop.set()
        wake.set()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, settings.smtp_timeout_seconds + 10)


def _no_wake() -> None:
    return None
