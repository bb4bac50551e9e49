"""The tally (docs/protocol.md "Tally"): from the public log and the reconstructed sealing key to
the ``result`` entry. Pure: no database, no web framework; the server (api.tally) and the
independent verifier (rules.record) run exactly this code, so their result bytes agree.

Two streaming passes, so memory stays bounded by the number of credentials, never by the
ciphertexts (a 100,000-ballot election is never held in memory):

1. :class:`ElectionLog` reads every entry in log order and keeps only the context the tally needs
   (settings, published lists or questions, keys, phase indices, roll counts, issuance counts)
   and, per credential, the index and ``seq`` of its latest ballot. The highest ``seq`` counts
   (docs/protocol.md "Casting" step 4); in a valid log ``seq`` strictly increases per credential, so
   that is also the credential's last ballot in log order.
2. :func:`compute_result` reads the ballot entries again, opens only the final ballot of each
   credential (HPKE with the reconstructed key, :mod:`crypto.sealing`), unpads and validates it
   (:func:`rules.ballot.validate_ballot`) and aggregates identical ballots per group into a
   counter; then counts each kiesgroep (:func:`rules.counting.count_works_council_group`) or the
   consultation (:func:`rules.counting.count_consultation`). Opening is the costly part, so who
   does it is a parameter (:data:`OpenBallots`): the server opens in-process, the verifier may
   use worker processes; the counting only ever sees the results in log order.

The lot (docs/protocol.md "Tally"; :mod:`rules.lot`) is seeded with the root hash of the **lot
checkpoint**: the first signed checkpoint (lowest tree size) whose size is greater than the index
of the ``phase_changed`` entry with ``to: "closed"`` — i.e. the first checkpoint that contains the
voting-closed entry. One :class:`rules.lot.Lot` serves the whole election and the kiesgroepen are
counted in the order of the ``lists_published`` entry, so the draws are numbered 1, 2, … across
the election. Nobody can know that root before voting has closed, and every ballot is in it.

The result entry (docs/log-entries.md) is::

    {"type": "result", "election", "kind": "works_council" | "consultation",
     "lot_checkpoint": {"size", "root"(hex)},
     "ballots": {"entries", "credentials", "superseded"},
     "turnout": [{"group", "eligible" (roll_frozen may_vote or null), "issued", "voted"}],
     "groups": [rules.counting GroupResult.to_dict(), ...]        (works council; else [])
     "consultation": rules.counting ConsultationResult.to_dict()  (consultation; else null):
                     the totals over all kiesgroepen, "min_group_size", "groups": [{"group",
                     ...the same counts for that kiesgroep}] for the kiesgroepen large enough
                     to be shown, and "other": {"merged": [kiesgroep ids], ...counts} or null
                     (small_group_split)
     "invalid_ballots": [{"index", "group", "reason"}]            (each invalid final ballot)
     "lot": rules.lot Lot.to_dict()}

An election in which no kiesgroep holds a vote has no keys and no tally: its result
(:func:`compute_uncontested_result`) has ``lot_checkpoint`` and ``lot`` null, no ballots, and
every group "no vote held" (docs/rules.md).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from crypto import sealing
from crypto.canonical import EncodingError, b64d, canonical_json
from rules.ballot import ConsultationDef, GroupDef, validate_ballot
from rules.counting import count_consultation, count_works_council_group
from rules.lot import Lot

__all__ = [
    "RESULT_VERSION",
    "BallotOpener",
    "ElectionLog",
    "OpenBallots",
    "Opened",
    "TallyError",
    "compute_result",
    "compute_uncontested_result",
    "open_ballot_entry",
    "open_sequentially",
]

# 2: consultation results with scales, rankings, open answers, required questions, the skip and
# reporting groups (issue 18). A verifier recomputes the version it knows; another differs at
# result.version.
RESULT_VERSION = 2
DEFAULT_MIN_GROUP_SIZE = 10  # rules.settings ElectionSettings.min_group_size
# seq and index packed into one int per credential (keeps pass 1 small: ~100 B per credential).
_INDEX_BITS = 40
_INDEX_MASK = (1 << _INDEX_BITS) - 1


class TallyError(ValueError):
    """The log does not allow a tally (missing lists, keys, close entry, …)."""


@dataclass
class ElectionLog:
    """Context of one election gathered from its log in one streaming pass (pass 1)."""

    election_id: str | None = None
    kind: str = "works_council"
    settings: dict[str, Any] = field(default_factory=dict)
    groups: list[dict[str, Any]] | None = None  # lists_published
    questions: list[dict[str, Any]] | None = None  # questions_published
    keys: dict[str, Any] | None = None
    roll_counts: dict[str, Any] | None = None
    phase: str | None = None
    opened_index: int | None = None
    closed_index: int | None = None
    size: int = 0
    issuance: Counter[str] = field(default_factory=Counter)
    ballot_entries: int = 0
    ballots_per_group: Counter[str] = field(default_factory=Counter)
    # credential (b64) -> seq << 40 | index of its latest ballot
    latest: dict[str, int] = field(default_factory=dict)
    credential_group: dict[str, str] = field(default_factory=dict)
    decryption_key: dict[str, Any] | None = None
    decryption_key_index: int | None = None
    result: dict[str, Any] | None = None
    result_index: int | None = None

    def add(self, index: int, entry: dict[str, Any]) -> None:
        """Take in entry ``index`` (entries must come in log order)."""
        self.size = index + 1
        t = entry.get("type")
        if t == "ballot":
            self._add_ballot(index, entry)
        elif t == "issuance":
            self.issuance[str(entry.get("group"))] += 1
        elif t == "election_created":
            self.election_id = entry.get("election")
            self.settings = dict(entry.get("settings") or {})
            self.kind = self.settings.get("kind", "works_council")
            self.phase = "draft"
        elif t == "settings_updated":
            self.settings = dict(entry.get("settings") or {})
        elif t == "phase_changed":
            self.phase = entry.get("to")
            if self.phase == "voting" and self.opened_index is None:
                self.opened_index = index
            elif self.phase == "closed" and self.closed_index is None:
                self.closed_index = index
        elif t == "lists_published":
            self.groups = list(entry.get("groups") or [])
        elif t == "questions_published":
            self.questions = list(entry.get("questions") or [])
        elif t == "keys":
            self.keys = entry
        elif t == "roll_frozen":
            self.roll_counts = dict(entry.get("counts") or {})
        elif t == "decryption_key":
            self.decryption_key = entry
            self.decryption_key_index = index
        elif t == "result":
            self.result = entry
            self.result_index = index

    def _add_ballot(self, index: int, entry: dict[str, Any]) -> None:
        self.ballot_entries += 1
        group = str(entry.get("group"))
        self.ballots_per_group[group] += 1
        cred = entry.get("credential")
        seq = entry.get("seq")
        if not isinstance(cred, str) or not isinstance(seq, int) or isinstance(seq, bool):
            return  # malformed: the server refuses it, the verifier reports it
        if seq < 0 or seq >= 1 << 22:
            return
        packed = seq << _INDEX_BITS | index
        old = self.latest.get(cred)
        if old is None:
            self.credential_group[cred] = group
        if old is None or old >> _INDEX_BITS < seq:
            self.latest[cred] = packed

    # --- derived -------------------------------------------------------------------------------

    def final_indices(self) -> set[int]:
        """Log indices of the ballot that counts for each credential (highest ``seq``)."""
        return {v & _INDEX_MASK for v in self.latest.values()}

    def credentials_per_group(self) -> Counter[str]:
        return Counter(self.credential_group.values())

    @property
    def ballot_size(self) -> int:
        if not self.keys or not isinstance(self.keys.get("ballot_size"), int):
            raise TallyError("no keys entry with a ballot size")
        return int(self.keys["ballot_size"])

    @property
    def sealing_key(self) -> bytes:
        if not self.keys:
            raise TallyError("no keys entry")
        return b64d(self.keys["sealing_key"])

    def definitions(self) -> list[GroupDef | ConsultationDef]:
        """The published ballot definitions: kiesgroepen in published order, or the consultation."""
        if self.kind == "consultation":
            if self.questions is None:
                raise TallyError("no questions_published entry")
            # One definition per kiesgroep (each has its issuer key; api.voting.keys), counted
            # per group and in total (compute_result).
            groups = [g.get("id") for g in self.settings.get("kiesgroepen") or []] or ["all"]
            return [
                ConsultationDef.model_validate({"group": g, "questions": self.questions})
                for g in groups
            ]
        if self.groups is None:
            raise TallyError("no lists_published entry")
        return [GroupDef.model_validate(g) for g in self.groups]

    @property
    def uncontested(self) -> bool:
        """A works council election whose published kiesgroepen all hold no vote (docs/rules.md
        "Candidate lists"): its result needs no keys, ballots or lot (docs/rules.md)."""
        return (
            self.kind == "works_council"
            and self.groups is not None
            and all(g.get("vote_held", True) is False for g in self.groups)
        )

    def check_ready(self) -> None:
        """Raise :class:`TallyError` unless the log has what a tally needs."""
        if self.election_id is None:
            raise TallyError("the log does not start with election_created")
        if self.closed_index is None:
            raise TallyError("voting has not closed (no phase_changed to closed)")
        self.definitions()
        _ = self.ballot_size, self.sealing_key


def open_ballot_entry(
    private_key: bytes, election_id: str, ballot_size: int, entry: dict[str, Any], definition: Any
) -> tuple[bool, str | None, Any]:
    """Decrypt, unpad and validate one ballot entry → ``(valid, reason, selections)``.

    Failures are reasons, not exceptions: a ballot that does not open or holds malformed
    plaintext is counted as invalid with that reason (docs/protocol.md "Tally").
    """
    group = str(entry.get("group"))
    try:
        ciphertext = b64d(entry["ciphertext"])
    except (KeyError, EncodingError):
        return False, "ciphertext is not base64", None
    try:
        padded = sealing.open_ballot(
            private_key, ciphertext, election_id, group, ballot_size=ballot_size
        )
    except sealing.OpenError:
        return False, "does not decrypt", None
    try:
        obj = sealing.decode_ballot(padded, ballot_size)
    except sealing.PaddingError as exc:
        return False, f"malformed plaintext: {exc}", None
    ok, reason = validate_ballot(definition, election_id, group, obj)
    return ok, reason, obj.get("selections") if ok else None


# What opening one final ballot gives: (index, group, valid, reason, RFC 8785 bytes of the
# selections — ``null`` for an invalid ballot). Plain data, so it can come back from a worker.
Opened = tuple[int, str, bool, str | None, bytes]


@dataclass(frozen=True)
class BallotOpener:
    """Everything opening a final ballot needs, and nothing else: the reconstructed key, the
    election id, the ballot size and the definitions by group. Plain, picklable data, so a
    worker process (the verifier's pass 2, :mod:`rules.record_parallel`) can hold one and open
    ballots exactly as :func:`compute_result` does in-process."""

    private_key: bytes
    election_id: str
    ballot_size: int
    definitions: dict[str, Any]

    # The members of a ballot entry that opening reads; :meth:`slim` keeps only these, so a
    # worker is sent the ciphertext and the group, not the signatures and credential.
    MEMBERS = ("group", "ciphertext")

    @classmethod
    def slim(cls, entry: dict[str, Any]) -> dict[str, Any]:
        return {k: entry[k] for k in cls.MEMBERS if k in entry}

    def open(self, index: int, entry: dict[str, Any]) -> Opened:
        """Decrypt, unpad and validate one final ballot (its group has a definition)."""
        group = str(entry.get("group"))
        ok, reason, selections = open_ballot_entry(
            self.private_key, self.election_id, self.ballot_size, entry, self.definitions[group]
        )
        return index, group, ok, reason, canonical_json(selections)


# How the final ballots are opened: given the opener and the final ballots ``(index, entry)`` in
# log order, one :data:`Opened` per ballot, in the same order. :func:`open_sequentially` in this
# process; the verifier may spread the work over processes (rules.record_parallel).
OpenBallots = Callable[[BallotOpener, Iterable[tuple[int, dict[str, Any]]]], Iterable[Opened]]


def open_sequentially(
    opener: BallotOpener, finals: Iterable[tuple[int, dict[str, Any]]]
) -> Iterator[Opened]:
    for index, entry in finals:
        yield opener.open(index, entry)


def compute_result(
    log: ElectionLog,
    private_key: bytes,
    ballots: Iterable[tuple[int, dict[str, Any]]],
    lot_checkpoint: tuple[int, bytes],
    *,
    open_ballots: OpenBallots = open_sequentially,
) -> dict[str, Any]:
    """Pass 2: the ``result`` entry body from the final ballots.

    ``ballots`` yields ``(index, entry)`` for the ballot entries in log order (other entries are
    skipped, so the whole log may be passed). ``lot_checkpoint`` is ``(size, root hash)`` of the
    lot checkpoint (module docstring). ``open_ballots`` decrypts and validates the final
    ballots (:data:`OpenBallots`); however it splits the work, it must return exactly what
    :func:`open_sequentially` returns, in log order — the counting below depends only on that.
    """
    log.check_ready()
    assert log.election_id is not None
    eid = log.election_id
    if sealing.public_key_from_private(private_key) != log.sealing_key:
        raise TallyError("the private key does not match the published sealing key")
    size, root = lot_checkpoint
    defs = log.definitions()
    by_group = {d.group: d for d in defs}
    final = log.final_indices()
    ballot_size = log.ballot_size
    # Identical ballots aggregate into one counter key, so memory is bounded by the number of
    # distinct (valid, reason, selections) triples, not by the number of ballots.
    tallies: dict[str, Counter[tuple[bool, str | None, bytes]]] = {g: Counter() for g in by_group}
    invalid: list[dict[str, Any]] = []

    def finals() -> Iterator[tuple[int, dict[str, Any]]]:
        for index, entry in ballots:
            if index not in final or entry.get("type") != "ballot":
                continue
            group = str(entry.get("group"))
            if group not in by_group:
                raise TallyError(f"ballot at index {index} is for unknown group {group!r}")
            yield index, entry

    opener = BallotOpener(private_key, eid, ballot_size, by_group)
    for index, group, ok, reason, selections in open_ballots(opener, finals()):
        if not ok:
            invalid.append({"index": index, "group": group, "reason": reason})
        tallies[group][(ok, reason, selections)] += 1

    lot = Lot(root)
    groups_out, consultation_out = _count(log, defs, tallies, lot)
    return {
        "type": "result",
        "election": eid,
        "version": RESULT_VERSION,
        "kind": log.kind,
        "lot_checkpoint": {"size": size, "root": bytes(root).hex()},
        "ballots": {
            "entries": log.ballot_entries,
            "credentials": len(log.latest),
            "superseded": log.ballot_entries - len(log.latest),
        },
        "turnout": _turnout(log, defs),
        "groups": groups_out,
        "consultation": consultation_out,
        "invalid_ballots": invalid,
        "lot": lot.to_dict(),
    }


def compute_uncontested_result(log: ElectionLog) -> dict[str, Any]:
    """The ``result`` of an election in which no kiesgroep holds a vote (docs/rules.md): every
    candidate elected without a vote, from the ``lists_published`` entry alone. No keys, no
    ballots, no lot (``lot_checkpoint`` and ``lot`` are null)."""
    if log.election_id is None:
        raise TallyError("the log does not start with election_created")
    if not log.uncontested:
        raise TallyError("a kiesgroep holds a vote: the result needs the tally")
    if log.keys is not None or log.ballot_entries:
        raise TallyError("an uncontested election has no keys and no ballots")
    defs = log.definitions()
    groups_out, _ = _count(log, defs, {d.group: Counter() for d in defs}, None)
    return {
        "type": "result",
        "election": log.election_id,
        "version": RESULT_VERSION,
        "kind": log.kind,
        "lot_checkpoint": None,
        "ballots": {"entries": 0, "credentials": 0, "superseded": 0},
        "turnout": _turnout(log, defs),
        "groups": groups_out,
        "consultation": None,
        "invalid_ballots": [],
        "lot": None,
    }


def _count(
    log: ElectionLog,
    defs: list[GroupDef | ConsultationDef],
    tallies: dict[str, Counter[tuple[bool, str | None, bytes]]],
    lot: Lot | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Count every works council group in published order, or the consultation: its totals
    over all kiesgroepen, with the same counts per kiesgroep under ``groups``."""
    groups_out: list[dict[str, Any]] = []
    s = log.settings
    consultation = [d for d in defs if isinstance(d, ConsultationDef)]
    for d in defs:
        if isinstance(d, GroupDef):
            groups_out.append(
                count_works_council_group(
                    d,
                    _expand(tallies[d.group]),
                    residual_method=s.get("residual_method", "largest_remainder"),
                    remainder_threshold=s.get("remainder_threshold", "0"),
                    preference_threshold=s.get("preference_threshold", "1/2"),
                    lot=lot,
                ).to_dict()
            )
    if not consultation:
        return groups_out, None
    every = chain.from_iterable(_expand(tallies[d.group]) for d in consultation)
    total = count_consultation(consultation[0], every).to_dict()
    minimum = int(s.get("min_group_size", DEFAULT_MIN_GROUP_SIZE))
    sizes = {d.group: sum(tallies[d.group].values()) for d in consultation}
    shown, merged = small_group_split([d.group for d in consultation], sizes, minimum)
    total["min_group_size"] = minimum
    total["groups"] = [
        {"group": d.group, **count_consultation(d, _expand(tallies[d.group])).to_dict()}
        for d in consultation
        if d.group in shown
    ]
    total["other"] = None
    if merged:
        rest = chain.from_iterable(_expand(tallies[g]) for g in merged)
        total["other"] = {"merged": merged, **count_consultation(consultation[0], rest).to_dict()}
    return groups_out, total


def small_group_split(
    groups: list[str], sizes: dict[str, int], minimum: int
) -> tuple[list[str], list[str]]:
    """Which kiesgroepen of a consultation are reported on their own, and which are merged into
    "other" (docs/rules.md "Small groups"). Returns ``(shown, merged)``, each in definition order.

    A group with fewer than ``minimum`` ballots is merged. Because the total is published, the
    merged set must itself hold at least ``minimum`` ballots and at least two groups — otherwise
    total minus the shown groups would give it away — so the smallest shown groups (the later
    one at equal size) are moved into it until it does. When no shown group is left there is no
    breakdown at all (``shown`` and ``merged`` empty: the total is the only result). A
    consultation of one group shows it (it equals the total).
    """
    if len(groups) <= 1:
        return list(groups), []
    shown = [g for g in groups if sizes[g] >= minimum]
    small = [g for g in groups if sizes[g] < minimum]
    while small and (len(small) < 2 or sum(sizes[g] for g in small) < minimum):
        if not shown:
            return [], []
        pick = min(reversed(shown), key=lambda g: sizes[g])
        shown.remove(pick)
        small.append(pick)
    if not shown:
        return [], []
    order = {g: i for i, g in enumerate(groups)}
    return shown, sorted(small, key=order.__getitem__)


def _turnout(log: ElectionLog, defs: list[GroupDef | ConsultationDef]) -> list[dict[str, Any]]:
    voted = log.credentials_per_group()
    roll = log.roll_counts or {}
    turnout = []
    for d in defs:
        counts = roll.get(d.group)
        eligible = counts.get("may_vote") if isinstance(counts, dict) else None
        turnout.append(
            {
                "group": d.group,
                "eligible": eligible,
                "issued": log.issuance[d.group],
                "voted": voted[d.group],
            }
        )
    return turnout


def _expand(counter: Counter[tuple[bool, str | None, bytes]]) -> Iterable[tuple[bool, Any, Any]]:
    # Sorted so the (order-independent) counting sees a deterministic order anyway.
    for (ok, reason, sel), n in sorted(
        counter.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2])
    ):
        selections = json.loads(sel)
        for _ in range(n):
            yield ok, reason, selections
