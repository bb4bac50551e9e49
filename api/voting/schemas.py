"""Bodies of the voting API. Binary values are standard base64 with padding (RFC 4648 §4)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, WithJsonSchema

from api.contract import KEYS_ENTRY_REF
from api.log.entry_schemas import B64_ANY, RSA_2048_BYTES, b64_schema
from api.log.schemas import Promise
from api.voting.examples import BALLOT_EXAMPLE, CREDENTIAL_EXAMPLE

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
        min_length=44,
        max_length=44,
        description="b64 raw 32-byte X25519 public key",
        json_schema_extra=b64_schema(32),
    )
    trustees: Trustees


class KeysOut(BaseModel):
    index: int = Field(description="index of the `keys` entry in the log")
    entry: Annotated[dict[str, Any], WithJsonSchema(KEYS_ENTRY_REF)] = Field(
        description="the `keys` log entry (docs/log-entries.md)"
    )


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
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [CREDENTIAL_EXAMPLE]})

    blinded_msg: str = Field(
        min_length=1,
        max_length=2048,
        description="b64 RFC 9474 blinded_msg (256 bytes), below the group's modulus",
        json_schema_extra=b64_schema(RSA_2048_BYTES),
    )


class CredentialOut(BaseModel):
    blind_sig: str = Field(
        description="b64 RFC 9474 blind_sig; finalize and verify it",
        json_schema_extra=b64_schema(RSA_2048_BYTES),
    )
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

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [BALLOT_EXAMPLE]}
    )

    type: Literal["ballot"]
    election: StrictStr = Field(min_length=1, max_length=32)
    group: StrictStr = Field(min_length=1, max_length=32)
    credential: StrictStr = Field(
        min_length=44,
        max_length=44,
        description="b64 of pk_c, the 32-byte Ed25519 credential key",
        json_schema_extra=b64_schema(32),
    )
    prefix: StrictStr = Field(
        min_length=44,
        max_length=44,
        description="b64 of the 32-byte RFC 9474 msg_prefix",
        json_schema_extra=b64_schema(32),
    )
    issuer_sig: StrictStr = Field(
        min_length=4,
        max_length=1368,
        description="b64 RSA-PSS signature over prefix ‖ credential",
        json_schema_extra=b64_schema(RSA_2048_BYTES),
    )
    seq: StrictInt = Field(ge=1, le=1_000_000)
    ciphertext: StrictStr = Field(
        min_length=4,
        max_length=MAX_CIPHERTEXT_B64,
        description="b64 of enc ‖ ct: exactly 32 + ballot_size + 16 bytes, ballot_size from the "
        "`keys` entry (so its length is fixed per election)",
        json_schema_extra={"pattern": B64_ANY, "contentEncoding": "base64"},
    )
    signature: StrictStr = Field(
        min_length=88,
        max_length=88,
        description="b64 Ed25519 signature by sk_c over the JCS bytes of the entry without it",
        json_schema_extra=b64_schema(64),
    )


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
