"""The voter side of the Stembus protocol in Python: a client SDK that uses only the public API
and the protocol (docs/protocol.md, docs/client-protocol.md), exactly as a third-party frontend
would.

    client = StembusClient("https://stembus.example")
    cred, promise = client.vote(election_id, access_code, {"q1": ["yes"]})
    cred.save(path)                       # keep it to re-vote, and the promise to check
    client.revote(StoredCredential.load(path), {"q1": ["no"]})
    client.collect_receipts(cred)         # later: the receipts of the ballots now in the log

A cast is answered with a ballot promise (docs/protocol.md "Casting" step 4): the log key's signed
statement that the entry will be in the log by the close of voting. The ballot waits in its
kiesgroep's pool until a flush appends it with at least ``batch_size`` others in leaf-hash order
("Publication in shuffled batches"); its receipt is fetched by entry hash once it is there
(:meth:`StembusClient.collect_receipts`, ``stembus vote --check``).

A lost answer must not lock the voter out. The server issues one credential per voter, ever, and
returns the same blind signature only for the same ``blinded_msg`` (docs/protocol.md "Issuance"), so
a client that may lose the answer keeps the request before sending it::

    pending = client.begin_issuance(election_id, login.group)   # sk_c, input_msg, blinding
    pending.save(path)                    # secret (0600); on a rerun: load_state(path)
    cred = client.finish_issuance(pending, login.token)          # repeatable: same blinded_msg
    cred.save(path)                       # replaces the pending state

(``obtain_credential`` does both steps in memory.) Likewise a ballot is kept in the credential
(``pending_ballot``, saved through ``cast``'s ``on_prepared``) before it is sent: the server
answers the same ballot sent again with the same promise, so ``cast`` first sends a pending
ballot of an earlier run again. Without that state it still recovers: on 409
``ballot-seq-not-greater`` it reads the credential's highest ``seq`` from the public log and
retries once with the next one; on 409 ``revoting-not-allowed`` (one ballot per credential) it
finds the credential's ballot in the public log, checks it is signed with the credential, and
fetches its receipt (a :class:`RecoveredReceipt`): that ballot counts, but its sealed content
cannot be checked to be the choices of this call.

Pass an ``httpx.Client`` to use another transport (e.g. FastAPI's TestClient over the ASGI app).
Every answer of the server that the protocol lets the client check is checked: the keys entry is
in the log under a checkpoint signed by the published log key; the blind signature finalizes to a
valid RSASSA-PSS signature (RFC 9474 §4.4); the promise is signed by the log key for exactly the
entry that was sent; a receipt's inclusion proof leads to a checkpoint signed by the log key, for
exactly that entry.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from crypto import blindrsa, credential, merkle, note, sealing
from crypto.canonical import b64d, b64e, canonical_json
from rules import ballot as ballot_rules

API = "/api/v1"


class StembusError(Exception):
    """The server answered with an RFC 9457 problem (or the client refused its answer)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.type = str(problem.get("type", ""))
        super().__init__(f"{status} {self.type}: {problem.get('detail') or problem.get('title')}")


class ProtocolError(Exception):
    """A server answer failed a check the protocol requires of the client."""


@dataclass
class ElectionKeys:
    """The `keys` log entry, checked against the log."""

    election: str
    index: int
    issuer_keys: dict[str, dict[str, str]]
    sealing_key: bytes
    ballot_size: int
    trustees: dict[str, int]
    log_verifier: note.Verifier
    entry: dict[str, Any]

    def issuer_public(self, group: str) -> Any:
        return blindrsa.public_key_from_jwk(self.issuer_keys[group])


def write_private(path: str | Path, text: str) -> None:
    """Write a secret file atomically and never readable by others: a temporary file in the same
    folder, created with mode 0600 (no moment with wider rights), synced, then renamed over
    ``path`` (os.replace), so a crash leaves the old file or the new one, never half of one."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o600)  # exactly 0600 whatever the umask
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX)
        dfd = os.open(p.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


@dataclass
class PendingCredential:
    """A credential request before its answer (docs/protocol.md "Issuance" steps 1–2); secret.

    Keep it before sending ``blinded_msg``: if the answer is lost after the server signed,
    :meth:`StembusClient.finish_issuance` with this same state sends the same ``blinded_msg``,
    gets the same ``blind_sig`` back and finalizes it with the stored ``inv``. A fresh request
    would be refused (409 ``credential-already-issued``) forever.
    """

    election: str
    group: str
    secret_key: str  # b64 Ed25519 seed (sk_c)
    input_msg: str  # b64 RFC 9474 input_msg = msg_prefix ‖ pk_c
    blinded_msg: str  # b64, what the server blind-signs
    inv: str  # b64 RFC 9474 blinding inverse: unblinds the answer (secret)
    pending: bool = True  # marks a saved file as a pending request (see load_state)
    pseudonym: str = ""  # whose request it is (the voter's pseudonym), to refuse another's code

    def save(self, path: str | Path) -> None:
        write_private(path, json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> PendingCredential:
        state = load_state(path)
        if not isinstance(state, PendingCredential):
            raise ValueError(f"{path} holds a credential, not a pending request")
        return state


@dataclass
class StoredCredential:
    """Everything needed to (re-)vote with one credential; secret: keep it on the device."""

    election: str
    group: str
    secret_key: str  # b64 Ed25519 seed (sk_c)
    credential: str  # b64 raw public key (pk_c)
    prefix: str  # b64 RFC 9474 msg_prefix
    issuer_sig: str  # b64 finalized RSASSA-PSS signature over prefix ‖ credential
    seq: int = 0  # seq of the last ballot cast
    receipts: list[dict[str, Any]] = field(default_factory=list)  # of ballots now in the log
    promises: list[dict[str, Any]] = field(default_factory=list)  # one per ballot cast
    pending_ballot: dict[str, Any] | None = None  # signed and (maybe) sent, no answer yet
    pseudonym: str = ""  # whose credential it is: the `issuance` answer's pseudonym

    def save(self, path: str | Path) -> None:
        write_private(path, json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> StoredCredential:
        state = load_state(path)
        if not isinstance(state, StoredCredential):
            raise ValueError(
                f"{path} holds a pending credential request, not a credential: "
                "finish it with StembusClient.finish_issuance"
            )
        return state


def load_state(path: str | Path) -> StoredCredential | PendingCredential:
    """A file written by :meth:`StoredCredential.save` or :meth:`PendingCredential.save`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a Stembus credential file")
    if data.get("pending") is True:
        return PendingCredential(**data)
    return StoredCredential(**data)


def check_selections(
    definition: dict[str, Any], election_id: str, group: str, selections: Any
) -> str | None:
    """Why ``selections`` would be counted as an invalid ballot (rules.ballot), or None."""
    plaintext = {"election": election_id, "group": group, "selections": selections}
    ok, reason = ballot_rules.validate_ballot(definition, election_id, group, plaintext)
    return None if ok else reason


def ballot_entry(
    cred: StoredCredential, keys: ElectionKeys, selections: Any, seq: int
) -> dict[str, Any]:
    """The signed ballot entry of docs/protocol.md "Casting" steps 1–3."""
    plaintext = {"election": cred.election, "group": cred.group, "selections": selections}
    padded = sealing.encode_ballot(plaintext, keys.ballot_size)
    ciphertext = sealing.seal(keys.sealing_key, padded, cred.election, cred.group)
    entry: dict[str, Any] = {
        "type": "ballot",
        "election": cred.election,
        "group": cred.group,
        "credential": cred.credential,
        "prefix": cred.prefix,
        "issuer_sig": cred.issuer_sig,
        "seq": seq,
        "ciphertext": b64e(ciphertext),
    }
    entry["signature"] = credential.sign_entry(b64d(cred.secret_key), entry)
    return entry


def verify_receipt(
    receipt: dict[str, Any], entry: dict[str, Any], verifier: note.Verifier
) -> note.Checkpoint:
    """Check a receipt offline: its tlog-proof and its JSON form, for exactly this entry."""
    return verify_receipt_for(receipt, merkle.leaf_hash(canonical_json(entry)), verifier)


def verify_receipt_for(
    receipt: dict[str, Any], leaf: bytes, verifier: note.Verifier
) -> note.Checkpoint:
    """:func:`verify_receipt` for the entry with this leaf hash."""
    if receipt["entry_hash"] != leaf.hex():
        raise ProtocolError("the receipt is for another entry")
    proof, cp = note.verify_tlog_proof(receipt["tlog_proof"], leaf, verifier, verifier.name)
    if proof.extra is not None and proof.extra != leaf:
        raise ProtocolError("the receipt's tlog-proof names another entry hash")
    if proof.index != receipt["index"] or proof.checkpoint != receipt["checkpoint"]:
        raise ProtocolError("the receipt's JSON and tlog-proof forms differ")
    if [h.hex() for h in proof.proof] != receipt["inclusion_proof"]:
        raise ProtocolError("the receipt's JSON and tlog-proof forms differ")
    return cp


def verify_promise(
    promise: dict[str, Any], entry_hash: bytes, verifier: note.Verifier
) -> note.BallotPromise:
    """Check a ballot promise offline: signed by the log key, of this log, for this entry."""
    if promise.get("entry_hash") != entry_hash.hex():
        raise ProtocolError("the promise is for another entry")
    try:
        opened = note.open_promise(promise["promise"], verifier, verifier.name)
    except (KeyError, note.NoteError) as e:
        raise ProtocolError(f"the promise does not verify: {e}") from None
    if opened.entry_hash != entry_hash:
        raise ProtocolError("the promise's signed text names another entry")
    return opened


def entry_hash_of(entry: dict[str, Any]) -> bytes:
    return merkle.leaf_hash(canonical_json(entry))


class RecoveredReceipt(dict[str, Any]):
    """A receipt found through the public log (after 409 ``revoting-not-allowed``), not returned
    by the cast: the same fields, checked the same way (:func:`verify_receipt`), for the ballot of
    the log signed with the credential, i.e. by its holder. What it cannot show is that the
    ballot's sealed content is the choices of this call (the ciphertext is randomized): it is the
    one cast earlier whose answer was lost. Saved, it is a plain receipt."""


class RecoveredPromise(dict[str, Any]):
    """The promise of a ballot of an earlier run whose answer was lost (its ``pending_ballot``,
    sent again), returned instead of casting new choices where re-voting is not allowed: that
    earlier ballot counts."""


@dataclass
class Login:
    token: str
    roles: list[str]
    group: str | None  # a voter's kiesgroep (None for other roles)


class StembusClient:
    def __init__(self, base_url: str = "http://testserver", http: httpx.Client | None = None):
        self.base = base_url.rstrip("/") + API
        self.http = http or httpx.Client(timeout=30.0)
        self._keys: dict[str, ElectionKeys] = {}

    # -- transport ----------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, token: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = self.http.request(method, self.base + path, headers=headers, **kw)
        try:
            body = r.json()
        except ValueError:
            body = {"title": r.text[:200]}
        if r.status_code >= 400:
            raise StembusError(r.status_code, body)
        return body  # type: ignore[no-any-return]

    # -- public data --------------------------------------------------------------------------

    def election(self, election_id: str) -> dict[str, Any]:
        return self._request("GET", f"/elections/{election_id}")

    def log_verifier(self, election_id: str) -> note.Verifier:
        key = self._request("GET", f"/elections/{election_id}/log/key")
        v = note.Verifier.from_key_string(key["verifier_key"])
        if not v.name.endswith(f"/elections/{election_id}"):
            raise ProtocolError("the log key's origin is not this election's")
        return v

    def keys(self, election_id: str) -> ElectionKeys:
        """The `keys` entry, checked to be in the log under a checkpoint signed by the log key."""
        if election_id in self._keys:
            return self._keys[election_id]
        got = self._request("GET", f"/elections/{election_id}/voting/keys")
        entry, index = got["entry"], got["index"]
        verifier = self.log_verifier(election_id)
        if entry.get("type") != "keys" or entry.get("election") != election_id:
            raise ProtocolError("not this election's keys entry")
        if entry["log_key"] != verifier.key_string:
            raise ProtocolError("the keys entry names another log key")
        leaf = merkle.leaf_hash(canonical_json(entry))
        proof = self._request(
            "GET", f"/elections/{election_id}/log/proofs/inclusion", params={"index": index}
        )
        cp = note.open_checkpoint(proof["checkpoint"], verifier, verifier.name)
        merkle.verify_inclusion(
            leaf, index, cp.size, [bytes.fromhex(h) for h in proof["proof"]], cp.root_hash
        )
        keys = ElectionKeys(
            election=election_id,
            index=index,
            issuer_keys=entry["issuer_keys"],
            sealing_key=b64d(entry["sealing_key"]),
            ballot_size=int(entry["ballot_size"]),
            trustees=entry["trustees"],
            log_verifier=verifier,
            entry=entry,
        )
        self._keys[election_id] = keys
        return keys

    # -- the voter's steps --------------------------------------------------------------------

    def sign_in(self, election_id: str, code: str) -> Login:
        """POST login: the token, its roles and, for a voter, the kiesgroep."""
        body = self._request("POST", f"/elections/{election_id}/login", json={"code": code})
        return Login(str(body["access_token"]), list(body["roles"]), body.get("group"))

    def login(self, election_id: str, code: str) -> str:
        return self.sign_in(election_id, code).token

    def my_registration(self, election_id: str, token: str) -> dict[str, Any]:
        """``GET …/me/registration``: what the roll says of the voter, with the reasons."""
        return self._request("GET", f"/elections/{election_id}/me/registration", token)

    def credential_status(self, election_id: str, token: str) -> dict[str, Any]:
        return self._request("GET", f"/elections/{election_id}/voting/credential", token)

    def begin_issuance(self, election_id: str, group: str) -> PendingCredential:
        """docs/protocol.md "Issuance" steps 1–2, offline: make sk_c, prepare and blind prefix ‖
        pk_c for the group's issuer key. Save the result before :meth:`finish_issuance` sends it."""
        keys = self.keys(election_id)
        if group not in keys.issuer_keys:
            raise ProtocolError(f"no issuer key for kiesgroep {group}")
        sk = credential.generate_key()
        pk = credential.public_key_bytes(sk)
        input_msg = blindrsa.prepare(pk)  # msg_prefix (32 random bytes) ‖ pk_c
        blinded, inv = blindrsa.blind(keys.issuer_public(group), input_msg)
        return PendingCredential(
            election=election_id,
            group=group,
            secret_key=b64e(credential.private_key_bytes(sk)),
            input_msg=b64e(input_msg),
            blinded_msg=b64e(blinded),
            inv=b64e(inv),
        )

    def finish_issuance(self, pending: PendingCredential, token: str) -> StoredCredential:
        """POST the pending request's ``blinded_msg`` and finalize the answer (steps 2–4).

        Repeatable: after a lost answer, call it again with the same pending state; the server
        returns the same ``blind_sig`` for the same ``blinded_msg``."""
        keys = self.keys(pending.election)
        if pending.group not in keys.issuer_keys:
            raise ProtocolError(f"no issuer key for kiesgroep {pending.group}")
        public = keys.issuer_public(pending.group)
        sk_bytes, input_msg = b64d(pending.secret_key), b64d(pending.input_msg)
        pk = credential.public_key_bytes(credential.load_private_key(sk_bytes))
        prefix = input_msg[: blindrsa.PREFIX_LEN]
        if credential.ballot_input_msg(prefix, input_msg[blindrsa.PREFIX_LEN :]) != prefix + pk:
            raise ValueError("the pending request's input_msg is not msg_prefix ‖ pk_c")
        got = self._request(
            "POST",
            f"/elections/{pending.election}/voting/credential",
            token,
            json={"blinded_msg": pending.blinded_msg},
        )
        if got["group"] != pending.group:
            raise ProtocolError("the server signed for another kiesgroep")
        sig = blindrsa.finalize(public, input_msg, b64d(got["blind_sig"]), b64d(pending.inv))
        return StoredCredential(
            election=pending.election,
            group=pending.group,
            secret_key=pending.secret_key,
            credential=b64e(pk),
            prefix=b64e(prefix),
            issuer_sig=b64e(sig),
            pseudonym=str(got.get("pseudonym", "")),
        )

    def obtain_credential(
        self, election_id: str, token: str, group: str | None = None
    ) -> StoredCredential:
        """docs/protocol.md "Issuance": make sk_c, blind prefix ‖ pk_c, get it signed, finalize.

        Keeps the request in memory only: to survive a lost answer, use
        :meth:`begin_issuance`, save the pending state, then :meth:`finish_issuance`."""
        if group is None:
            group = str(self.credential_status(election_id, token)["group"])
        return self.finish_issuance(self.begin_issuance(election_id, group), token)

    def cast(
        self,
        cred: StoredCredential,
        selections: Any,
        on_prepared: Callable[[StoredCredential], None] | None = None,
    ) -> dict[str, Any]:
        """Seal, sign and cast the next ballot (seq + 1); verify and keep its promise.

        The signed ballot is put in ``cred.pending_ballot`` and ``on_prepared(cred)`` is called
        before it is sent (save the credential there), so a lost answer is recovered by sending
        the very same ballot again, which gets the same promise. A pending ballot of an earlier
        run is sent again first; where re-voting is not allowed and that earlier ballot was
        accepted, its promise (a :class:`RecoveredPromise`) is returned instead of casting
        ``selections``.

        Without a pending ballot (a lost state): on 409 ``ballot-seq-not-greater`` an earlier
        ballot of this credential was accepted but its answer never arrived (so ``cred.seq``
        lags): read the credential's highest ``seq`` from the public log and retry once with the
        next. On 409 ``revoting-not-allowed``, if the log holds a ballot of this credential newer
        than ``cred.seq``, that ballot counts: return its receipt (:meth:`recover_receipt`, a
        :class:`RecoveredReceipt`) instead of casting ``selections``; otherwise re-raise.
        ``cred.seq`` is the seq of the ballot cast (or recovered); save ``cred`` afterwards."""
        earlier = self.resend_pending(cred) if cred.pending_ballot is not None else None
        keys = self.keys(cred.election)
        seq = cred.seq + 1
        entry = ballot_entry(cred, keys, selections, seq)
        cred.pending_ballot = entry
        if on_prepared is not None:
            on_prepared(cred)
        try:
            return self._send(cred, entry)
        except StembusError as e:
            if e.type.endswith("/revoting-not-allowed"):
                cred.pending_ballot = None
                if earlier is not None:
                    return RecoveredPromise(earlier)
                recovered = self.recover_receipt(cred)
                if recovered is None:  # no ballot of ours whose receipt we lack: a real refusal
                    raise
                receipt, found = recovered
                cred.seq = int(found["seq"])
                cred.receipts.append(receipt)
                return receipt
            if e.type.endswith("/ballot-seq-not-greater"):
                highest = self.highest_seq(cred)
                if highest < seq:  # the log shows no such ballot: nothing to recover from
                    cred.pending_ballot = None
                    raise
                entry = ballot_entry(cred, keys, selections, highest + 1)
                cred.pending_ballot = entry
                if on_prepared is not None:
                    on_prepared(cred)
                return self._send(cred, entry)
            cred.pending_ballot = None
            raise

    def _send(self, cred: StoredCredential, entry: dict[str, Any]) -> dict[str, Any]:
        promise = self.cast_entry(entry)
        verify_promise(promise, entry_hash_of(entry), self.keys(cred.election).log_verifier)
        promise = {**promise, "seq": int(entry["seq"])}
        cred.seq = int(entry["seq"])
        cred.promises.append(promise)
        cred.pending_ballot = None
        return promise

    def resend_pending(self, cred: StoredCredential) -> dict[str, Any] | None:
        """Send ``cred.pending_ballot`` (an earlier run's ballot whose answer was lost) again:
        its promise if the server accepted it (now or before), else None; the pending state is
        cleared either way."""
        entry = cred.pending_ballot
        assert entry is not None
        try:
            return self._send(cred, entry)
        except StembusError as e:
            # Voting may have closed meanwhile: the ballot was accepted if the service knows it.
            if e.status == 409 and self.receipt_status(cred.election, entry_hash_of(entry)):
                cred.seq = max(cred.seq, int(entry["seq"]))
                cred.pending_ballot = None
                return None
            cred.pending_ballot = None
            if e.type.endswith(("/ballot-seq-not-greater", "/revoting-not-allowed")):
                return None  # superseded or never accepted: nothing pending any more
            raise

    def receipt_status(self, election_id: str, entry_hash: bytes) -> dict[str, Any] | None:
        """``GET …/receipts/{entry_hash}``: ``{"status": "pending"}`` while the ballot waits
        for its flush, ``{"status": "included", "receipt": …}`` once appended; None if the
        service knows no such ballot."""
        try:
            return self._request("GET", f"/elections/{election_id}/receipts/{entry_hash.hex()}")
        except StembusError as e:
            if e.status == 404 and e.type.endswith("/unknown-ballot"):
                return None
            raise

    def collect_receipts(self, cred: StoredCredential) -> tuple[int, int]:
        """Fetch and verify the receipt of every promised ballot now in the log; keep them in
        ``cred.receipts``. Returns (receipts held, ballots still pending)."""
        verifier = self.keys(cred.election).log_verifier
        have = {r["entry_hash"] for r in cred.receipts}
        pending = 0
        for p in cred.promises:
            if p["entry_hash"] in have:
                continue
            got = self.receipt_status(cred.election, bytes.fromhex(p["entry_hash"]))
            if got is None:
                raise ProtocolError(
                    f"the service does not know the promised ballot {p['entry_hash']}: keep the "
                    "promise, it is a signed proof that the service broke it"
                )
            if got["status"] != "included":
                pending += 1
                continue
            receipt = got["receipt"]
            verify_receipt_for(receipt, bytes.fromhex(p["entry_hash"]), verifier)
            cred.receipts.append(receipt)
            have.add(p["entry_hash"])
        return len(cred.receipts), pending

    def credential_ballots(self, cred: StoredCredential) -> list[tuple[int, dict[str, Any]]]:
        """The credential's ballot entries in the public log, as (index, entry), in log order.

        Only the ``credential`` field is matched here: whether an entry is signed with the
        credential is for the caller to check (:func:`crypto.credential.verify_entry`)."""
        start = self.keys(cred.election).index + 1  # ballots come after the keys entry
        return [
            (index, e)
            for index, e in self.log_entries(cred.election, start)
            if e.get("type") == "ballot" and e.get("credential") == cred.credential
        ]

    def log_entries(self, election_id: str, start: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """The public log's entries from ``start`` on, as (index, entry), a page at a time."""
        at: int | None = start
        while at is not None:
            page = self._request(
                "GET", f"/elections/{election_id}/log/entries", params={"start": at, "limit": 1000}
            )
            for item in page["entries"]:
                yield int(item["index"]), item["entry"]
            at = page["next"]

    def highest_seq(self, cred: StoredCredential) -> int:
        """The highest ``seq`` of the credential's ballots in the public log (0 if none)."""
        return max((int(e["seq"]) for _, e in self.credential_ballots(cred)), default=0)

    def recover_receipt(
        self, cred: StoredCredential
    ) -> tuple[RecoveredReceipt, dict[str, Any]] | None:
        """The receipt of the credential's ballot whose answer was lost, from public data only.

        Looks in the log for the credential's ballots; every one must be signed with the
        credential (else :class:`ProtocolError`: the log names our credential on an entry we did
        not sign). Of those with a ``seq`` above ``cred.seq`` (the ones whose answer we lack),
        takes the highest, the one that counts; None if there is none (a ballot still waiting in
        its pool is not in the log yet: the pending ballot of :meth:`cast` covers that). Its
        receipt is fetched by entry hash and checked with :func:`verify_receipt` before it is
        returned with the entry."""
        keys = self.keys(cred.election)
        pk = b64d(cred.credential)
        ballots = self.credential_ballots(cred)
        for index, e in ballots:
            if not credential.verify_entry(pk, e):
                raise ProtocolError(
                    f"log entry {index} names this credential but is not signed with it"
                )
        newer = [(i, e) for i, e in ballots if int(e["seq"]) > cred.seq]
        if not newer:
            return None
        index, entry = max(newer, key=lambda b: int(b[1]["seq"]))
        got = self.receipt_status(cred.election, entry_hash_of(entry))
        if got is None or got.get("status") != "included":
            raise ProtocolError("the log holds the ballot but the service has no receipt for it")
        receipt = RecoveredReceipt(got["receipt"])
        verify_receipt(receipt, entry, keys.log_verifier)
        if receipt["index"] != index:
            raise ProtocolError("the receipt is for another index than the log's entry")
        return receipt, entry

    def ballot_definition(self, election_id: str, group: str) -> dict[str, Any]:
        """The group's published ballot definition, as rules.ballot reads it, in one call
        (`GET …/ballot`, docs/client-protocol.md step 0.4): the latest `questions_published` or
        `lists_published` entry of the public log, checked to be in the log under a checkpoint
        signed by the log key (and, once the `keys` entry is known, to stand before it); the
        group's part is read from that entry, not taken from the answer."""
        got = self._request("GET", f"/elections/{election_id}/ballot", params={"group": group})
        entry, index = got["entry"], int(got["index"])
        kind = entry.get("type")
        if kind not in ("questions_published", "lists_published"):
            raise ProtocolError("the ballot answer is not a published ballot definition")
        if entry.get("election") != election_id:
            raise ProtocolError("not this election's ballot definition")
        cached = self._keys.get(election_id)
        verifier = cached.log_verifier if cached else self.log_verifier(election_id)
        cp = note.open_checkpoint(got["checkpoint"], verifier, verifier.name)
        merkle.verify_inclusion(
            merkle.leaf_hash(canonical_json(entry)),
            index,
            cp.size,
            [bytes.fromhex(h) for h in got["proof"]],
            cp.root_hash,
        )
        if cached is not None and index > cached.index:
            raise ProtocolError("the ballot definition stands after the keys entry")
        found: dict[str, Any] | None
        if kind == "questions_published":
            found = {"group": group, "questions": entry["questions"]}
        else:
            found = next((g for g in entry["groups"] if g.get("group") == group), None)
        if found is None or got.get("definition") != found:
            raise ProtocolError(f"no published ballot definition for kiesgroep {group}")
        return found

    def cast_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        """POST a ballot entry as is (anonymous: no token, and httpx keeps no cookie here)."""
        r = self.http.post(
            f"{self.base}/elections/{entry['election']}/ballots",
            content=json.dumps(entry).encode(),
            headers={"Content-Type": "application/json"},
        )
        if r.status_code >= 400:
            raise StembusError(r.status_code, r.json())
        return r.json()  # type: ignore[no-any-return]

    def vote(
        self,
        election_id: str,
        code: str,
        selections: Any,
        delay: float = 0.0,
        on_prepared: Callable[[StoredCredential], None] | None = None,
    ) -> tuple[StoredCredential, dict[str, Any]]:
        """Log in, obtain the credential, (optionally wait), cast: the whole voter flow."""
        login = self.sign_in(election_id, code)
        # The login answer names the voter's kiesgroep: no status request needed.
        cred = self.obtain_credential(election_id, login.token, login.group)
        if delay > 0:
            time.sleep(delay)  # weakens timing links between issuance and casting
        return cred, self.cast(cred, selections, on_prepared)

    def revote(
        self,
        cred: StoredCredential,
        selections: Any,
        on_prepared: Callable[[StoredCredential], None] | None = None,
    ) -> dict[str, Any]:
        return self.cast(cred, selections, on_prepared)

    def check_receipt(self, receipt: dict[str, Any]) -> dict[str, Any]:
        """Ask the server whether the receipt's entry is still in the log, consistently (a
        promise: whether its entry is pending or included)."""
        return self._request(
            "POST", f"/elections/{receipt['election']}/log/receipts/check", json=receipt
        )

    def verify_receipt_against_log(self, receipt: dict[str, Any]) -> None:
        """Check the receipt's checkpoint is consistent with the latest, with our own math."""
        eid = receipt["election"]
        verifier = self.log_verifier(eid)
        proof = note.TlogProof.from_text(receipt["tlog_proof"])
        old = note.open_checkpoint(proof.checkpoint, verifier, verifier.name)
        latest_raw = self._request("GET", f"/elections/{eid}/log/checkpoint")
        latest = note.open_checkpoint(latest_raw["note"], verifier, verifier.name)
        c = self._request(
            "GET",
            f"/elections/{eid}/log/proofs/consistency",
            params={"from": old.size, "to": latest.size},
        )
        merkle.verify_consistency(
            old.size,
            latest.size,
            old.root_hash,
            latest.root_hash,
            [bytes.fromhex(h) for h in c["proof"]],
        )
