"""Promises and receipts (docs/protocol.md "Casting" steps 4 and 5, "What a verifier checks" 6).

A cast is answered at once with a ballot promise (crypto.note.BallotPromise, signed by the log
key). Once the entry's flush has appended it, its receipt — index and hash, the checkpoint signed
after the flush and the inclusion proof against it, as JSON and as a C2SP tlog-proof@v1 text —
is served by entry hash. The server-side check takes a receipt or a promise and compares it with
the log now."""

from __future__ import annotations

from sqlmodel import Session

from api.log import pool, tree
from api.log.schemas import Promise, Receipt, ReceiptCheckIn, ReceiptCheckOut, ReceiptStatus
from api.log.tree_models import LogCheckpoint
from api.problems import ProblemError, problem_type
from crypto import merkle, note

INVALID_RECEIPT = problem_type(
    "invalid-receipt",
    422,
    "Invalid receipt",
    "The receipt is malformed, its checkpoint is not signed by this election's log key, or its "
    "inclusion proof does not lead to the checkpoint's root.",
)


def build_receipt(session: Session, election_id: str, index: int, entry_hash: bytes) -> Receipt:
    """The receipt of the entry at `index`, against the first checkpoint that covers it: the one
    signed after the entry's flush (or, for entries appended alone, of size `index + 1`)."""
    cp = tree.first_checkpoint_covering(session, election_id, index)
    if cp is None:  # every append signs a checkpoint (api.log.tree.after_append)
        raise RuntimeError("no checkpoint covers an appended entry")
    path = tree.tree_of(session, election_id, cp.size).inclusion_proof(index, cp.size)
    # The `extra` line carries the entry hash, so the tlog-proof text alone is the whole receipt
    # (`stembus verify-receipt` takes it as the server sent it).
    proof = note.TlogProof(index=index, proof=tuple(path), checkpoint=cp.note, extra=entry_hash)
    return Receipt(
        election=election_id,
        index=index,
        entry_hash=entry_hash.hex(),
        checkpoint=cp.note,
        inclusion_proof=[h.hex() for h in path],
        tlog_proof=proof.to_text(),
    )


def build_promise(session: Session, election_id: str, entry_hash: bytes) -> Promise:
    """The ballot promise for an accepted entry (docs/protocol.md "Casting" step 4): a signed note
    by the log key naming the election's log and the entry hash, nothing else (crypto.note)."""
    signer = tree.log_signer(session, tree.settings_of_session(session), election_id)
    if signer is None:
        raise RuntimeError(f"election {election_id} has no log key")
    text = note.sign_promise(note.BallotPromise(signer.name, entry_hash), signer)
    return Promise(election=election_id, entry_hash=entry_hash.hex(), promise=text)


def receipt_status(session: Session, election_id: str, entry_hash: bytes) -> ReceiptStatus | None:
    """`included` with the receipt once the entry is in the log, `pending` while it waits in its
    pool, None if neither (never accepted, or another election's)."""
    index = tree.index_of(session, election_id, entry_hash)
    if index is not None:
        receipt = build_receipt(session, election_id, index, entry_hash)
        return ReceiptStatus(
            status="included", election=election_id, entry_hash=entry_hash.hex(), receipt=receipt
        )
    if pool.is_pooled(session, election_id, entry_hash):
        return ReceiptStatus(status="pending", election=election_id, entry_hash=entry_hash.hex())
    return None


def _proof_of(body: ReceiptCheckIn) -> note.TlogProof:
    """The receipt's proof, from its tlog-proof text or its JSON fields. A whole receipt has
    both; then every JSON field given must say what the text says (else which one was checked
    would be a guess)."""
    path = None
    if body.inclusion_proof is not None:
        path = tuple(bytes.fromhex(h) for h in body.inclusion_proof)
    if body.tlog_proof is None:
        if body.index is None or body.checkpoint is None or path is None:
            raise ValueError("give tlog_proof, or index, checkpoint and inclusion_proof")
        return note.TlogProof(index=body.index, proof=path, checkpoint=body.checkpoint)
    proof = note.TlogProof.from_text(body.tlog_proof)
    if proof.extra is not None and body.entry_hash is not None:
        if proof.extra != bytes.fromhex(body.entry_hash):
            raise ValueError("the tlog_proof's extra line names another entry hash")
    if (
        (body.index is not None and body.index != proof.index)
        or (body.checkpoint is not None and body.checkpoint != proof.checkpoint)
        or (path is not None and path != proof.proof)
    ):
        raise ValueError("the receipt's tlog_proof and its JSON fields disagree")
    return proof


def check_receipt(session: Session, election_id: str, body: ReceiptCheckIn) -> ReceiptCheckOut:
    verifier = tree.log_verifier(session, election_id)
    latest = tree.latest_checkpoint(session, election_id)
    if verifier is None or latest is None:
        raise ProblemError(INVALID_RECEIPT, "this election's log has no key yet")
    if body.promise is not None:
        return _check_promise(session, election_id, body, verifier, latest)
    if body.entry_hash is None:
        raise ProblemError(INVALID_RECEIPT, "a receipt needs its entry_hash")
    leaf = bytes.fromhex(body.entry_hash)
    try:
        proof, cp = note.verify_tlog_proof(_proof_of(body), leaf, verifier, verifier.name)
    except (ValueError, note.NoteError, merkle.ProofError) as e:
        raise ProblemError(INVALID_RECEIPT, str(e)) from None
    stored = tree.leaf_at(session, election_id, proof.index)
    in_log = stored == leaf and cp.size <= latest.size
    consistent = False
    cproof: list[bytes] = []
    if cp.size <= latest.size:
        cproof = tree.consistency_proof(session, election_id, cp.size, latest.size)
        try:
            merkle.verify_consistency(
                cp.size, latest.size, cp.root_hash, bytes(latest.root), cproof
            )
            consistent = True
        except merkle.ProofError:
            consistent = False
    return ReceiptCheckOut(
        kind="receipt",
        status="included" if in_log else "missing",
        signature_valid=True,
        proof_valid=True,
        in_log=in_log,
        consistent=consistent,
        index=proof.index,
        receipt_size=cp.size,
        latest_size=latest.size,
        latest_checkpoint=latest.note,
        consistency_proof=[h.hex() for h in cproof],
    )


def _check_promise(
    session: Session,
    election_id: str,
    body: ReceiptCheckIn,
    verifier: note.Verifier,
    latest: LogCheckpoint,
) -> ReceiptCheckOut:
    assert body.promise is not None
    try:
        promise = note.open_promise(body.promise, verifier, verifier.name)
    except note.NoteError as e:
        raise ProblemError(INVALID_RECEIPT, f"promise: {e}") from None
    if body.entry_hash is not None and bytes.fromhex(body.entry_hash) != promise.entry_hash:
        raise ProblemError(INVALID_RECEIPT, "the promise is for another entry_hash")
    found = receipt_status(session, election_id, promise.entry_hash)
    receipt = found.receipt if found is not None else None
    return ReceiptCheckOut(
        kind="promise",
        status="missing" if found is None else found.status,
        signature_valid=True,
        proof_valid=None,
        in_log=receipt is not None,
        consistent=None,
        index=None if receipt is None else receipt.index,
        receipt_size=None,
        latest_size=latest.size,
        latest_checkpoint=latest.note,
        consistency_proof=[],
        receipt=receipt,
    )
