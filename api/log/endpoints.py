"""The public log: anyone can read an election's entries, checkpoints and proofs (no
authentication), so anyone can follow the log and detect a rewrite (docs/protocol.md)."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field, WithJsonSchema

from api.bounds import MAX_INT
from api.contract import LOG_ENTRY_REF
from api.deps import SessionDep
from api.elections.service import get_election
from api.log import receipts, service, tree
from api.log.schemas import (
    CheckpointOut,
    ConsistencyProofOut,
    InclusionProofOut,
    LogKeyOut,
    ReceiptCheckIn,
    ReceiptCheckOut,
)
from api.problems import NOT_FOUND, ProblemError, problem_responses, problem_type

router = APIRouter(prefix="/elections/{election_id}/log", tags=["log"])

NO_CHECKPOINT = problem_type(
    "no-checkpoint",
    404,
    "No checkpoint at that size",
    "The log never had that size, or has no entries yet.",
)
BAD_TREE_SIZE = problem_type(
    "invalid-tree-size",
    422,
    "Invalid tree size or index",
    "The requested sizes or index do not fit the log: need 0 <= index < size <= log size, and "
    "for a consistency proof 1 <= from <= to <= log size.",
)
UNKNOWN_ENTRY = problem_type(
    "unknown-entry", 404, "No such entry", "No entry of this log has that hash or index."
)


class EntryOut(BaseModel):
    index: int
    leaf_hash: str = Field(description="hex SHA-256(0x00 ‖ canonical entry bytes)")
    entry: Annotated[dict[str, Any], WithJsonSchema(LOG_ENTRY_REF)] = Field(
        description="the entry; its RFC 8785 encoding is the leaf"
    )


class EntryPage(BaseModel):
    election: str
    size: int = Field(description="entries in the log now")
    start: int
    entries: list[EntryOut]
    next: int | None = Field(description="`start` of the next page, null at the end")


@router.get(
    "/entries",
    response_model=EntryPage,
    responses=problem_responses(NOT_FOUND),
    summary="Entries of the public log, by index range",
)
def read_entries(
    election_id: str,
    session: SessionDep,
    start: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EntryPage:
    election = get_election(session, election_id)
    rows = service.read_entries(session, election_id, start, limit)
    end = start + len(rows)
    return EntryPage(
        election=election_id,
        size=election.log_size,
        start=start,
        entries=[
            EntryOut(index=r.idx, leaf_hash=bytes(r.leaf_hash).hex(), entry=json.loads(r.body))
            for r in rows
        ],
        next=end if end < election.log_size else None,
    )


def _checkpoint_out(cp: Any) -> CheckpointOut:
    return CheckpointOut(size=cp.size, root=bytes(cp.root).hex(), note=cp.note)


@router.get(
    "/checkpoint",
    response_model=CheckpointOut,
    responses=problem_responses(NOT_FOUND, NO_CHECKPOINT),
    summary="The latest signed checkpoint (C2SP tlog-checkpoint note)",
)
def latest_checkpoint(election_id: str, session: SessionDep) -> CheckpointOut:
    get_election(session, election_id)
    cp = tree.latest_checkpoint(session, election_id)
    if cp is None:
        raise ProblemError(NO_CHECKPOINT)
    return _checkpoint_out(cp)


@router.get(
    "/checkpoints/{size}",
    response_model=CheckpointOut,
    responses=problem_responses(NOT_FOUND, NO_CHECKPOINT),
    summary="The signed checkpoint of the log at a given size",
)
def checkpoint_at(
    election_id: str, size: Annotated[int, Path(ge=0, le=MAX_INT)], session: SessionDep
) -> CheckpointOut:
    get_election(session, election_id)
    cp = tree.checkpoint_at(session, election_id, size)
    if cp is None:
        raise ProblemError(NO_CHECKPOINT)
    return _checkpoint_out(cp)


@router.get(
    "/checkpoint.txt",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {}}, "description": "the signed note, verbatim"},
        **problem_responses(NOT_FOUND, NO_CHECKPOINT),
    },
    summary="The latest signed checkpoint as the bare C2SP note text",
)
def latest_checkpoint_text(election_id: str, session: SessionDep) -> PlainTextResponse:
    return PlainTextResponse(latest_checkpoint(election_id, session).note)


@router.get(
    "/key",
    response_model=LogKeyOut,
    responses=problem_responses(NOT_FOUND),
    summary="The log's Ed25519 verifier key (C2SP signed-note verifier key string)",
)
def log_key(election_id: str, session: SessionDep) -> LogKeyOut:
    get_election(session, election_id)
    v = tree.log_verifier(session, election_id)
    if v is None:
        raise ProblemError(NOT_FOUND, "this election has no log key")
    return LogKeyOut(
        origin=v.name,
        verifier_key=v.key_string,
        public_key=base64.b64encode(v.public_key).decode(),
    )


def _tree_size(session: SessionDep, election_id: str, size: int | None) -> int:
    election = get_election(session, election_id)
    if size is None:
        return election.log_size
    if not 1 <= size <= election.log_size:
        raise ProblemError(BAD_TREE_SIZE, f"size must be 1..{election.log_size}")
    return size


@router.get(
    "/proofs/inclusion",
    response_model=InclusionProofOut,
    responses=problem_responses(NOT_FOUND, UNKNOWN_ENTRY, BAD_TREE_SIZE, NO_CHECKPOINT),
    summary="Inclusion proof of an entry (by index or by entry hash) in a tree size",
)
def inclusion_proof(
    election_id: str,
    session: SessionDep,
    index: Annotated[int | None, Query(ge=0, le=MAX_INT, description="the entry's index")] = None,
    entry_hash: Annotated[
        str | None,
        Query(pattern="^[0-9a-f]{64}$", description="hex leaf hash, instead of the index"),
    ] = None,
    size: Annotated[
        int | None, Query(ge=1, le=MAX_INT, description="tree size; default latest")
    ] = None,
) -> InclusionProofOut:
    n = _tree_size(session, election_id, size)
    if (index is None) == (entry_hash is None):
        raise ProblemError(BAD_TREE_SIZE, "give exactly one of index and entry_hash")
    if entry_hash is not None:
        found = tree.index_of(session, election_id, bytes.fromhex(entry_hash))
        if found is None:
            raise ProblemError(UNKNOWN_ENTRY)
        index = found
    assert index is not None
    if index >= n:
        raise ProblemError(BAD_TREE_SIZE, f"index {index} is not in a tree of size {n}")
    leaf = tree.leaf_at(session, election_id, index)
    cp = tree.checkpoint_at(session, election_id, n)
    if leaf is None or cp is None:
        raise ProblemError(NO_CHECKPOINT)
    _, path = tree.inclusion_proof(session, election_id, index, n)
    return InclusionProofOut(
        index=index,
        size=n,
        leaf_hash=leaf.hex(),
        proof=[h.hex() for h in path],
        checkpoint=cp.note,
    )


@router.get(
    "/proofs/consistency",
    response_model=ConsistencyProofOut,
    responses=problem_responses(NOT_FOUND, BAD_TREE_SIZE),
    summary="Consistency proof between two tree sizes (RFC 9162 §2.1.4)",
)
def consistency_proof(
    election_id: str,
    session: SessionDep,
    old: Annotated[int, Query(alias="from", ge=1, le=MAX_INT, description="the older size")],
    new: Annotated[
        int | None, Query(alias="to", ge=1, le=MAX_INT, description="default: latest")
    ] = None,
) -> ConsistencyProofOut:
    n = _tree_size(session, election_id, new)
    if old > n:
        raise ProblemError(BAD_TREE_SIZE, f"from {old} > to {n}")
    proof = tree.consistency_proof(session, election_id, old, n)
    return ConsistencyProofOut(old_size=old, new_size=n, proof=[h.hex() for h in proof])


@router.post(
    "/receipts/check",
    response_model=ReceiptCheckOut,
    responses=problem_responses(NOT_FOUND, receipts.INVALID_RECEIPT),
    summary="Check a receipt: included in its signed checkpoint and consistent with the latest",
)
def check_receipt(election_id: str, body: ReceiptCheckIn, session: SessionDep) -> ReceiptCheckOut:
    get_election(session, election_id)
    return receipts.check_receipt(session, election_id, body)
