"""A complete election log built directly with the primitives, in the exact entry formats of
docs/log-entries.md — for the tally benchmark and the record/tally tests, where 100,000 HTTP calls
would measure the web stack instead of the tally.

What is real: issuer RSA keys and RSASSA-PSS credentials (RFC 9474's finalized signature *is* a
plain RSASSA-PSS signature over ``prefix ‖ pk_c``, so signing it directly yields exactly what
blind-sign + finalize yields), Ed25519 credential keys and ballot signatures, HPKE-sealed padded
ballots, the Shamir-shared sealing key, the Merkle tree and Ed25519-signed C2SP checkpoints, the
publication in shuffled batches (issuance and ballot entries pooled per kiesgroep and flushed by
:func:`rules.flush.plan_flush`, a checkpoint after each flush, like the server), and the result
computed by :mod:`rules.tally`.

The tampering helpers of the tests (``malicious``) let a test play a dishonest server that holds
the log key: it can sign checkpoints over a wrong result or a ballot without issuance, and the
verifier must still catch it.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from crypto import blindrsa, credential, merkle, note, sealing, shamir
from crypto.canonical import b64e, canonical_json
from rules import flush as flush_rules
from rules.ballot import max_ballot_size
from rules.record import checkpoint_line, entry_line, header_line, trailer_line
from rules.settings import ElectionSettings
from rules.tally import ElectionLog, compute_result

_BAD_BALLOTS = ("bad_ballot_signature", "bad_issuer_signature")
_BAD_FLUSHES = ("short_run", "unsorted_run", "issuance_late")
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)


def default_groups() -> list[dict[str, Any]]:
    """Two kiesgroepen (list system) and one where no vote is held."""
    return [
        {
            "group": "productie",
            "seats": 7,
            "vote_held": True,
            "system": "list",
            "votes_per_voter": 1,
            "lists": [
                {
                    "id": "fnv",
                    "name": "FNV",
                    "kind": "union",
                    "candidates": [
                        {"id": f"fnv{i}", "name": f"FNV kandidaat {i}", "position": i}
                        for i in range(1, 7)
                    ],
                },
                {
                    "id": "cnv",
                    "name": "CNV",
                    "kind": "union",
                    "candidates": [
                        {"id": f"cnv{i}", "name": f"CNV kandidaat {i}", "position": i}
                        for i in range(1, 5)
                    ],
                },
                {
                    "id": "vrij",
                    "name": "Vrije lijst",
                    "kind": "free",
                    "candidates": [
                        {"id": f"vrij{i}", "name": f"Vrij {i}", "position": i} for i in range(1, 4)
                    ],
                },
            ],
        },
        {
            "group": "kantoor",
            "seats": 5,
            "vote_held": True,
            "system": "list",
            "votes_per_voter": 1,
            "lists": [
                {
                    "id": "unie",
                    "name": "De Unie",
                    "kind": "union",
                    "candidates": [
                        {"id": f"unie{i}", "name": f"Unie {i}", "position": i} for i in range(1, 5)
                    ],
                },
                {
                    "id": "kvrij",
                    "name": "Kantoor vrij",
                    "kind": "free",
                    "candidates": [
                        {"id": f"kv{i}", "name": f"KV {i}", "position": i} for i in range(1, 5)
                    ],
                },
            ],
        },
        {
            "group": "staf",
            "seats": 3,
            "vote_held": False,
            "system": "list",
            "votes_per_voter": 1,
            "lists": [
                {
                    "id": "staf",
                    "name": "Staf",
                    "kind": "free",
                    "candidates": [
                        {"id": "staf1", "name": "S. Staf", "position": 1},
                        {"id": "staf2", "name": "T. Staf", "position": 2},
                    ],
                },
            ],
        },
    ]


@dataclass
class Synthetic:
    """The result of :func:`build`: the record file plus the secrets a test may need."""

    path: Path
    election_id: str
    origin: str
    signer: note.Signer
    log_key: str
    sealing_private: bytes
    shares: list[shamir.Share]
    size: int
    receipts: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    tampered: list[int] = field(default_factory=list)  # entries a ``malicious`` build falsified
    checkpoints: int = 0  # signed checkpoints in the record


class _Pooled:
    __slots__ = ("entry", "leaf_hash", "mark")

    def __init__(self, entry: dict[str, Any], mark: str | None) -> None:
        self.entry = entry
        self.leaf_hash = merkle.leaf_hash(canonical_json(entry))
        self.mark = mark  # "receipt", "tampered" or None: what to note of its index


class LogWriter:
    """Appends entries like the server: leaf = RFC 8785 bytes, a signed checkpoint after each
    append. Lines go to ``out``; the header is written by the caller once the size is known."""

    def __init__(self, out: Any, election_id: str, signer: note.Signer, every: int = 1) -> None:
        self.out = out
        self.eid = election_id
        self.signer = signer
        self.tree = merkle.RootBuilder()
        self.every = every
        self.checkpoints = 0
        self.size = 0
        self.log = ElectionLog()
        self.lines_written = 0
        self.tamper: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None

    def append(self, entry: dict[str, Any], *, checkpoint: bool | None = None) -> int:
        index = self.size
        body = canonical_json(entry)
        self.out.write(entry_line(index, body))
        self.tree.add(merkle.leaf_hash(body))
        self.size += 1
        self.log.add(index, entry)
        if checkpoint or (checkpoint is None and self.size % self.every == 0):
            self.checkpoint()
        return index

    def flush(
        self,
        issuances: list[_Pooled],
        ballots: list[_Pooled],
        batch_size: int,
        rng: random.Random,
        *,
        whole: bool,
        cheat: str | None = None,
    ) -> tuple[list[_Pooled], list[tuple[int, _Pooled]]]:
        """Append one group's flush (rules.flush.plan_flush) and its checkpoint; returns the
        ballots kept back and the (index, item) of every appended item. ``cheat`` breaks the
        flush rules as a dishonest server could: "short_run" (appends 2 ballots, keeps the
        rest), "unsorted_run" (the ballot run in reverse leaf-hash order), "issuance_late"
        (the issuances after the ballots)."""
        plan = flush_rules.plan_flush(issuances, ballots, batch_size, whole=whole, rng=rng)
        kept, first, then = plan.kept, plan.issuances, plan.ballots
        if cheat == "short_run":
            kept, then = sorted(kept + then[2:], key=lambda p: p.leaf_hash), then[:2]
        elif cheat == "unsorted_run":
            then = then[::-1]
        elif cheat == "issuance_late":
            first, then = then, first
        done = [(self.append(p.entry, checkpoint=False), p) for p in first + then]
        if done:
            self.checkpoint()
        return kept, done

    def checkpoint(self) -> str:
        cp = note.Checkpoint(self.signer.name, self.size, self.tree.root())
        text = note.sign_checkpoint(cp, self.signer)
        self.out.write(checkpoint_line(text))
        self.checkpoints += 1
        return text


def _ballot_plan(rng: random.Random, group: dict[str, Any]) -> list[str]:
    cands = [c["id"] for lst in group["lists"] for c in lst["candidates"]]
    # Skewed popularity, so lists get different seat numbers (and remainders matter).
    weights = [1.0 / (1 + i % 7) + (3.0 if i == 0 else 0.0) for i in range(len(cands))]
    return rng.choices(cands, weights=weights, k=1)


def build(
    path: Path,
    *,
    voters: dict[str, int] | None = None,
    groups: list[dict[str, Any]] | None = None,
    settings: dict[str, Any] | None = None,
    revote_every: int = 10,
    invalid_every: int = 97,
    blank_every: int = 53,
    abstain_every: int = 20,
    checkpoint_every: int = 1,
    batch_size: int | None = None,
    seed: int = 7,
    election_id: str = "synthetic2027",
    receipts_for: int = 3,
    malicious: str | None = None,
    plans: dict[str, list[list[str]]] | None = None,
    questions: list[dict[str, Any]] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    forge: Callable[[dict[str, Any]], None] | None = None,
) -> Synthetic:
    """Write a complete, honest (unless ``malicious``) election record to ``path``.

    ``voters``: eligible voters per kiesgroep that hold a vote. Every ``revote_every``-th voter
    casts a second ballot (the first must not count), every ``invalid_every``-th casts a ballot
    for an unknown candidate, every ``blank_every``-th a blank one, every ``abstain_every``-th
    obtains no credential. ``malicious``: "wrong_result" (the server publishes a changed result)
    "ballot_without_issuance" (an extra credential without an issuance entry),
    "bad_ballot_signature" or "bad_issuer_signature" (some ballots, listed in ``tampered``, with a
    wrong Ed25519 or issuer signature — in the log and under signed checkpoints), or one of
    "short_run", "unsorted_run", "issuance_late" (the first flush breaks a flush rule; its
    first index in ``tampered``), "purge_while_voting" or "purged_twice" (a
    `personal_data_purged` entry while voting, or a second one after the tally). "purged" is
    honest: the operator's purge after the tally (api.retention), its index in ``tampered``.
    ``forge``: a dishonest server that changes the computed result in place (any lie) before it
    signs and appends it — the signatures and roots stay valid, only the recount can tell.
    "no_booth", "booth_twice", "booth_while_voting", "booth_malformed": the ``booth_published``
    entry missing, twice, after voting opened, or naming a URL of another host.
    """
    rng = random.Random(seed)  # noqa: S311 - vote choices of a simulation, not secrets
    flush_rng = random.Random(seed + 1)  # noqa: S311 - a reproducible simulation of the server
    tampered: list[int] = []
    if batch_size is not None:
        settings = {**(settings or {}), "batch_size": batch_size}
    if questions is not None:
        settings_obj = ElectionSettings.model_validate(
            {"kind": "consultation", "questions": questions, **(settings or {})}
        ).model_dump(mode="json")
        groups = [{"group": "all", "questions": settings_obj["questions"]}]
        held = groups
    else:
        groups = groups or default_groups()
        held = [g for g in groups if g["vote_held"]]
        kiesgroepen = [
            {"id": g["group"], "name": g["group"].title(), "seats": g["seats"]} for g in groups
        ]
        settings_obj = ElectionSettings.model_validate(
            {"kiesgroepen": kiesgroepen, **(settings or {})}
        ).model_dump(mode="json")
    if plans:
        voters = {g: len(p) for g, p in plans.items()}
        abstain_every = invalid_every = blank_every = 0
    voters = voters or {g["group"]: 300 for g in held}
    origin = f"stembus.test/elections/{election_id}"
    signer = note.Signer.generate(origin)
    sk_seal, pk_seal = sealing.generate_keypair()
    shares = shamir.split(sk_seal, 3, 5, election_id)
    issuers = {g["group"]: blindrsa.generate_private_key() for g in groups}
    ballot_size = max_ballot_size(groups, election_id)
    body_path = path.with_suffix(".body")
    receipts: list[dict[str, Any]] = []
    total_voters = sum(voters.values())
    with body_path.open("wb") as out:
        w = LogWriter(out, election_id, signer, checkpoint_every)
        eid = election_id

        def phase(frm: str, to: str, by: str = "committee") -> None:
            w.append({"type": "phase_changed", "election": eid, "from": frm, "to": to, "by": by})

        w.append(
            {
                "type": "election_created",
                "election": eid,
                "name": "OR-verkiezing 2027",
                "organisation": "Acme B.V.",
                "settings": settings_obj,
                "by": "operator",
            }
        )
        phase("draft", "candidacy" if questions is None else "lists_published")
        if questions is not None:
            w.append(
                {
                    "type": "questions_published",
                    "election": eid,
                    "questions": settings_obj["questions"],
                }
            )
        else:
            w.append(
                {"type": "lists_published", "election": eid, "system": "list", "groups": groups}
            )
        if questions is None:
            phase("candidacy", "lists_published")
        counts = {
            g["group"]: {
                "voters": voters.get(g["group"], 0) + 3,
                "may_vote": voters.get(g["group"], 0),
                "may_stand": voters.get(g["group"], 0),
            }
            for g in groups
        }
        w.append(
            {
                "type": "roll_frozen",
                "election": eid,
                "counts": counts,
                "commitment": secrets.token_hex(32),
                "by": "committee",
            }
        )
        w.append(
            {
                "type": "keys",
                "election": eid,
                "issuer_keys": {g: blindrsa.public_key_to_jwk(k) for g, k in issuers.items()},
                "sealing_key": b64e(pk_seal),
                "trustees": {"k": 3, "n": 5},
                "ballot_size": ballot_size,
                "log_key": signer.verifier_key,
            }
        )
        booth = {
            "type": "booth_published",
            "election": eid,
            "assets": {
                f"/elections/{eid}?lang=nl": secrets.token_hex(32),
                f"/elections/{eid}?lang=en": secrets.token_hex(32),
                "/assets/booth.js": secrets.token_hex(32),
                "/assets/booth.css": secrets.token_hex(32),
            },
            "by": "system",
        }
        if malicious == "booth_malformed":
            booth["assets"] = {"https://elsewhere.example/booth.js": "00" * 32}
        if malicious != "no_booth":
            at = w.append(booth)
            if malicious in ("booth_twice", "booth_malformed"):
                tampered.append(w.append(booth) if malicious == "booth_twice" else at)
        phase("lists_published", "voting")
        if malicious == "booth_while_voting":
            tampered.append(w.append(booth))
        if malicious == "purge_while_voting":
            tampered.append(
                w.append(
                    {
                        "type": "personal_data_purged",
                        "election": eid,
                        "counts": {"voters": sum((voters or {}).values())},
                        "forced": False,
                        "by": "operator",
                    }
                )
            )
        done = 0
        batch = int(settings_obj["batch_size"])
        pools: dict[str, tuple[list[_Pooled], list[_Pooled]]] = {}

        def note_done(appended: list[tuple[int, _Pooled]]) -> None:
            for idx, p in appended:
                if p.mark == "tampered":
                    tampered.append(idx)
                elif p.mark == "receipt":
                    receipts.append({"index": idx, "entry": p.entry})

        def pool(gid: str, entry: dict[str, Any], mark: str | None = None) -> None:
            iss, bal = pools.setdefault(gid, ([], []))
            (bal if entry["type"] == "ballot" else iss).append(_Pooled(entry, mark))
            if flush_rules.due(len(bal), batch):
                cheat = malicious if malicious in _BAD_FLUSHES and not cheated else None
                if cheat:
                    cheated.append(w.size)  # where the dishonest flush starts
                kept, appended = w.flush(iss, bal, batch, flush_rng, whole=False, cheat=cheat)
                pools[gid] = ([], kept)
                note_done(appended)

        wanted_receipts = 0
        cheated: list[int] = []
        for g in held:
            gid = g["group"]
            issuer = issuers[gid]
            for v in range(voters.get(gid, 0)):
                done += 1
                if progress and done % 1000 == 0:
                    progress("building the log", done, total_voters)
                if abstain_every and v % abstain_every == abstain_every - 1:
                    continue
                pool(
                    gid,
                    {
                        "type": "issuance",
                        "election": eid,
                        "group": gid,
                        "pseudonym": secrets.token_hex(16),
                    },
                )
                sk_c = credential.generate_key()
                pk_c = credential.public_key_bytes(sk_c)
                prefix = secrets.token_bytes(32)
                issuer_sig = issuer.sign(prefix + pk_c, _PSS, hashes.SHA384())
                casts = 2 if revote_every and v % revote_every == 0 else 1
                for seq in range(1, casts + 1):
                    if plans and seq == casts:
                        selections = plans[gid][v]
                    elif plans or questions is not None:
                        selections = _ballot_plan(rng, g) if questions is None else {}
                    elif invalid_every and v % invalid_every == 1 and seq == casts:
                        selections: list[str] = ["nobody"]
                    elif blank_every and v % blank_every == 2:
                        selections = []
                    else:
                        selections = _ballot_plan(rng, g)
                    plain = {"election": eid, "group": gid, "selections": selections}
                    ct = sealing.seal(pk_seal, sealing.encode_ballot(plain, ballot_size), eid, gid)
                    entry = {
                        "type": "ballot",
                        "election": eid,
                        "group": gid,
                        "credential": b64e(pk_c),
                        "prefix": b64e(prefix),
                        "issuer_sig": b64e(issuer_sig),
                        "seq": seq,
                        "ciphertext": b64e(ct),
                    }
                    entry["signature"] = credential.sign_entry(sk_c, entry)
                    bad = malicious in _BAD_BALLOTS and done % 7 == 3 and seq == casts
                    if bad and malicious == "bad_ballot_signature":
                        # signed by another key than the credential
                        entry["signature"] = credential.sign_entry(credential.generate_key(), entry)
                    elif bad and malicious == "bad_issuer_signature":
                        # the issuer's signature over another credential
                        other = secrets.token_bytes(32)
                        sig = issuer.sign(prefix + other, _PSS, hashes.SHA384())
                        entry["issuer_sig"] = b64e(sig)
                        entry.pop("signature")
                        entry["signature"] = credential.sign_entry(sk_c, entry)
                    mark = None
                    if bad:
                        mark = "tampered"
                    elif wanted_receipts < receipts_for and seq == casts:
                        mark = "receipt"
                        wanted_receipts += 1
                    pool(gid, entry, mark)
        if malicious == "ballot_without_issuance":
            gid = held[0]["group"]
            sk_c = credential.generate_key()
            pk_c = credential.public_key_bytes(sk_c)
            prefix = secrets.token_bytes(32)
            issuer_sig = issuers[gid].sign(prefix + pk_c, _PSS, hashes.SHA384())
            plain = {"election": eid, "group": gid, "selections": _ballot_plan(rng, held[0])}
            ct = sealing.seal(pk_seal, sealing.encode_ballot(plain, ballot_size), eid, gid)
            entry = {
                "type": "ballot",
                "election": eid,
                "group": gid,
                "credential": b64e(pk_c),
                "prefix": b64e(prefix),
                "issuer_sig": b64e(issuer_sig),
                "seq": 1,
                "ciphertext": b64e(ct),
            }
            entry["signature"] = credential.sign_entry(sk_c, entry)
            pool(gid, entry)
        for gid in sorted(pools):  # every pool whole, just before `voting closed`
            iss, bal = pools[gid]
            note_done(w.flush(iss, bal, batch, flush_rng, whole=True)[1])
        receipts.sort(key=lambda r: r["index"])
        tampered.extend(cheated)
        tampered.sort()
        phase("voting", "closed")
        closed_index = w.size - 1
        if w.size % checkpoint_every:
            w.checkpoint()
        lot_cp = (w.size, w.tree.root())  # first checkpoint containing the closed entry
        recovered = shamir.recover_matching(
            shares[:3], lambda s: sealing.public_key_from_private(s) == pk_seal
        )
        w.append(
            {
                "type": "decryption_key",
                "election": eid,
                "sealing_private_key": b64e(recovered.secret),
                "shares_used": list(recovered.used_indices),
            }
        )
        assert w.log.closed_index == closed_index
        out.flush()

        def ballots() -> Iterator[tuple[int, dict[str, Any]]]:
            import json

            with body_path.open("rb") as f:
                for raw in f:
                    if raw.startswith(b'{"entry":{') and b'"type":"ballot"' in raw:
                        obj = json.loads(raw)
                        yield obj["index"], obj["entry"]

        result = compute_result(w.log, recovered.secret, ballots(), lot_cp)
        if malicious == "wrong_result":
            result["groups"][0]["lists"][0]["votes"] += 1
        if forge is not None:
            forge(result)
        w.append(result)
        phase("closed", "tallied", "system")
        if malicious in ("purged", "purged_twice"):  # "purged" is honest: the operator's purge
            for _ in range(1 if malicious == "purged" else 2):
                tampered.append(
                    w.append(
                        {
                            "type": "personal_data_purged",
                            "election": eid,
                            "counts": {"voters": sum((voters or {}).values())},
                            "forced": False,
                            "by": "operator",
                        }
                    )
                )
        if w.size % checkpoint_every:
            w.checkpoint()
        size, n_cp = w.size, w.checkpoints
    with path.open("wb") as out, body_path.open("rb") as body:
        out.write(header_line(election_id, origin, signer.verifier_key, size))
        while chunk := body.read(1 << 20):
            out.write(chunk)
        out.write(trailer_line(size, n_cp))
    body_path.unlink()
    return Synthetic(
        path,
        election_id,
        origin,
        signer,
        signer.verifier_key,
        sk_seal,
        shares,
        size,
        receipts,
        result,
        tampered,
        n_cp,
    )


def receipt_from_record(path: Path, index: int) -> dict[str, Any]:
    """A receipt as the server gives it (index, entry hash, the first signed checkpoint that
    covers the entry, inclusion proof), rebuilt from a record file."""
    import json

    log = merkle.MerkleLog()
    checkpoint = None
    with path.open("rb") as f:
        for raw in f:
            obj = json.loads(raw)
            if "entry" in obj:
                log.append_entry(canonical_json(obj["entry"]))
            elif "checkpoint" in obj and checkpoint is None and log.size > index:
                checkpoint, size = obj["checkpoint"], log.size
    assert checkpoint is not None
    proof = log.inclusion_proof(index, size)
    return {
        "index": index,
        "entry_hash": log.leaf(index).hex(),
        "checkpoint": checkpoint,
        "inclusion_proof": [p.hex() for p in proof],
    }
