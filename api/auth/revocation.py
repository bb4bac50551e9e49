"""Tokens die with their code: a token names the access code it was issued for (`cid`), and
is refused (401 token-revoked) once that code is regenerated, or once its election has ended
(tallied or cancelled) — except the committee's in a tallied election, which still fetches the
results and the proces-verbaal (its writes are refused by the phase).

Checked by api.deps on every election-scoped route, in one primary-key read outside the
request's transaction (autocommit: no BEGIN, and on SQLite no writer turn); the hot credential
routes fold the same check into the voter read they make anyway (api.voting.issuance).
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, bindparam, select
from sqlalchemy.engine import Engine

from api.auth.models import AccessCode
from api.auth.tokens import Principal
from api.db import READS_ONLY
from api.elections.models import Election
from api.problems import TOKEN_REVOKED, ProblemError
from rules.phases import TERMINAL

_E = Election.__table__  # type: ignore[attr-defined]
_AC = AccessCode.__table__  # type: ignore[attr-defined]
# The election's status and, if the token names one, its code (of this election and holder).
_ALIVE = (
    select(_E.c.status, _AC.c.active, _AC.c.holder_id)
    .select_from(_E)
    .outerjoin(_AC, and_(_AC.c.id == bindparam("c"), _AC.c.election_id == _E.c.id))
    .where(_E.c.id == bindparam("e"))
)


def refusal(
    principal: Principal, status: str | None, active: bool | None, holder: int | None
) -> ProblemError | None:
    """The ProblemError for a dead token, or None. `status` None: no such election (the route
    answers 404 itself)."""
    if status is None:
        return None
    if status in TERMINAL and not (status == "tallied" and "committee" in principal.roles):
        # The committee's own tokens outlive the tally: it still fetches the results and signs
        # the proces-verbaal (api.tally), and every write of an ended election is refused by
        # its phase anyway. Everyone else's tokens die with the election.
        return ProblemError(TOKEN_REVOKED, f"the election is {status}")
    if principal.code_id is not None and not (active and holder == principal.holder_id):
        return ProblemError(
            TOKEN_REVOKED,
            "the access code of this token no longer works (regenerated, or its holder removed)",
        )
    return None


def _autocommit(conn: Connection) -> Connection:
    if conn.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn.execution_options(**{READS_ONLY: True})


def check(engine: Engine, principal: Principal) -> None:
    with engine.connect() as conn:
        row = (
            _autocommit(conn)
            .execute(_ALIVE, {"e": principal.election_id, "c": principal.code_id})
            .first()
        )
    error = refusal(principal, *(row or (None, None, None)))
    if error is not None:
        raise error
