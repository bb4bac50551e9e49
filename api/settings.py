"""Deployment settings, read from the environment with the prefix ``STEMBUS_``."""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that must never protect a real deployment (documentation examples, placeholders).
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "password",
        "development",
        "dev-secret",
        "stembus",
        "test-secret",
    }
)
DEV_SECRET = "dev-secret"  # noqa: S105 - only accepted when mode == "development"
MIN_SECRET_CHARS = 32
MIN_SECRET_BITS = 128
HOW_TO_MAKE_ONE = (
    "make one with `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'` "
    "and pass it as STEMBUS_SECRET"
)


def weak_secret(secret: str) -> str | None:
    """Why `secret` is too weak to protect a deployment, or None. The secret keys the tokens,
    the code hashes and the keys at rest (api.auth.tokens.derive_key), so it must resist
    guessing offline: at least 32 characters, no known default or placeholder, no short pattern
    repeated (`"a" * 32`, `"changeme" * 4`), at least 8 distinct characters, and at least 128
    bits by a generous estimate: length × log2 of the alphabet its character classes span
    (lower case, upper case, digits, other), so a random hex string of 32 characters passes."""
    s = secret.strip()
    if s.lower() in KNOWN_DEFAULT_SECRETS:
        return "it is a known default or placeholder"
    if len(s) < MIN_SECRET_CHARS:
        return f"it is shorter than {MIN_SECRET_CHARS} characters"
    for period in range(1, len(s) // 2 + 1):
        if s[period:] == s[:-period]:
            return f"it repeats a pattern of {period} character(s)"
    lowered = s.lower()
    for default in KNOWN_DEFAULT_SECRETS - {""}:
        if lowered.replace(default, "") == "" or len(lowered.replace(default, "")) < 8:
            return f"it is made of the placeholder {default!r}"
    if len(set(s)) < 8:
        return f"it uses only {len(set(s))} distinct characters"
    alphabet = sum(
        size
        for size, present in (
            (26, any(c.islower() for c in s)),
            (26, any(c.isupper() for c in s)),
            (10, any(c.isdigit() for c in s)),
            (33, any(not c.isalnum() for c in s)),
        )
        if present
    )
    bits = len(s) * math.log2(alphabet)
    if bits < MIN_SECRET_BITS:
        return f"it has too little variety (about {bits:.0f} bits; at least {MIN_SECRET_BITS})"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STEMBUS_", env_file=".env", extra="ignore")

    mode: Literal["development", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default a SQLite file in data_dir"
    )
    secret: str = Field(
        default=DEV_SECRET,
        description="deployment secret: signs tokens, keys hashes, encrypts server keys at rest",
    )
    public_base_url: str = "http://localhost:8000"
    cors_origins: list[str] = Field(default_factory=list)
    operator_token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    member_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    voter_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    login_max_failures: int = Field(
        default=300,
        ge=1,
        description="well-formed wrong codes per client address per election per window "
        "(README: the arithmetic)",
    )
    login_window_seconds: int = Field(default=900, ge=1)
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks (CIDR) of reverse proxies that may set the client "
        "address through X-Forwarded-For; nobody else may",
    )
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "stembus@localhost"
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls: plain connection upgraded by STARTTLS (port 587 or 25; refused if "
        "the server does not offer it); tls: implicit TLS from the first byte (port 465); none: "
        "no encryption, the codes cross the network readable (a relay on the same host only)",
    )
    smtp_username: str | None = Field(
        default=None, description="login (AUTH PLAIN or LOGIN) when set; only over TLS"
    )
    smtp_password: SecretStr | None = Field(
        default=None, description="the login's password, from the environment; never logged"
    )
    smtp_timeout_seconds: float = Field(
        default=30, gt=0, le=600, description="per connection and per SMTP command"
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description="PEM file of the CA(s) that sign the mail server's certificate (a company "
        "CA); unset: the system's trusted CAs. The certificate and host name are always checked",
    )
    mail_worker: bool = Field(
        default=True,
        description="deliver queued invitations from this service process (a background task); "
        "off: run `stembus mail deliver` (e.g. from cron) instead",
    )
    mail_max_attempts: int = Field(
        default=5, ge=1, le=50, description="delivery attempts of one mail before it is failed"
    )
    mail_retry_base_seconds: float = Field(
        default=30,
        gt=0,
        le=86_400,
        description="wait after the first temporary failure; doubled after each next one",
    )
    mail_retry_max_seconds: float = Field(
        default=3600, gt=0, le=7 * 86_400, description="the longest wait between two attempts"
    )
    mail_poll_seconds: float = Field(
        default=5, gt=0, le=3600, description="how often the worker looks for due mail"
    )
    mail_batch_size: int = Field(
        default=50, ge=1, le=1000, description="mails claimed and sent over one connection"
    )
    mail_claim_seconds: float = Field(
        default=600,
        gt=0,
        le=86_400,
        description="how long a worker's claim on a batch holds; a worker killed mid-batch "
        "leaves it to another after this",
    )
    log_level: str = "INFO"
    metrics_token: str | None = Field(
        default=None,
        description="when set, /metrics answers only `Authorization: Bearer <token>` (Prometheus "
        "`authorization: {credentials: …}`); unset, /metrics is open",
    )
    opentelemetry: bool = Field(
        default=False,
        description="FastAPI's native OpenTelemetry traces, metrics and logs, to the globally "
        "configured providers (off: no per-request provider lookups)",
    )

    @model_validator(mode="after")
    def _no_login_in_clear(self) -> Settings:
        if self.smtp_username and self.smtp_security == "none":
            raise ValueError(
                "STEMBUS_SMTP_USERNAME with STEMBUS_SMTP_SECURITY=none would send the password "
                "readable; use starttls or tls"
            )
        return self

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        why = weak_secret(self.secret) if self.mode != "development" else None
        if why:
            raise ValueError(
                f"STEMBUS_SECRET is too weak for production mode: {why}. A random value of at "
                f"least {MIN_SECRET_CHARS} characters is needed; {HOW_TO_MAKE_ONE}"
            )
        if self.mode == "development" and not self.secret:
            raise ValueError("STEMBUS_SECRET must not be empty")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, v: list[str]) -> list[str]:
        import ipaddress

        for p in v:
            try:
                ipaddress.ip_network(p, strict=False)
            except ValueError:
                raise ValueError(
                    f"STEMBUS_TRUSTED_PROXIES: {p!r} is not an address or network"
                ) from None
        return v

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'stembus.sqlite3').resolve()}"

    @property
    def issuer(self) -> str:
        return self.public_base_url.rstrip("/")

    @property
    def log_origin_prefix(self) -> str:
        """Origin of an election's log: ``<host[:port][path] of the base URL>/elections/<id>``
        (docs/protocol.md "Keys of an election")."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.public_base_url)
        return (parts.netloc or "localhost") + parts.path.rstrip("/")


def is_local_host(host: str | None) -> bool:
    """A name or address only this machine reaches: localhost, loopback, or unspecified."""
    import ipaddress

    h = (host or "").strip("[]").lower().rstrip(".")
    if not h or h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(h)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def origin_mismatch(public_base_url: str, host: str, port: int) -> str | None:
    """Why the public base URL is not where `stembus serve` listens, or None when it is (a
    local name for a local address counts as the same)."""
    from urllib.parse import urlsplit

    parts = urlsplit(public_base_url)
    public_port = parts.port or (443 if parts.scheme == "https" else 80)
    same_host = parts.hostname == host or (is_local_host(parts.hostname) and is_local_host(host))
    if same_host and public_port == port and parts.scheme == "http":
        return None
    return f"STEMBUS_PUBLIC_BASE_URL is {public_base_url}, but this server listens on http://{host}:{port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
