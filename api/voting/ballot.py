"""The published ballot definition of one kiesgroep, with its place in the log, so a client
reads it in one call instead of scanning the log (docs/client-protocol.md step 0.4).

The definition is the election's latest `questions_published` (consultation) or
`lists_published` (works council) entry — the one `keys` sized the ballot from and the tally
validates against — and the answer carries that entry verbatim with an inclusion proof against
the latest signed checkpoint: a client verifies both and takes the group's part from the entry
itself, trusting nothing else in the answer.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from api.elections.models import Election
from api.elections.service import settings_of
from api.log import tree
from api.log.models import LogEntry
from api.problems import ProblemError, problem_type

NOT_PUBLISHED = problem_type(
    "ballot-not-published",
    409,
    "Ballot not published yet",
    "The election has no `lists_published` / `questions_published` entry yet: the ballot is "
    "published when the election enters `lists_published`.",
)
UNKNOWN_GROUP = problem_type(
    "unknown-ballot-group",
    404,
    "No such kiesgroep",
    "The election's published ballot has no kiesgroep with this id.",
)


def published_ballot(session: Session, election: Election, group: str) -> dict[str, Any]:
    """The group's ballot definition, its entry, index, leaf hash and inclusion proof."""
    kind = "questions_published" if election.kind == "consultation" else "lists_published"
    row = session.exec(
        select(LogEntry)
        .where(LogEntry.election_id == election.id, LogEntry.type == kind)
        .order_by(col(LogEntry.idx).desc())
        .limit(1)
    ).first()
    cp = tree.latest_checkpoint(session, election.id)
    if row is None or cp is None or cp.size <= row.idx:
        raise ProblemError(NOT_PUBLISHED)
    entry = json.loads(row.body)
    definition: dict[str, Any] | None
    if kind == "questions_published":
        groups = {g.id for g in settings_of(election).kiesgroepen}
        definition = {"group": group, "questions": entry["questions"]} if group in groups else None
    else:
        definition = next((g for g in entry["groups"] if g.get("group") == group), None)
    if definition is None:
        raise ProblemError(UNKNOWN_GROUP, f"no kiesgroep {group!r} in the published ballot")
    _, path = tree.inclusion_proof(session, election.id, row.idx, cp.size)
    return {
        "election": election.id,
        "group": group,
        "vote_held": bool(definition.get("vote_held", True)),
        "definition": definition,
        "index": row.idx,
        "leaf_hash": bytes(row.leaf_hash).hex(),
        "entry": entry,
        "size": cp.size,
        "proof": [h.hex() for h in path],
        "checkpoint": cp.note,
    }
