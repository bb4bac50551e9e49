"""The typed contract of the public log: one schema per entry type (docs/log-entries.md).

These models document and check; the API never re-serializes an entry through them — an entry
is served verbatim, because its RFC 8785 bytes are its leaf. `tests/api/test_contract_types.py`
validates every entry of real election logs (works council, person system, consultation, no
vote held) against them, so the contract cannot drift from what the log holds. Nested parts of
the result that carry the apportionment's explanation (`apportionment`, `candidate_election`,
`person_election`) are described, not typed member by member: rules.apportionment and
rules.counting own them and docs/rules.md explains them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rules.settings import ElectionSettings, Question


def b64_schema(n_bytes: int) -> dict[str, Any]:
    """The JSON schema of standard base64 with padding of exactly ``n_bytes`` bytes, for fields
    whose runtime check stays the service's own (its problem types say what was wrong)."""
    chars = 4 * ((n_bytes + 2) // 3)
    pad = (3 - n_bytes % 3) % 3
    return {
        "minLength": chars,
        "maxLength": chars,
        "pattern": f"^[A-Za-z0-9+/]{{{chars - pad}}}{'=' * pad}$",
        "contentEncoding": "base64",
    }


def b64(n_bytes: int, description: str) -> Any:
    """A Field for standard base64 with padding of exactly ``n_bytes`` bytes (RFC 4648 §4)."""
    chars = 4 * ((n_bytes + 2) // 3)
    pad = (3 - n_bytes % 3) % 3
    body = chars - pad
    return Field(
        min_length=chars,
        max_length=chars,
        pattern=f"^[A-Za-z0-9+/]{{{body}}}{'=' * pad}$",
        description=f"{description} (standard base64 with padding of {n_bytes} bytes)",
        json_schema_extra={"contentEncoding": "base64"},
    )


B64_ANY = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
HEX64 = "^[0-9a-f]{64}$"
RSA_2048_BYTES = 256


def hex_field(n_bytes: int, description: str) -> Any:
    return Field(
        pattern=f"^[0-9a-f]{{{2 * n_bytes}}}$",
        description=f"{description} (lower-case hex of {n_bytes} bytes)",
    )


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    election: str = Field(description="the election id")


Role = Annotated[str, Field(description="the acting role (operator, committee, system)")]


class ElectionCreatedEntry(_Entry):
    type: Literal["election_created"]
    name: str
    organisation: str
    settings: ElectionSettings
    by: Role


class SettingsUpdatedEntry(_Entry):
    type: Literal["settings_updated"]
    settings: ElectionSettings
    by: Role


Phase = Literal[
    "draft",
    "nomination",
    "candidacy",
    "lists_published",
    "voting",
    "closed",
    "tallied",
    "cancelled",
]


class PhaseChangedEntry(_Entry):
    """`to: "voting"` opens voting; `to: "closed"` is the **voting closed** entry."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: Literal["phase_changed"]
    from_: Phase = Field(alias="from")
    to: Phase
    by: Role
    reason: str | None = Field(default=None, description="a cancellation's reason")


class RollCounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voters: int = Field(ge=0)
    may_vote: int = Field(ge=0)
    may_stand: int = Field(ge=0)


class RollFrozenEntry(_Entry):
    type: Literal["roll_frozen"]
    counts: dict[str, RollCounts] = Field(description="per kiesgroep")
    commitment: str = hex_field(32, "SHA-256 over the canonical roll (api/roll/commitment.py)")
    by: Role


class PublishedCandidate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="unique in the election: what a ballot selects")
    name: str
    position: int = Field(ge=1)


class PublishedList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    kind: Literal["union", "free", "person"]
    candidates: list[PublishedCandidate]


class PublishedGroup(BaseModel):
    """One kiesgroep's ballot definition (`GET …/ballot` answers it as `definition`)."""

    model_config = ConfigDict(extra="forbid")

    group: str
    seats: int | None = Field(ge=1)
    vote_held: bool = Field(description="false: all its candidates are elected without a vote")
    system: Literal["list", "person"]
    votes_per_voter: int = Field(ge=1)
    lists: list[PublishedList]


class ListsPublishedEntry(_Entry):
    type: Literal["lists_published"]
    system: Literal["list", "person"]
    groups: list[PublishedGroup]


class QuestionsPublishedEntry(_Entry):
    type: Literal["questions_published"]
    questions: list[Question]


class IssuerJwk(BaseModel):
    """An RSA-2048 issuer public key as RFC 7517 JWK (base64url without padding)."""

    model_config = ConfigDict(extra="forbid")

    kty: Literal["RSA"]
    alg: Literal["PS384"]
    n: str = Field(
        pattern="^[A-Za-z0-9_-]{342}$",
        description="modulus, base64url without padding of 256 bytes",
        json_schema_extra={"contentEncoding": "base64url"},
    )
    e: Literal["AQAB"] = Field(description="65537")


class KeysTrustees(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: int = Field(ge=1, le=64)
    n: int = Field(ge=1, le=64)


class KeysEntry(_Entry):
    type: Literal["keys"]
    issuer_keys: dict[str, IssuerJwk] = Field(description="per kiesgroep in which a vote is held")
    sealing_key: str = b64(32, "raw X25519 public key")
    trustees: KeysTrustees
    ballot_size: int = Field(
        ge=1, description="padded plaintext bytes; a ciphertext has 32 + ballot_size + 16"
    )
    log_key: str = Field(
        pattern=r"^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$",
        description="C2SP verifier key `<origin>+<8 hex key id>+<b64(0x01 ‖ Ed25519 key)>`; "
        "split at the first two `+` only (the base64 part may contain `+`)",
    )
    by: Role


class IssuanceEntry(_Entry):
    type: Literal["issuance"]
    group: str
    pseudonym: str = hex_field(16, "keyed hash of the voter; the voter can look it up")


class BallotEntry(_Entry):
    type: Literal["ballot"]
    group: str
    credential: str = b64(32, "pk_c, the raw Ed25519 credential key")
    prefix: str = b64(32, "msg_prefix of RFC 9474")
    issuer_sig: str = b64(RSA_2048_BYTES, "RSASSA-PSS signature over prefix ‖ credential")
    seq: int = Field(ge=1, description="1, then +1 per re-vote")
    ciphertext: str = Field(
        pattern=B64_ANY,
        description="b64 of enc ‖ ct: exactly 32 + ballot_size + 16 bytes (the keys entry)",
        json_schema_extra={"contentEncoding": "base64"},
    )
    signature: str = b64(64, "Ed25519 by sk_c over the JCS bytes of the entry without it")


class DecryptionKeyEntry(_Entry):
    type: Literal["decryption_key"]
    sealing_private_key: str = b64(32, "raw X25519 private key, reconstructed from the shares")
    shares_used: list[int] = Field(description="trustee share indices, ascending")


class LotCheckpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(ge=1)
    root: str = Field(pattern=HEX64)


class BallotCounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: int = Field(ge=0, description="ballot entries in the log")
    credentials: int = Field(ge=0, description="distinct credentials: the final ballots")
    superseded: int = Field(ge=0, description="ballots replaced by a re-vote")


class ResultTurnout(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: str
    eligible: int = Field(ge=0)
    issued: int = Field(ge=0)
    voted: int = Field(ge=0)


class ReasonCount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str
    count: int = Field(ge=1)


class GroupBallots(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total: int = Field(ge=0)
    valid: int = Field(ge=0, description="valid and **not blank** (the quota's basis)")
    blank: int = Field(ge=0)
    invalid: int = Field(ge=0)
    invalid_reasons: list[ReasonCount]


class CandidateVotes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    candidate: str
    list: str
    position: int = Field(ge=1)
    votes: int = Field(ge=0)


class ListResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    kind: str
    votes: int = Field(ge=0)
    seats: int = Field(ge=0)
    elected: list[str]
    successors: list[str]
    candidate_election: dict[str, Any] = Field(
        description="which candidates take the list's seats: `preference_threshold`, "
        "`threshold_votes`, `steps` (one per candidate, with `reason`), `elected`, `successors`"
    )
    list: str  # last: the name shadows the builtin in the class body


class GroupResult(BaseModel):
    """A works council kiesgroep's result (rules.counting.GroupResult)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["works_council"]
    group: str
    seats: int | None
    system: Literal["list", "person"]
    vote_held: bool
    settings: dict[str, Any] = Field(description="the rules applied: method and thresholds")
    ballots: GroupBallots
    candidates: list[CandidateVotes]
    lists: list[ListResult]
    apportionment: dict[str, Any] | None = Field(
        description="list system: quota, full seats, remainders, every residual-seat `steps` "
        "entry with its standings, options, lot draw and `note` (rules/apportionment.py)"
    )
    person_election: dict[str, Any] | None = Field(
        description="person system: the candidates by votes, the lot at a tie (rules.counting)"
    )
    elected: list[str]
    vacant_seats: int = Field(ge=0)
    notes: list[str]


class ExactFraction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(description="exact, as `p/q` or an integer")
    display: str


class OptionResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    option: str
    count: int = Field(ge=0)
    share: ExactFraction | None = Field(description="of the ballots that answered the question")
    percent: str | None


class ChoiceQuestionResult(BaseModel):
    """A `single`, `up_to_k` or `yes_no_abstain` question: a count per option."""

    model_config = ConfigDict(extra="forbid")

    question: str
    rule: Literal["single", "up_to_k", "yes_no_abstain"]
    required: bool
    max_choices: int = Field(ge=1)
    answered: int = Field(ge=0)
    blank: int = Field(ge=0)
    options: list[OptionResult]


class ScaleRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: int
    max: int


class PointResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    point: int
    count: int = Field(ge=0)
    share: ExactFraction | None = Field(description="of the ballots that answered the question")
    percent: str | None


class ScaleQuestionResult(BaseModel):
    """A `scale` question: a count per point, the mean and the median (of an even number of
    answers, the mean of the middle two); both null when nobody answered."""

    model_config = ConfigDict(extra="forbid")

    question: str
    rule: Literal["scale"]
    required: bool
    answered: int = Field(ge=0)
    blank: int = Field(ge=0)
    scale: ScaleRange
    points: list[PointResult]
    mean: ExactFraction | None
    median: ExactFraction | None


class RankedOption(BaseModel):
    model_config = ConfigDict(extra="forbid")

    option: str
    borda: int = Field(ge=0, description="n - i points for the i-th ranked of n; 0 if left out")
    rank: int = Field(ge=1, description="by Borda points; ties share a rank (1, 1, 3)")
    first: int = Field(ge=0, description="ballots ranking this option first")


class PairwiseRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    option: str
    prefer: list[int | None] = Field(
        description="per option in definition order, the ballots preferring this option to "
        "that one; null on the diagonal"
    )


class RankingQuestionResult(BaseModel):
    """A `ranking` question: the Borda count, the pairwise table and the Condorcet winner."""

    model_config = ConfigDict(extra="forbid")

    question: str
    rule: Literal["ranking"]
    required: bool
    answered: int = Field(ge=0)
    blank: int = Field(ge=0)
    options: list[RankedOption]
    borda_winners: list[str] = Field(description="every option with the highest Borda total")
    condorcet_winner: str | None = Field(description="beats each other option pairwise, if any")
    pairwise: list[PairwiseRow]


class OpenQuestionResult(BaseModel):
    """An `open` question: the answers sorted by code point, never in ballot order."""

    model_config = ConfigDict(extra="forbid")

    question: str
    rule: Literal["open"]
    required: bool
    answered: int = Field(ge=0)
    blank: int = Field(ge=0)
    answers: list[str]


QuestionResult = Annotated[
    ChoiceQuestionResult | ScaleQuestionResult | RankingQuestionResult | OpenQuestionResult,
    Field(discriminator="rule"),
]


class ConsultationBallots(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total: int = Field(ge=0)
    valid: int = Field(ge=0, description="valid, **blank included** (unlike a works council)")
    invalid: int = Field(ge=0)
    skipped: int = Field(ge=0, description="valid ballots that skipped the whole consultation")
    invalid_reasons: list[ReasonCount]


class ConsultationGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: str
    kind: Literal["consultation"]
    ballots: ConsultationBallots
    share_basis: str
    questions: list[QuestionResult]


class ConsultationOther(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merged: list[str] = Field(description="the kiesgroepen counted together here")
    kind: Literal["consultation"]
    ballots: ConsultationBallots
    share_basis: str
    questions: list[QuestionResult]


class ConsultationResult(BaseModel):
    """The totals over all kiesgroepen, and the same counts per kiesgroep in `groups`."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["consultation"]
    ballots: ConsultationBallots
    share_basis: str
    questions: list[QuestionResult]
    min_group_size: int = Field(ge=2)
    groups: list[ConsultationGroup] = Field(
        default_factory=list,
        description="the kiesgroepen with at least min_group_size ballots (docs/rules.md "
        "'Small groups'); a consultation of one kiesgroep always shows it",
    )
    other: ConsultationOther | None = Field(
        description="the smaller kiesgroepen merged (with as many larger ones as it takes for "
        "'other' to hold min_group_size ballots and two kiesgroepen); null if none"
    )


class LotDraw(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: int = Field(ge=1)
    purpose: str
    options: list[str]
    k: int = Field(ge=1)
    chosen: list[str]


class LotRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal["stembus/lot/v1"]
    root: str = Field(pattern=HEX64)
    seed: str = Field(pattern=HEX64)
    draws: list[LotDraw]


class InvalidBallot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0)
    group: str
    reason: str


class CodesIssuedEntry(_Entry):
    """Access codes made for a mail merge, a mailing or a regeneration (api.auth.service): counts
    and the acting role only, never whose codes."""

    type: Literal["codes_issued"]
    holders: Literal["voter", "member", "submitter"]
    via: Literal["export", "mail", "regenerated"]
    count: int = Field(ge=1, description="codes made")
    replaced: int = Field(ge=0, description="of them, how many replaced an active code")
    by: Role


class BoothPublishedEntry(_Entry):
    """The booth's code, pinned as voting opens (api.voting.booth): the SHA-256 of every asset of
    the voter's pages at the path it is served at. `stembus verify-booth` compares a server's
    answers with it."""

    type: Literal["booth_published"]
    assets: dict[
        Annotated[str, Field(pattern="^/([^/]|$)")],
        Annotated[str, Field(pattern=HEX64)],
    ] = Field(
        min_length=1,
        max_length=64,
        description="path on the service (with the election's id) → SHA-256, lower-case hex",
    )
    by: Literal["system"]


class PurgeCounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voters: int = Field(ge=0)
    members: int = Field(ge=0)
    submitters: int = Field(ge=0)
    access_codes: int = Field(ge=0)
    objections: int = Field(ge=0)
    nominations: int = Field(ge=0)
    nominees: int = Field(ge=0)
    nomination_quotas: int = Field(ge=0)
    credential_requests: int = Field(ge=0)
    login_throttles: int = Field(ge=0)
    mail_statuses: int = Field(ge=0, description="the invitations' delivery statuses")


class PersonalDataPurgedEntry(_Entry):
    """The election's personal data purged after it ended (api.retention): rows anonymised or
    deleted per kind; only after `tallied` or `cancelled`, at most once."""

    type: Literal["personal_data_purged"]
    counts: PurgeCounts
    forced: bool = Field(description="purged before the retention period was over")
    by: Role


class ResultEntry(_Entry):
    """The tally (rules/tally.py). No kiesgroep contested: `lot_checkpoint` and `lot` null."""

    type: Literal["result"]
    version: Literal[2]
    kind: Literal["works_council", "consultation"]
    lot_checkpoint: LotCheckpoint | None
    ballots: BallotCounts
    turnout: list[ResultTurnout]
    groups: list[GroupResult]
    consultation: ConsultationResult | None
    invalid_ballots: list[InvalidBallot]
    lot: LotRecord | None


LogEntry = Annotated[
    ElectionCreatedEntry
    | SettingsUpdatedEntry
    | PhaseChangedEntry
    | RollFrozenEntry
    | ListsPublishedEntry
    | QuestionsPublishedEntry
    | KeysEntry
    | IssuanceEntry
    | BallotEntry
    | DecryptionKeyEntry
    | ResultEntry
    | CodesIssuedEntry
    | BoothPublishedEntry
    | PersonalDataPurgedEntry,
    Field(discriminator="type"),
]
