"""Bodies of the voting API. Binary values are standard base64 with padding (RFC 4648 §4)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from api.log.schemas import Promise

B64_32 = Field(min_length=44, max_length=44, description="b64 of 32 bytes")
MAX_CIPHERTEXT_B64 = 65536


class Trustees(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: int = Field(ge=1, le=64, description="shares needed to decrypt")
    n: int = Field(ge=1, le=64, description="trustees holding a share")


class KeysIn(BaseModel):
    """The sealing public key made by the key ceremony (`stembus ceremony`), and its trustees."""

    model_config = ConfigDict(extra="forbid")

    sealing_key: str = Field(
        min_length=44, max_length=44, description="b64 raw 32-byte X25519 public key"
    )
    trustees: Trustees


class KeysOut(BaseModel):
    index: int = Field(description="index of the `keys` entry in the log")
    entry: dict[str, Any] = Field(description="the `keys` log entry (docs/log-entries.md)")


class PublishedBallot(BaseModel):
    """A kiesgroep's ballot definition in one call, with what proves it is the logged one."""

    election: str
    group: str
    vote_held: bool = Field(description="false: no vote in this group (all candidates elected)")
    definition: dict[str, Any] = Field(
        description="the group's part of `entry`, as the tally validates ballots against it: "
        "consultation `{group, questions}`; works council the `lists_published` group "
        "(`group`, `seats`, `vote_held`, `system`, `votes_per_voter`, `lists`)"
    )
    index: int = Field(ge=0, description="index of `entry` in the log")
    leaf_hash: str = Field(pattern="^[0-9a-f]{64}$", description="hex SHA-256(0x00 ‖ JCS(entry))")
    entry: dict[str, Any] = Field(
        description="the `lists_published` or `questions_published` log entry, verbatim"
    )
    size: int = Field(ge=1, description="tree size of `checkpoint`")
    proof: list[str] = Field(description="RFC 9162 inclusion proof of `index` in `size`, hex")
    checkpoint: str = Field(description="the latest signed checkpoint (C2SP signed note)")


class CredentialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    blinded_msg: str = Field(
        min_length=1, max_length=2048, description="b64 RFC 9474 blinded_msg (256 bytes)"
    )


class CredentialOut(BaseModel):
    blind_sig: str = Field(description="b64 RFC 9474 blind_sig; finalize and verify it")
    group: str = Field(description="the voter's kiesgroep; cast with this group")
    pseudonym: str = Field(description="the voter's pseudonym in the `issuance` log entry")
    issuer_key: dict[str, str] = Field(description="the group's issuer public key (JWK, PS384)")


class CredentialStatus(BaseModel):
    may_vote: bool
    group: str
    pseudonym: str = Field(description="look for `issuance` entries with this pseudonym")
    credential_issued: bool
    issuer_key: dict[str, str] | None = Field(description="null while the keys are not prepared")


class BallotIn(BaseModel):
    """The ballot log entry of docs/protocol.md "Casting" step 3, exactly; nothing else."""

    model_config = ConfigDict(extra="forbid", strict=True)

    type: Literal["ballot"]
    election: StrictStr = Field(min_length=1, max_length=32)
    group: StrictStr = Field(min_length=1, max_length=32)
    credential: StrictStr = B64_32
    prefix: StrictStr = B64_32
    issuer_sig: StrictStr = Field(min_length=4, max_length=1368, description="b64 RSA-PSS sig")
    seq: StrictInt = Field(ge=1, le=1_000_000)
    ciphertext: StrictStr = Field(min_length=4, max_length=MAX_CIPHERTEXT_B64)
    signature: StrictStr = Field(min_length=88, max_length=88, description="b64 Ed25519 sig")


class CastOut(Promise):
    """The answer to a cast: the ballot promise (docs/protocol.md "Casting" step 4)."""


class GroupTurnout(BaseModel):
    group: str
    eligible: int = Field(description="voters on the roll of this group who may vote")
    credentials_issued: int
    voted: int = Field(description="distinct credentials that cast a ballot")


class TurnoutOut(BaseModel):
    groups: list[GroupTurnout]
    credentials_issued: int
    voted: int
