"""/api/v1/elections/{id}/voting and /ballots: keys, credentials, casting, turnout.

Casting is anonymous (docs/protocol.md "Threat model"): the route takes no token, reads and sets no
cookie, and nothing about the request is stored or logged beyond the public ballot entry.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.routing import APIRoute

from api.audit.service import record
from api.created import created, set_location
from api.db import reads_in_autocommit
from api.deps import CommitteeDep, SessionDep, SettingsDep, VoterCodeCheckedLaterDep
from api.elections.service import election_view, get_election
from api.log import receipts
from api.log.schemas import ReceiptStatus
from api.problems import (
    AUTH,
    NOT_FOUND,
    TOO_LARGE,
    ProblemError,
    problem_responses,
    problem_type,
)
from api.voting import ballot, casting, issuance, keys
from api.voting import booth as _booth  # noqa: F401  (its on_enter("voting") hook pins the booth)
from api.voting.schemas import (
    BallotIn,
    CastOut,
    CredentialIn,
    CredentialOut,
    CredentialStatus,
    KeysIn,
    KeysOut,
    PublishedBallot,
    TurnoutOut,
)
from api.voting.turnout import turnout as compute_turnout
from crypto.canonical import b64e
from rules.settings import SLUG

router = APIRouter(prefix="/elections/{election_id}", tags=["voting"])
MAX_BALLOT_BODY = 96 * 1024


class AnonymousRoute(APIRoute):
    """A route of the anonymous cast path: a request with an `Authorization` header is refused
    (400 `ballot-with-authorization`) before its body is read or anything else is looked at
    (docs/protocol.md "Threat model"), so no ballot ever sits in a request next to a voter's
    token."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def refuse_credentials(request: Request) -> Response:
            if "authorization" in request.headers:
                raise ProblemError(casting.WITH_AUTHORIZATION)
            return await handler(request)

        return refuse_credentials


# The cast route alone, so that its route class applies to nothing else.
ballot_router = APIRouter(
    prefix="/elections/{election_id}", tags=["voting"], route_class=AnonymousRoute
)
UNKNOWN_ENTRY = problem_type(
    "unknown-ballot",
    404,
    "No such ballot",
    "No ballot with this entry hash was accepted in this election: not in its pool, not in its "
    "log.",
)


@router.post(
    "/voting/keys",
    status_code=status.HTTP_201_CREATED,
    response_model=KeysOut,
    responses={
        **created("the `keys` entry, appended, with its log index; `Location` is its URL"),
        **problem_responses(
            *AUTH,
            NOT_FOUND,
            keys.NOT_LISTS_PUBLISHED,
            keys.KEYS_EXIST,
            keys.NO_DEFINITION,
            keys.NO_VOTE_NEEDED,
            keys.BAD_SEALING_KEY,
        ),
    },
    summary="Prepare voting: issuer keys, sealing key, trustees, ballot size (committee)",
)
def prepare_keys(
    election_id: str,
    body: KeysIn,
    session: SessionDep,
    settings: SettingsDep,
    who: CommitteeDep,
    response: Response,
) -> KeysOut:
    election = get_election(session, election_id, for_update=True)
    index, entry = keys.prepare_keys(
        session, settings, election, body.sealing_key, body.trustees.k, body.trustees.n, who
    )
    record(
        session,
        election_id,
        who,
        "voting_prepared",
        details={"trustees": entry["trustees"], "log_index": index},
    )
    set_location(response, f"/api/v1/elections/{election_id}/voting/keys")
    return KeysOut(index=index, entry=entry)


@router.get(
    "/voting/keys",
    response_model=KeysOut,
    responses=problem_responses(NOT_FOUND, keys.KEYS_MISSING),
    summary="The election's `keys` log entry: issuer JWKs, sealing key, ballot size, log key",
)
def get_keys(election_id: str, session: SessionDep) -> KeysOut:
    get_election(session, election_id)
    found = keys.keys_entry(session, election_id)
    if found is None:
        raise ProblemError(keys.KEYS_MISSING)
    return KeysOut(index=found[0], entry=found[1])


@router.post(
    "/voting/credential",
    response_model=CredentialOut,
    responses=problem_responses(
        *AUTH,
        NOT_FOUND,
        issuance.VOTING_NOT_OPEN,
        issuance.OUTSIDE_WINDOW,
        issuance.NOT_ELIGIBLE,
        issuance.NO_VOTE_IN_GROUP,
        issuance.ALREADY_ISSUED,
        issuance.BAD_BLINDED_MSG,
        keys.KEYS_MISSING,
    ),
    summary="Obtain the blind signature for your credential (voter; once, retry-safe)",
)
def issue_credential(
    election_id: str,
    body: CredentialIn,
    session: SessionDep,
    settings: SettingsDep,
    who: VoterCodeCheckedLaterDep,
) -> CredentialOut:
    reads_in_autocommit(session)
    election = issuance.voting_view(session, settings, election_id)
    out = issuance.issue_credential(session, settings, election, who, body.blinded_msg)
    return CredentialOut(
        blind_sig=b64e(out.blind_sig),
        group=out.group,
        pseudonym=out.pseudonym,
        issuer_key=out.issuer_jwk,
    )


@router.get(
    "/voting/credential",
    response_model=CredentialStatus,
    responses=problem_responses(*AUTH, NOT_FOUND),  # not eligible: `may_vote` false
    summary="Your credential status: issued?, your pseudonym and kiesgroep (voter)",
)
def credential_status(
    election_id: str, session: SessionDep, settings: SettingsDep, who: VoterCodeCheckedLaterDep
) -> CredentialStatus:
    reads_in_autocommit(session)
    election = election_view(session, election_id)
    voter, pseudonym, issued, jwk = issuance.credential_status(session, settings, election, who)
    return CredentialStatus(
        may_vote=issuance.effective_may_vote(voter),
        group=voter.kiesgroep,
        pseudonym=pseudonym,
        credential_issued=issued,
        issuer_key=jwk,
    )


@ballot_router.post(
    "/ballots",
    status_code=status.HTTP_201_CREATED,
    response_model=CastOut,
    # Bounded while received, declared or chunked: a 413 problem before anything is parsed.
    max_body_size=MAX_BALLOT_BODY,
    responses={
        **created(
            "the ballot promise; `Location` is the ballot's receipt by entry hash (`pending` "
            "until its flush)"
        ),
        200: {"model": CastOut, "description": "an identical retry: the same promise again"},
        **problem_responses(
            casting.WITH_AUTHORIZATION,
            NOT_FOUND,
            TOO_LARGE,
            issuance.VOTING_NOT_OPEN,
            issuance.OUTSIDE_WINDOW,
            keys.KEYS_MISSING,
            casting.WRONG_ELECTION,
            casting.UNKNOWN_GROUP,
            casting.MALFORMED_BALLOT,
            casting.BAD_LENGTH,
            casting.BAD_CREDENTIAL,
            casting.BAD_SIGNATURE,
            casting.SUPERSEDED,
            casting.NO_REVOTING,
        ),
    },
    summary="Cast a ballot (anonymous: no token, no cookie); answers with a ballot promise",
    description="The ballot waits in its kiesgroep's pool until the next flush (docs/protocol.md "
    "'Publication in shuffled batches'); the answer is the log key's signed promise that it will "
    "be in the log no later than the close of voting. Its receipt is served by entry hash once "
    "it is appended (`GET …/receipts/{entry_hash}`). The same ballot sent again (byte for byte) "
    "gets the same promise (200). A request with an `Authorization` header is refused (400).",
)
def cast_ballot(
    election_id: str,
    body: Annotated[BallotIn, "the ballot entry of docs/protocol.md, exactly"],
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> CastOut:
    reads_in_autocommit(session)
    promise, new = casting.cast_ballot(session, settings, election_id, body.model_dump())
    if not new:
        response.status_code = status.HTTP_200_OK
    set_location(response, f"/api/v1/elections/{election_id}/receipts/{promise.entry_hash}")
    return CastOut(**promise.model_dump())


@router.get(
    "/ballot",
    response_model=PublishedBallot,
    responses=problem_responses(NOT_FOUND, ballot.NOT_PUBLISHED, ballot.UNKNOWN_GROUP),
    summary="A kiesgroep's published ballot definition, with its log index and inclusion proof",
    description="Public. The definition is the election's latest `questions_published` "
    "(consultation) or `lists_published` (works council) entry, returned verbatim with its "
    "index and an RFC 9162 inclusion proof against the latest signed checkpoint, so a client "
    "needs no scan of the log. Verify the checkpoint with the log key and the proof over "
    "`leaf_hash(entry)`, then read the group's part from `entry` itself.",
)
def published_ballot(
    election_id: str,
    session: SessionDep,
    group: Annotated[str, Query(pattern=SLUG, max_length=64, description="the kiesgroep id")],
) -> PublishedBallot:
    reads_in_autocommit(session)
    election = get_election(session, election_id)
    return PublishedBallot(**ballot.published_ballot(session, election, group))


@router.get(
    "/receipts/{entry_hash}",
    response_model=ReceiptStatus,
    responses=problem_responses(NOT_FOUND, UNKNOWN_ENTRY),
    summary="A ballot's receipt by entry hash: `pending` until its flush, then `included`",
    description="While the ballot waits in its kiesgroep's pool the answer is `pending` (not an "
    "error: ask again later; every pool is flushed at the close of voting). Once appended, "
    "`included` with the receipt (JSON fields and C2SP tlog-proof@v1 text).",
)
def receipt_by_hash(
    election_id: str,
    entry_hash: Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="hex leaf hash")],
    session: SessionDep,
) -> ReceiptStatus:
    reads_in_autocommit(session)
    election_view(session, election_id)
    found = receipts.receipt_status(session, election_id, bytes.fromhex(entry_hash))
    if found is None:
        raise ProblemError(UNKNOWN_ENTRY)
    return found


@router.get(
    "/voting/turnout",
    response_model=TurnoutOut,
    responses=problem_responses(*AUTH, NOT_FOUND),
    summary="Turnout per kiesgroep: credentials issued and distinct credentials voted (committee)",
)
def turnout(election_id: str, session: SessionDep, who: CommitteeDep) -> TurnoutOut:
    return compute_turnout(session, get_election(session, election_id))
