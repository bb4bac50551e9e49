"""Publishing the lists (works council) or the questions (consultation) to the log.

Entering `lists_published` appends, exactly as docs/log-entries.md says:

* works council: `lists_published` with every kiesgroep of the settings, in settings order. Each
  group holds the accepted lists (in order of submission) with their consenting candidates in
  list order, renumbered from 1. List ids are "l1", "l2", … and candidate ids "c1", "c2", … in
  that order, unique in the election. A group with no more candidates than seats gets
  `vote_held: false`: all its candidates are elected without a vote (docs/rules.md, E7).
* person system: per group one list (kind "person", name "Kandidaten <group name>") holding all
  consenting candidates of that group's accepted lists, ordered alphabetically (the name as on
  the roll, case-insensitive) or, when the committee chose "lot", by the verifiable lot of
  rules/lot.py: starting from the alphabetical order, one `shuffle` per group in settings order.
  Seed root (our choice, so anyone can redo it from the log): SHA-256 over the concatenated
  32-byte leaf hashes of every log entry before the `lists_published` entry (index 0 … i-1).
  The tally's lot (docs/protocol.md) is seeded separately, from the checkpoint of `voting closed`.
* consultation: `questions_published` with the settings' questions.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlmodel import Session, col, select

from api.elections import lifecycle
from api.elections.models import Election
from api.elections.service import settings_of
from api.lists.models import Candidate, CandidateList
from api.lists.service import publication
from api.log.models import LogEntry
from api.log.service import append_entry, entries_of_type
from api.roll.models import Voter
from rules.lot import Lot


def _accepted(
    session: Session, election_id: str
) -> list[tuple[CandidateList, list[tuple[Candidate, Voter]]]]:
    lists = list(
        session.exec(
            select(CandidateList)
            .where(CandidateList.election_id == election_id, CandidateList.status == "accepted")
            .order_by(col(CandidateList.submitted_at), col(CandidateList.id))
        )
    )
    out = []
    for lst in lists:
        rows = session.exec(
            select(Candidate, Voter)
            .join(Voter, col(Voter.id) == col(Candidate.voter_id))
            .where(Candidate.list_id == lst.id, col(Candidate.consent).is_(True))  # type: ignore[arg-type]
            .order_by(col(Candidate.position))
        )
        cands = [(c, v) for c, v in rows if v.on_roll]
        if cands:
            out.append((lst, cands))
    return out


@lifecycle.guard("lists_published")
def _lists_ready(session: Session, election: Election, ctx: Any) -> list[str]:
    if election.kind == "consultation":
        if not settings_of(election).questions:
            return ["a consultation needs at least one question in its settings"]
        return []
    unmet = []
    pending = session.exec(
        select(CandidateList.id).where(
            CandidateList.election_id == election.id, CandidateList.status == "submitted"
        )
    ).all()
    if pending:
        unmet.append(f"{len(pending)} submitted list(s) not yet validated")
    if not _accepted(session, election.id):
        unmet.append("no accepted list with a consenting candidate")
    return unmet


def lot_seed(session: Session, election_id: str) -> bytes:
    hashes = session.exec(
        select(LogEntry.leaf_hash)
        .where(LogEntry.election_id == election_id)
        .order_by(col(LogEntry.idx))
    )
    h = hashlib.sha256()
    for leaf in hashes:
        h.update(bytes(leaf))
    return h.digest()


def build_entry(session: Session, election: Election) -> dict[str, Any]:
    es = settings_of(election)
    accepted = _accepted(session, election.id)
    pub = publication(session, election.id)
    lot: Lot | None = None
    if es.voting_system == "person" and pub.person_order == "lot":
        lot = Lot(lot_seed(session, election.id))
        pub.lot_seed = lot.seed.hex()
    next_list, next_cand = 1, 1
    groups = []
    for g in es.kiesgroepen:
        mine = [(lst, cs) for lst, cs in accepted if lst.kiesgroep == g.id]
        if es.voting_system == "person":
            people = sorted(
                (v for _, cs in mine for _, v in cs), key=lambda v: (v.name.casefold(), v.name)
            )
            if lot is not None and people:
                keys = [str(i) for i in range(len(people))]
                people = [people[int(k)] for k in lot.shuffle(keys, purpose=f"order {g.id}")]
            raw = [("person", f"Kandidaten {g.name}", [v.name for v in people])] if people else []
        else:
            raw = [(lst.kind, lst.name, [v.name for _, v in cs]) for lst, cs in mine]
        lists = []
        for kind, name, names in raw:
            cands = []
            for pos, cname in enumerate(names, start=1):
                cands.append({"id": f"c{next_cand}", "name": cname, "position": pos})
                next_cand += 1
            lists.append({"id": f"l{next_list}", "name": name, "kind": kind, "candidates": cands})
            next_list += 1
        total = sum(len(x["candidates"]) for x in lists)
        groups.append(
            {
                "group": g.id,
                "seats": g.seats,
                "vote_held": total > (g.seats or 0),
                "system": es.voting_system,
                "votes_per_voter": es.votes_for(g),
                "lists": lists,
            }
        )
    pub.published = True
    session.add(pub)
    return {
        "type": "lists_published",
        "election": election.id,
        "system": es.voting_system,
        "groups": groups,
    }


@lifecycle.on_enter("lists_published")
def _publish(session: Session, election: Election, ctx: Any) -> None:
    if election.kind == "consultation":
        es = settings_of(election)
        append_entry(
            session,
            election.id,
            {
                "type": "questions_published",
                "election": election.id,
                "questions": [q.published() for q in es.questions],
            },
        )
        return
    append_entry(session, election.id, build_entry(session, election))


def public_status(session: Session, election: Election) -> dict[str, Any]:
    """What anyone may see before voting: per kiesgroep the seats, the roll counts once frozen,
    and once published the lists and whether a vote is held. Read from the public log only."""
    es = settings_of(election)
    frozen = entries_of_type(session, election.id, "roll_frozen")
    published = entries_of_type(session, election.id, "lists_published")
    questions = entries_of_type(session, election.id, "questions_published")
    counts = json.loads(frozen[-1].body)["counts"] if frozen else {}
    pub_groups = (
        {g["group"]: g for g in json.loads(published[-1].body)["groups"]} if published else {}
    )
    groups = []
    for g in es.kiesgroepen:
        p = pub_groups.get(g.id)
        groups.append(
            {
                "id": g.id,
                "name": g.name,
                "seats": g.seats,
                "voters": counts.get(g.id, {}).get("may_vote") if frozen else None,
                "vote_held": p["vote_held"] if p else None,
                "votes_per_voter": p["votes_per_voter"] if p else None,
                "lists": p["lists"] if p else [],
            }
        )
    return {
        "election": election.id,
        "status": election.status,
        "roll_frozen": bool(frozen),
        "lists_published": bool(published),
        "system": es.voting_system,
        "groups": groups,
        "questions": json.loads(questions[-1].body)["questions"] if questions else [],
    }
