"""Deployment settings, read from the environment with the prefix ``STEMBUS_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that must never protect a real deployment (documentation examples, placeholders).
KNOWN_DEFAULT_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "development", "dev-secret", "stembus"}
)
DEV_SECRET = "dev-secret"  # noqa: S105 - only accepted when mode == "development"


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
    login_max_failures: int = Field(default=10, ge=1, description="per client per election")
    login_window_seconds: int = Field(default=900, ge=1)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "stembus@localhost"
    log_level: str = "INFO"
    opentelemetry: bool = Field(
        default=False,
        description="FastAPI's native OpenTelemetry traces, metrics and logs, to the globally "
        "configured providers (off: no per-request provider lookups)",
    )

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.mode != "development" and (
            self.secret.strip().lower() in KNOWN_DEFAULT_SECRETS or len(self.secret) < 32
        ):
            raise ValueError(
                "STEMBUS_SECRET must be set to a random value of at least 32 characters "
                "outside development mode (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`)"
            )
        if self.mode == "development" and not self.secret:
            raise ValueError("STEMBUS_SECRET must not be empty")
        return self

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
