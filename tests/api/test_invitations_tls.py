"""Invitations over TLS to a real aiosmtpd server: STARTTLS and implicit TLS, AUTH PLAIN and
AUTH LOGIN, the certificate checked against a CA file (a self-signed certificate made here with
`cryptography`), a refused login and an untrusted certificate answered with a problem, and the
password never in the logs."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from tests.api.test_invitations import (  # noqa: F401, F811 - fixtures
    Inbox,
    captured_logs,
    client_with,
    delivered,
    free_port,
    queued,
    smtp,
)
from tests.api.test_roll_support import populated
from tests.conftest import ElectionFixture

USER, PASSWORD = "stembus@acme.example", "pw-Zq8!not-in-any-log"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the CA file is the certificate itself)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stembus test mail server")])
    now = datetime.datetime.now(datetime.UTC)
    c = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("smtp-tls")
    (d / "cert.pem").write_bytes(c.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return d / "cert.pem", d / "key.pem"


class Logins:
    def __init__(self) -> None:
        self.mechanisms: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == USER
            and auth_data.password.decode() == PASSWORD
        )
        if ok:
            self.mechanisms.append(mechanism)
        return AuthResult(success=ok, handled=False)


def start_server(cert: tuple[Path, Path], mode: str, exclude: list[str]):  # type: ignore[no-untyped-def]
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    inbox, logins = Inbox(), Logins()
    common = dict(
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=logins,
        auth_required=True,
        auth_exclude_mechanism=exclude,
    )
    if mode == "starttls":
        controller = Controller(
            inbox, tls_context=ctx, require_starttls=True, auth_require_tls=True, **common
        )
    else:
        controller = Controller(inbox, ssl_context=ctx, auth_require_tls=False, **common)
    controller.start()
    return controller, inbox, logins


@pytest.mark.parametrize(
    ("mode", "exclude", "mechanism"),
    [("starttls", ["LOGIN"], "PLAIN"), ("tls", ["PLAIN"], "LOGIN")],
)
def test_send_over_tls_with_login(
    settings, operator_headers, cert, request, mode, exclude, mechanism
):
    controller, inbox, logins = start_server(cert, mode, exclude)
    try:
        client, app = client_with(
            settings,
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            smtp_security=mode,
            smtp_username=USER,
            smtp_password=SecretStr(PASSWORD),
            smtp_ca_file=cert[0],
            smtp_timeout_seconds=5,
        )
        captured_logs = request.getfixturevalue("captured_logs")
        with client:
            e = ElectionFixture(client, operator_headers)
            rows = populated(e, 2)
            r = client.post(e.url("/invitations/send"), json={}, headers=e.committee)
            queued(r, e, 2)
            st = delivered(e)
            assert st["counts"] == {"queued": 0, "sent": 2, "failed": 0}
            assert [x["attempts"] for x in st["items"]] == [1, 1]
            assert sorted(to[0] for to, _ in inbox.messages) == sorted(x["email"] for x in rows)
            assert logins.mechanisms == [mechanism]
            body = inbox.messages[0][1].get_payload(decode=True).decode()
            code = next(line.split()[-1] for line in body.splitlines() if "Code:" in line)
            assert client.post(e.url("/login"), json={"code": code}).status_code == 200
        app.state.engine.dispose()
    finally:
        controller.stop()
    text = "\n".join(captured_logs)
    assert "mail delivery" in text
    assert PASSWORD not in text and code not in text


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_wrong_password_and_untrusted_certificate(settings, operator_headers, cert, mode):
    controller, inbox, logins = start_server(cert, mode, [])
    try:
        base = dict(
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            smtp_security=mode,
            smtp_username=USER,
            smtp_timeout_seconds=5,
        )
        # A wrong password: retried (the operator may fix the setting), then failed with the
        # reason; nobody's code changed, no mail sent.
        client, app = client_with(
            settings,
            smtp_password=SecretStr("wrong"),
            smtp_ca_file=cert[0],
            mail_max_attempts=2,
            **base,
        )
        with client:
            e = ElectionFixture(client, operator_headers)
            populated(e, 2)
            r = client.post(e.url("/invitations/send"), json={}, headers=e.committee)
            queued(r, e, 2)
            st = delivered(e)
            assert st["counts"] == {"queued": 0, "sent": 0, "failed": 2}
            assert {x["reason"] for x in st["items"]} == {
                "gave up after 2 attempts: the mail server refused the login"
            }
            assert not [x for x in e.log() if x["type"] == "codes_issued"]
        app.state.engine.dispose()
        # The right password but no CA file: the self-signed certificate is not trusted by
        # default, so nothing is sent and no password crosses the connection.
        client, app = client_with(
            settings, smtp_password=SecretStr(PASSWORD), mail_max_attempts=1, **base
        )
        with client:
            e = ElectionFixture(client, operator_headers)
            populated(e, 2)
            r = client.post(e.url("/invitations/send"), json={}, headers=e.committee)
            queued(r, e, 2)
            st = delivered(e)
            assert st["counts"] == {"queued": 0, "sent": 0, "failed": 2}
            for item in st["items"]:
                assert item["reason"].startswith(
                    "gave up after 1 attempts: TLS: the mail server's certificate is not trusted"
                ), item
            assert not [x for x in e.log() if x["type"] == "codes_issued"]
        app.state.engine.dispose()
        assert inbox.messages == [] and logins.mechanisms == []
    finally:
        controller.stop()


def test_starttls_refused_when_not_offered(settings, operator_headers, smtp):  # noqa: F811
    """A server without STARTTLS: the default (starttls) does not fall back to plain text."""
    inbox, port = smtp
    client, app = client_with(settings, smtp_host="127.0.0.1", smtp_port=port, mail_max_attempts=1)
    with client:
        e = ElectionFixture(client, operator_headers)
        populated(e, 1)
        r = client.post(e.url("/invitations/send"), json={}, headers=e.committee)
        queued(r, e, 1)
        [item] = delivered(e)["items"]
        assert item["status"] == "failed" and "STARTTLS" in item["reason"], item
    app.state.engine.dispose()
    assert inbox.messages == []


def test_login_in_clear_refused_by_settings():
    from api.settings import Settings

    with pytest.raises(ValueError, match="readable"):
        Settings(smtp_host="mail.acme.example", smtp_security="none", smtp_username=USER)
