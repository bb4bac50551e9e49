"""Short-lived bearer tokens (JWT, HS256 via python-jose).

Decoding always names the one accepted algorithm, the issuer and the audience, so `alg: none`,
algorithm confusion, tokens for another deployment and expired tokens are all refused
(python-jose >= 3.5 also carries the fixes for CVE-2024-33663 and CVE-2024-33664).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from jose import JWTError, jwt

from api.settings import Settings

ALGORITHM = "HS256"
AUDIENCE = "stembus-api"
# "submitter": a union representative account that submits candidate lists (api.lists).
ROLES = frozenset({"operator", "committee", "trustee", "voter", "submitter"})


def derive_key(settings: Settings, purpose: str) -> bytes:
    """A separate key per purpose from the one deployment secret (HMAC as a KDF)."""
    return hmac.new(
        settings.secret.encode(), b"stembus/" + purpose.encode(), hashlib.sha256
    ).digest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role set, scoped to one election (operator: none)."""

    subject: str
    roles: frozenset[str]
    election_id: str | None = None
    holder_id: int | None = None
    # The access code the token was issued for (api.deps: the token dies with it).
    code_id: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def has(self, role: str) -> bool:
        return role in self.roles


class TokenError(Exception):
    pass


def issue_token(
    settings: Settings,
    *,
    subject: str,
    roles: set[str] | frozenset[str],
    election_id: str | None,
    minutes: int,
    holder_id: int | None = None,
    code_id: int | None = None,
) -> tuple[str, datetime]:
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    now = datetime.now(UTC)
    exp = now + timedelta(minutes=minutes)
    claims = {
        "iss": settings.issuer,
        "aud": AUDIENCE,
        "sub": subject,
        "roles": sorted(roles),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()) - 5,
        "exp": int(exp.timestamp()),
        "jti": secrets.token_urlsafe(12),
    }
    if election_id is not None:
        claims["eid"] = election_id
    if holder_id is not None:
        claims["hid"] = holder_id
    if code_id is not None:
        claims["cid"] = code_id
    token = jwt.encode(claims, derive_key(settings, "jwt"), algorithm=ALGORITHM)
    return token, exp


def decode_token(settings: Settings, token: str) -> Principal:
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise TokenError("unexpected algorithm")
        claims = jwt.decode(
            token,
            derive_key(settings, "jwt"),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=settings.issuer,
            options={
                "require_exp": True,
                "require_iat": True,
                "require_aud": True,
                "require_iss": True,
                "require_sub": True,
            },
        )
    except JWTError as e:
        raise TokenError(str(e)) from None
    roles = claims.get("roles")
    if not isinstance(roles, list) or not roles or not set(roles) <= ROLES:
        raise TokenError("bad roles claim")
    eid = claims.get("eid")
    if "operator" not in roles and not isinstance(eid, str):
        raise TokenError("election-scoped token without election")
    hid = claims.get("hid")
    cid = claims.get("cid")
    return Principal(
        subject=str(claims["sub"]),
        roles=frozenset(roles),
        election_id=eid if isinstance(eid, str) else None,
        holder_id=hid if isinstance(hid, int) else None,
        code_id=cid if isinstance(cid, int) else None,
    )
