"""Turnout for the committee, live: per kiesgroep, voters who may vote, credentials issued and
distinct credentials that cast a ballot (docs/protocol.md "What a verifier checks" 4 bounds the
latter by the former)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.elections.models import Election
from api.elections.service import settings_of
from api.roll.models import Voter
from api.voting.models import BallotSeq, CredentialIssuance
from api.voting.schemas import GroupTurnout, TurnoutOut


def turnout(session: Session, election: Election) -> TurnoutOut:
    eid = election.id
    issued = dict(
        session.execute(
            select(col(CredentialIssuance.group), func.count())
            .where(
                col(CredentialIssuance.election_id) == eid,
                col(CredentialIssuance.blind_sig).is_not(None),
            )
            .group_by(col(CredentialIssuance.group))
        ).all()
    )
    voted = dict(
        session.execute(
            select(col(BallotSeq.group), func.count())
            .where(col(BallotSeq.election_id) == eid)
            .group_by(col(BallotSeq.group))
        ).all()
    )
    may_vote = func.coalesce(col(Voter.vote_override), col(Voter.may_vote))
    eligible_q = select(col(Voter.kiesgroep), func.count()).where(
        col(Voter.election_id) == eid, may_vote.is_(True)
    )
    if hasattr(Voter, "on_roll"):
        eligible_q = eligible_q.where(col(Voter.on_roll).is_(True))
    eligible = dict(session.execute(eligible_q.group_by(col(Voter.kiesgroep))).all())
    groups = [g.id for g in settings_of(election).kiesgroepen]
    groups += sorted((set(issued) | set(voted)) - set(groups))
    rows = [
        GroupTurnout(
            group=g,
            eligible=int(eligible.get(g, 0)),
            credentials_issued=int(issued.get(g, 0)),
            voted=int(voted.get(g, 0)),
        )
        for g in groups
    ]
    return TurnoutOut(
        groups=rows,
        credentials_issued=sum(r.credentials_issued for r in rows),
        voted=sum(r.voted for r in rows),
    )
