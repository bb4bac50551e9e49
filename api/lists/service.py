"""The rules of candidate lists (WOR art. 9; docs/rules.md "Candidate lists").

* Union lists are submitted by a union representative account that the committee registers
  (holder kind "submitter"); free lists by a voter entitled to vote who declares not to be a
  member of a union that submits a list, for their own kiesgroep.
* One equal submission window for all (the schedule's candidacy phase when set, otherwise the
  whole candidacy phase): lists are created, changed and submitted only inside it.
* Candidates are ordered, must be on the roll in the list's kiesgroep and eligible to stand, and
  consent through their own voter login; a person consents to at most one list, so a person
  appears on at most one published list. Candidates without consent are not published.
* The committee accepts or rejects each submitted list, with a reason for every rejection; a
  rejected list may be fixed and resubmitted inside the window.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from api.auth import service as auth_service
from api.auth.tokens import Principal
from api.elections.models import Election
from api.elections.service import settings_of
from api.lists.models import Candidate, CandidateList, ListPublication, Submitter
from api.problems import FORBIDDEN, NOT_FOUND, ProblemError, problem_type
from api.roll.models import Voter
from api.roll.service import current_voter
from api.settings import Settings

SUBMISSION_CLOSED = problem_type(
    "submission-window-closed",
    409,
    "The submission window is closed",
    "Lists are created, changed and submitted only in the candidacy phase, within its "
    "scheduled window when one is set — one equal window for all lists (case law on WOR "
    "art. 9; docs/rules.md 'Candidate lists').",
)
LIST_STATE = problem_type(
    "list-wrong-state",
    409,
    "Not possible in the list's state",
    "Drafts and rejected lists can be changed and submitted; submitted lists are validated; "
    "accepted lists are final.",
)
LIST_EXISTS = problem_type(
    "list-exists",
    409,
    "A list already exists",
    "A union account submits one list per kiesgroep, a voter one free list.",
)
FREE_LIST_REFUSED = problem_type(
    "free-list-not-allowed",
    409,
    "You cannot submit a free list",
    "A free list is submitted by a voter entitled to vote, for their own kiesgroep, who "
    "declares not to be a member of a union that submits a list (WOR art. 9).",
)
CANDIDATES_INVALID = problem_type(
    "candidates-invalid",
    422,
    "Candidates not valid",
    "`errors` lists each candidate (position, voter_id) and why: every candidate must be on the "
    "roll in the list's kiesgroep and eligible to stand, and appear once.",
)
LIST_NOT_VALID = problem_type(
    "list-not-valid",
    409,
    "The list cannot be accepted",
    "`errors` lists what is wrong: a list needs at least one consenting candidate, and every "
    "consenting candidate must still be eligible to stand in its kiesgroep.",
)
CONSENT_ELSEWHERE = problem_type(
    "consent-elsewhere",
    409,
    "You already consented to another list",
    "A person appears on at most one list: withdraw the other consent first.",
)
CONSENT_CLOSED = problem_type(
    "consent-closed",
    409,
    "Consent can no longer change",
    "Consent is given or withdrawn during the candidacy phase, until the list is accepted.",
)
PUBLISHED = problem_type(
    "lists-published", 409, "Lists are published", "The lists were already published."
)
MAX_CANDIDATES = 100


# --- union representative accounts -------------------------------------------------------


def _submitter_holder(
    session: Session, election_id: str, holder_id: int
) -> auth_service.Holder | None:
    s = session.get(Submitter, holder_id)
    if s is None or s.election_id != election_id or not s.active:
        return None
    return auth_service.Holder({"submitter"}, f"submitter:{s.id}")


auth_service.register_holder("submitter", _submitter_holder)


def add_submitter(
    session: Session,
    settings: Settings,
    election: Election,
    union: str,
    name: str,
    email: str | None,
) -> tuple[Submitter, str]:
    s = Submitter(election_id=election.id, union=union, name=name, email=email)
    session.add(s)
    session.flush()
    assert s.id is not None
    return s, auth_service.issue_code(session, settings, election.id, "submitter", s.id)


def get_submitter(session: Session, election_id: str, submitter_id: int) -> Submitter:
    s = session.get(Submitter, submitter_id)
    if s is None or s.election_id != election_id:
        raise ProblemError(NOT_FOUND, "no such submitter")
    return s


def list_submitters(session: Session, election_id: str) -> list[Submitter]:
    return list(
        session.exec(
            select(Submitter)
            .where(Submitter.election_id == election_id)
            .order_by(col(Submitter.id))
        )
    )


# --- window and ownership -----------------------------------------------------------------


def window_open(election: Election, now: datetime | None = None) -> bool:
    if election.status != "candidacy":
        return False
    phase = settings_of(election).schedule.candidacy
    now = now or datetime.now(UTC)
    if phase and phase.start and now < _aware(phase.start):
        return False
    return not (phase and phase.end and now >= _aware(phase.end))


def _aware(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _require_window(election: Election) -> None:
    if not window_open(election):
        raise ProblemError(
            SUBMISSION_CLOSED,
            "the election is in " + election.status
            if election.status != "candidacy"
            else "outside the scheduled candidacy window",
        )


def _owner_filter(session: Session, principal: Principal, election_id: str) -> dict[str, Any]:
    if principal.has("committee"):
        return {}
    if principal.has("submitter"):
        return {"submitter_id": principal.holder_id}
    v = current_voter(session, principal, election_id)
    return {"voter_id": v.id}


def get_list(
    session: Session,
    election_id: str,
    list_id: int,
    principal: Principal,
    *,
    for_update: bool = False,
) -> CandidateList:
    stmt = select(CandidateList).where(CandidateList.id == list_id)
    if for_update:
        stmt = stmt.with_for_update()
    lst = session.exec(stmt).first()
    if lst is None or lst.election_id != election_id:
        raise ProblemError(NOT_FOUND, "no such list")
    owner = _owner_filter(session, principal, election_id)
    if any(getattr(lst, k) != v for k, v in owner.items()):
        raise ProblemError(NOT_FOUND, "no such list")  # another's list: as if it did not exist
    return lst


def visible_lists(session: Session, election_id: str, principal: Principal) -> list[CandidateList]:
    stmt = select(CandidateList).where(CandidateList.election_id == election_id)
    for k, v in _owner_filter(session, principal, election_id).items():
        stmt = stmt.where(getattr(CandidateList, k) == v)
    return list(session.exec(stmt.order_by(col(CandidateList.id))))


# --- lists and candidates -----------------------------------------------------------------


def create_list(
    session: Session,
    election: Election,
    principal: Principal,
    kiesgroep: str,
    name: str,
    not_union_member: bool,
) -> CandidateList:
    _require_window(election)
    es = settings_of(election)
    if es.group(kiesgroep) is None:
        raise ProblemError(NOT_FOUND, "no such kiesgroep")
    if principal.has("submitter"):
        sub = session.get(Submitter, principal.holder_id)
        if sub is None or sub.election_id != election.id or not sub.active:
            raise ProblemError(FORBIDDEN, "this union account is no longer active")
        dup = select(CandidateList).where(
            CandidateList.submitter_id == sub.id, CandidateList.kiesgroep == kiesgroep
        )
        owner: dict[str, Any] = {"submitter_id": sub.id, "kind": "union"}
    else:
        v = current_voter(session, principal, election.id)
        if not not_union_member:
            raise ProblemError(
                FREE_LIST_REFUSED, "declare that you are not a member of a submitting union"
            )
        if not v.may_vote:
            raise ProblemError(FREE_LIST_REFUSED, "you are not entitled to vote")
        if v.kiesgroep != kiesgroep:
            raise ProblemError(FREE_LIST_REFUSED, "a free list is for your own kiesgroep")
        dup = select(CandidateList).where(CandidateList.voter_id == v.id)
        owner = {"voter_id": v.id, "kind": "free"}
    if session.exec(dup.where(CandidateList.election_id == election.id)).first():
        raise ProblemError(LIST_EXISTS)
    lst = CandidateList(election_id=election.id, kiesgroep=kiesgroep, name=name, **owner)
    session.add(lst)
    session.flush()
    return lst


def candidates_of(session: Session, list_id: int) -> list[tuple[Candidate, Voter]]:
    stmt = (
        select(Candidate, Voter)
        .join(Voter, col(Voter.id) == col(Candidate.voter_id))
        .where(Candidate.list_id == list_id)
        .order_by(col(Candidate.position))
    )
    return list(session.exec(stmt))  # type: ignore[arg-type]


def candidate_problems(lst: CandidateList, v: Voter) -> list[str]:
    out = []
    if not v.on_roll:
        out.append("no longer on the roll")
    if v.kiesgroep != lst.kiesgroep:
        out.append(f"not in kiesgroep {lst.kiesgroep}")
    if not v.may_stand:
        out.append("not eligible to stand")
    return out


def set_candidates(
    session: Session, election: Election, lst: CandidateList, voter_ids: list[int]
) -> CandidateList:
    _require_window(election)
    if lst.status not in ("draft", "rejected"):
        raise ProblemError(LIST_STATE, f"the list is {lst.status}")
    errors: list[dict[str, Any]] = []
    seen: set[int] = set()
    voters = {
        v.id: v
        for v in session.exec(
            select(Voter).where(Voter.election_id == election.id, col(Voter.id).in_(voter_ids))
        )
    }
    for pos, vid in enumerate(voter_ids, start=1):
        v = voters.get(vid)
        if vid in seen:
            errors.append({"position": pos, "voter_id": vid, "reason": "appears twice"})
        elif v is None:
            errors.append({"position": pos, "voter_id": vid, "reason": "not on the roll"})
        else:
            for reason in candidate_problems(lst, v):
                errors.append({"position": pos, "voter_id": vid, "reason": reason})
        seen.add(vid)
    if errors:
        raise ProblemError(CANDIDATES_INVALID, f"{len(errors)} problems", errors=errors)
    old = {c.voter_id: c.consent for c, _ in candidates_of(session, lst.id)}  # type: ignore[arg-type]
    session.execute(delete(Candidate).where(col(Candidate.list_id) == lst.id))
    for pos, vid in enumerate(voter_ids, start=1):
        session.add(
            Candidate(
                election_id=election.id,
                list_id=lst.id,  # type: ignore[arg-type]
                voter_id=vid,
                position=pos,
                consent=old.get(vid),
            )
        )
    lst.status, lst.rejection_reason = "draft", None
    session.add(lst)
    session.flush()
    return lst


def submit(session: Session, election: Election, lst: CandidateList) -> CandidateList:
    _require_window(election)
    if lst.status not in ("draft", "rejected"):
        raise ProblemError(LIST_STATE, f"the list is {lst.status}")
    if not candidates_of(session, lst.id):  # type: ignore[arg-type]
        raise ProblemError(
            LIST_NOT_VALID, "a list needs candidates", errors=[{"reason": "no candidates"}]
        )
    lst.status, lst.submitted_at, lst.rejection_reason = "submitted", datetime.now(UTC), None
    session.add(lst)
    session.flush()
    return lst


def validate(
    session: Session, election: Election, lst: CandidateList, accept: bool, reason: str | None
) -> CandidateList:
    """The committee's decision on a submitted list; a rejection always carries a reason."""
    if election.status != "candidacy":
        raise ProblemError(SUBMISSION_CLOSED, "lists are validated in the candidacy phase")
    if lst.status != "submitted":
        raise ProblemError(LIST_STATE, f"the list is {lst.status}")
    if accept:
        errors = []
        consenting = 0
        for c, v in candidates_of(session, lst.id):  # type: ignore[arg-type]
            if c.consent:
                consenting += 1
                for p in candidate_problems(lst, v):
                    errors.append({"position": c.position, "voter_id": v.id, "reason": p})
        if consenting == 0:
            errors.append({"reason": "no candidate has consented"})
        if errors:
            raise ProblemError(LIST_NOT_VALID, f"{len(errors)} problems", errors=errors)
        lst.status, lst.rejection_reason = "accepted", None
    else:
        if not reason:
            raise ProblemError(
                LIST_NOT_VALID, "a rejection needs a reason", errors=[{"reason": "reason required"}]
            )
        lst.status, lst.rejection_reason = "rejected", reason
    session.add(lst)
    session.flush()
    return lst


def my_candidacies(session: Session, voter: Voter) -> list[tuple[Candidate, CandidateList]]:
    stmt = (
        select(Candidate, CandidateList)
        .join(CandidateList, col(CandidateList.id) == col(Candidate.list_id))
        .where(Candidate.voter_id == voter.id)
        .order_by(col(Candidate.id))
    )
    return list(session.exec(stmt))  # type: ignore[arg-type]


def give_consent(
    session: Session, election: Election, voter: Voter, candidate_id: int, consent: bool
) -> tuple[Candidate, CandidateList]:
    c = session.get(Candidate, candidate_id)
    if c is None or c.voter_id != voter.id:
        raise ProblemError(NOT_FOUND, "no such candidacy")
    lst = session.get(CandidateList, c.list_id)
    assert lst is not None
    if election.status != "candidacy" or lst.status == "accepted":
        raise ProblemError(CONSENT_CLOSED)
    if consent:
        others = [x for x, _ in my_candidacies(session, voter) if x.consent and x.id != c.id]
        if others:
            raise ProblemError(CONSENT_ELSEWHERE)
    c.consent = consent
    session.add(c)
    session.flush()
    return c, lst


def publication(session: Session, election_id: str) -> ListPublication:
    p = session.get(ListPublication, election_id)
    if p is None:
        p = ListPublication(election_id=election_id)
        session.add(p)
        session.flush()
    return p


def stored_person_order(session: Session, election_id: str) -> tuple[str, str | None]:
    """The order the committee chose (default alphabetical) and the lot's seed once the lists
    are published; read only: no row is made for an election that never chose."""
    p = session.get(ListPublication, election_id)
    if p is None:
        return "alphabetical", None
    return p.person_order, p.lot_seed


def set_person_order(session: Session, election: Election, order: str) -> ListPublication:
    p = publication(session, election.id)
    if p.published or election.status not in ("draft", "nomination", "candidacy"):
        raise ProblemError(PUBLISHED)
    p.person_order = order
    session.add(p)
    session.flush()
    return p
