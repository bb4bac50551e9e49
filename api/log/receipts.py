"""Receipts (PROTOCOL.md "Casting" step 4 and "What a verifier checks" 6): an entry's index and
hash, the signed checkpoint its append produced and the inclusion proof against it — as JSON and
as a C2SP tlog-proof@v1 text — and the server-side check of a receipt against the log now."""

from __future__ import annotations

from sqlmodel import Session

from api.log import tree
from api.log.schemas import Receipt, ReceiptCheckIn, ReceiptCheckOut
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
    """The receipt of the entry at `index`, against the checkpoint of size `index + 1`."""
    size = index + 1
    recent = tree.recent_append(session, election_id, size)
    if recent is not None:
        cp, merkle_tree = recent  # the append that made this entry: nodes already at hand
    else:
        found = tree.checkpoint_at(session, election_id, size)
        if found is None:  # every append signs its own checkpoint (api.log.tree.after_append)
            raise RuntimeError("no checkpoint for a fresh append")
        cp, merkle_tree = found, tree.tree_of(session, election_id, size)
    path = merkle_tree.inclusion_proof(index, size)
    proof = note.TlogProof(index=index, proof=tuple(path), checkpoint=cp.note)
    return Receipt(
        election=election_id,
        index=index,
        entry_hash=entry_hash.hex(),
        checkpoint=cp.note,
        inclusion_proof=[h.hex() for h in path],
        tlog_proof=proof.to_text(),
    )


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
