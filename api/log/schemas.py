"""Bodies of the public log API: checkpoints, proofs, receipts. Hashes are hex, notes verbatim."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.bounds import MAX_INT

HEX32 = "^[0-9a-f]{64}$"


class CheckpointOut(BaseModel):
    size: int = Field(description="tree size (entries covered)")
    root: str = Field(description="hex RFC 9162 root hash")
    note: str = Field(description="C2SP tlog-checkpoint signed note, verbatim")


class LogKeyOut(BaseModel):
    origin: str = Field(description="log origin = key name: `<host>/elections/<id>`")
    verifier_key: str = Field(description="C2SP verifier key `<name>+<hex key id>+<b64(0x01‖pk)>`")
    public_key: str = Field(description="b64 raw 32-byte Ed25519 public key")


class InclusionProofOut(BaseModel):
    index: int
    size: int
    leaf_hash: str = Field(description="hex leaf hash of the entry")
    proof: list[str] = Field(description="hex hashes, RFC 9162 §2.1.3.1 order (leaf side first)")
    checkpoint: str = Field(description="the signed checkpoint of `size`")


class ConsistencyProofOut(BaseModel):
    old_size: int
    new_size: int
    proof: list[str] = Field(description="hex hashes, RFC 9162 §2.1.4.1")


class Receipt(BaseModel):
    """What a voter keeps after casting (docs/protocol.md "Casting" step 4)."""

    election: str
    index: int = Field(description="the ballot's index in the log")
    entry_hash: str = Field(
        description="hex leaf hash SHA-256(0x00 ‖ RFC 8785 entry bytes)",
        json_schema_extra={"pattern": HEX32},
    )
    checkpoint: str = Field(
        description="the signed checkpoint after the entry's flush, the first that covers it "
        "(C2SP note)"
    )
    inclusion_proof: list[str] = Field(
        description="hex hashes, leaf side first",
        json_schema_extra={"items": {"type": "string", "pattern": HEX32}},
    )
    tlog_proof: str = Field(description="the same as a C2SP tlog-proof@v1 text")


class Promise(BaseModel):
    """The answer to a cast (docs/protocol.md "Casting" step 4): the log key's signed promise that
    the entry with this hash will be in the log no later than the close of voting."""

    election: str
    entry_hash: str = Field(pattern=HEX32, description="hex leaf hash of the ballot entry")
    promise: str = Field(
        description="signed note (C2SP signed-note) with the text `stembus/ballot-promise/v1`, "
        "the log origin and the hex entry hash, one per line (docs/client-protocol.md)"
    )


class ReceiptStatus(BaseModel):
    """An entry's receipt by hash: `pending` while the entry waits for its kiesgroep's flush,
    `included` (with the receipt) once it is in the log."""

    status: Literal["pending", "included"]
    election: str
    entry_hash: str = Field(pattern=HEX32)
    receipt: Receipt | None = Field(default=None, description="null while pending")


class ReceiptCheckIn(BaseModel):
    """A receipt to check: its `entry_hash` with its `tlog_proof`, or with `index`,
    `checkpoint` and `inclusion_proof` (so a whole JSON receipt may be posted as it is); or a
    ballot promise (`promise`, with or without `entry_hash`: the promise names it)."""

    model_config = ConfigDict(extra="ignore")

    entry_hash: str | None = Field(default=None, pattern=HEX32)
    promise: str | None = Field(default=None, max_length=16384, description="a ballot promise")
    tlog_proof: str | None = Field(default=None, max_length=65536)
    index: int | None = Field(default=None, ge=0, le=MAX_INT)
    checkpoint: str | None = Field(default=None, max_length=16384)
    inclusion_proof: list[str] | None = Field(default=None, max_length=128)


class ReceiptCheckOut(BaseModel):
    kind: Literal["receipt", "promise"] = Field(description="what was checked")
    status: Literal["included", "pending", "missing"] = Field(
        description="the entry is in the log (`included`), waits in its pool (`pending`, a "
        "promise only), or neither (`missing`): for a promise after the close of voting, a "
        "signed proof that the service broke it"
    )
    signature_valid: bool = Field(
        description="the receipt's checkpoint, or the promise, is signed by the log key"
    )
    proof_valid: bool | None = Field(
        description="the inclusion proof leads to that checkpoint's root (null for a promise)"
    )
    in_log: bool = Field(description="the log holds exactly this entry (at that index) now")
    consistent: bool | None = Field(
        description="the receipt's checkpoint is consistent with the latest (null for a promise)"
    )
    index: int | None = Field(description="the entry's index (null while pending)")
    receipt_size: int | None = Field(description="the receipt's tree size (null for a promise)")
    latest_size: int
    latest_checkpoint: str
    consistency_proof: list[str] = Field(description="hex, from receipt_size to latest_size")
    receipt: Receipt | None = Field(
        default=None, description="for a promise whose entry is in the log: its receipt"
    )
