"""The election log's Merkle tree and signed checkpoints (RFC 9162, C2SP tlog-checkpoint).

Filled in with the voting work (issue 5); until then appends only store leaves.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from api.log.models import LogEntry


def after_append(session: Session, election_id: str, rows: Sequence[LogEntry]) -> None:
    return None
