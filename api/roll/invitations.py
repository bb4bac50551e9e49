"""Invitations: a personal access code per voter, exported for a mail merge or mailed (queued
and delivered in the background by api.roll.outbox; this module makes the message and the
SMTP session).

Only a keyed hash of a code is stored (api.auth.codes), so a code can be shown only when it is
made. Exporting therefore *generates new codes* for the selected voters and returns them once;
any earlier code of those voters stops working. Never log codes or e-mail addresses.
"""

from __future__ import annotations

import csv
import io
import logging
import smtplib
import ssl
from collections.abc import Iterable
from email.message import EmailMessage
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from api.auth import codes
from api.auth.models import AccessCode
from api.auth.service import log_codes
from api.auth.tokens import Principal
from api.db import rowcount
from api.elections.models import Election, utcnow
from api.problems import problem_type
from api.roll.models import Voter
from api.roll.schemas import InvitationText
from api.settings import Settings
from api.text import csv_cell

log = logging.getLogger("stembus.invitations")

SMTP_NOT_CONFIGURED = problem_type(
    "smtp-not-configured",
    409,
    "No mail server configured",
    "Set STEMBUS_SMTP_HOST (and STEMBUS_SMTP_PORT, STEMBUS_SMTP_SENDER), or export the codes "
    "for a mail merge instead.",
)
_CHUNK = 500


def tls_context(settings: Settings) -> ssl.SSLContext:
    """Certificate and host name verified; the system's CAs, or only the configured CA file."""
    cafile = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def connect(settings: Settings) -> smtplib.SMTP:
    """An SMTP session as configured: implicit TLS, STARTTLS (refused when not offered) or
    plain; then the login when a user name is set. Raises OSError or smtplib.SMTPException;
    smtplib.SMTPAuthenticationError / SMTPNotSupportedError for a refused login. Nothing here
    logs, and smtplib's debug output stays off, so the password is never written anywhere."""
    host, port, timeout = (
        settings.smtp_host or "",
        settings.smtp_port,
        settings.smtp_timeout_seconds,
    )
    smtp: smtplib.SMTP
    if settings.smtp_security == "tls":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls_context(settings))
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        smtp.ehlo()
        if settings.smtp_security == "starttls":
            # starttls() raises SMTPNotSupportedError when the server does not offer it: the
            # codes are never sent in the clear by accident.
            smtp.starttls(context=tls_context(settings))
            smtp.ehlo()
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            try:
                smtp.login(settings.smtp_username, password)
            except (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError) as e:
                raise _LoginRefused from e
    except BaseException:
        smtp.close()
        raise
    return smtp


class _LoginRefused(Exception):
    pass


def select_voters(
    session: Session, election_id: str, voter_ids: list[int] | None, without_code_only: bool
) -> list[Any]:
    """The selected voters on the roll as light rows (id, employee_number, name, email)."""
    stmt = select(Voter.id, Voter.employee_number, Voter.name, Voter.email).where(
        Voter.election_id == election_id, col(Voter.on_roll)
    )
    if voter_ids is not None:
        stmt = stmt.where(col(Voter.id).in_(voter_ids))
    voters = list(session.execute(stmt.order_by(col(Voter.employee_number))))
    if without_code_only:
        have = set(
            session.exec(
                select(AccessCode.holder_id).where(
                    AccessCode.election_id == election_id,
                    AccessCode.holder_kind == "voter",
                    col(AccessCode.active),
                )
            )
        )
        voters = [v for v in voters if v.id not in have]
    return voters


def store_codes(
    session: Session,
    settings: Settings,
    election_id: str,
    pairs: Iterable[tuple[int, str]],
    *,
    via: str,
    by: Principal,
) -> None:
    """Store hashed codes in bulk; the holders' earlier codes (and their tokens) stop working.
    Appends the `codes_issued` entry: counts and the acting role only."""
    pairs = list(pairs)
    replaced = 0
    for i in range(0, len(pairs), _CHUNK):
        ids = [vid for vid, _ in pairs[i : i + _CHUNK]]
        replaced += rowcount(
            session,
            update(AccessCode)
            .where(
                col(AccessCode.election_id) == election_id,
                col(AccessCode.holder_kind) == "voter",
                col(AccessCode.holder_id).in_(ids),
                col(AccessCode.active),
            )
            .values(active=False),
        )
    now = utcnow()
    rows = [
        {
            "election_id": election_id,
            "holder_kind": "voter",
            "holder_id": vid,
            "code_hash": codes.hash_code(settings, election_id, code),
            "active": True,
            "created_at": now,
        }
        for vid, code in pairs
    ]
    if rows:
        session.execute(insert(AccessCode.__table__), rows)  # type: ignore[attr-defined]
    session.flush()
    if pairs:
        log_codes(
            session,
            election_id,
            holders="voter",
            via=via,
            count=len(pairs),
            replaced=replaced,
            by=by,
        )


def new_codes(voters: list[Any]) -> list[tuple[Any, str]]:
    return [(v, codes.new_code()) for v in voters]


def export_csv(
    session: Session, settings: Settings, election_id: str, voters: list[Voter], by: Principal
) -> str:
    pairs = new_codes(voters)
    ids = [(v.id, c) for v, c in pairs]
    store_codes(session, settings, election_id, ids, via="export", by=by)  # type: ignore[arg-type]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["employee_number", "name", "email", "access_code"])
    for v, code in pairs:
        w.writerow([csv_cell(v.employee_number), csv_cell(v.name), csv_cell(v.email or ""), code])
    log.info("exported %d new access codes for election %s", len(pairs), election_id)
    return out.getvalue()


def login_url(settings: Settings, election_id: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/elections/{election_id}"


SAMPLE_NAME = "Voornaam Achternaam"
SAMPLE_CODE = "XXXX-XXXX-XXXX-XXXX-XXXX"


def _nl(election: Election, name: str, code: str, url: str, text: InvitationText) -> str:
    extra = "".join(
        f"{label}: {value}\n\n"
        for label, value in (("Data", text.dates), ("Vragen? Helpdesk", text.helpdesk))
        if value
    )
    note = f"{text.note}\n\n" if text.note else ""
    return (
        f"Beste {name},\n\n"
        f'U staat op de kiezerslijst van "{election.name}" ({election.organisation}).\n'
        f"Met uw persoonlijke code kunt u inloggen om uw registratie te bekijken, collega's te "
        f"nomineren en later te stemmen:\n\n"
        f"    Code:  {code}\n"
        f"    Adres: {url}\n\n"
        f"{extra}{note}"
        f"De code is persoonlijk en geldt voor de hele verkiezing. Deel hem met niemand. "
        f"Ontvangt u later een nieuwe code, dan werkt deze niet meer.\n\n"
        f"Met vriendelijke groet,\nDe verkiezingscommissie\n"
    )


def _en(election: Election, name: str, code: str, url: str, text: InvitationText) -> str:
    extra = "".join(
        f"{label}: {value}\n\n"
        for label, value in (("Dates", text.dates), ("Questions? Helpdesk", text.helpdesk))
        if value
    )
    note = f"{text.note}\n\n" if text.note else ""
    return (
        f"Dear {name},\n\n"
        f'You are on the voter roll of "{election.name}" ({election.organisation}).\n'
        f"With your personal code you can log in to check your registration, nominate "
        f"colleagues and, later, vote:\n\n"
        f"    Code:    {code}\n"
        f"    Address: {url}\n\n"
        f"{extra}{note}"
        f"The code is personal and valid for the whole election. Do not share it. If you "
        f"receive a new code later, this one stops working.\n\n"
        f"Kind regards,\nThe election committee\n"
    )


def compose(
    settings: Settings, election: Election, name: str, code: str, text: InvitationText
) -> tuple[str, str]:
    """Subject and plain-text body. The committee's text fills slots of a fixed template, so
    the code and the address are in every mail, whatever it writes."""
    url = text.voter_page_url or login_url(settings, election.id)
    parts, subjects = [], []
    if text.languages in ("nl+en", "nl"):
        parts.append(_nl(election, name, code, url, text))
        subjects.append("Uw persoonlijke code")
    if text.languages in ("nl+en", "en"):
        parts.append(_en(election, name, code, url, text))
        subjects.append("Your personal code")
    return f"{' / '.join(subjects)}: {election.name}", "\n-- English --\n\n".join(parts)


def preview(settings: Settings, election: Election, text: InvitationText) -> dict[str, str]:
    subject, body = compose(settings, election, SAMPLE_NAME, SAMPLE_CODE, text)
    return {"subject": subject, "body": body}


def message(
    settings: Settings, election: Election, v: Any, code: str, text: InvitationText
) -> EmailMessage:
    """The invitation, Dutch first, then English (or one of them), as plain text."""
    subject, body = compose(settings, election, v.name, code, text)
    msg = EmailMessage()
    msg["From"] = settings.smtp_sender
    msg["To"] = v.email
    msg["Subject"] = subject
    msg.set_content(body)
    return msg
