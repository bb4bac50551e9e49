"""Voting tables. Nothing here links a voter to a credential or a ballot (docs/protocol.md "Threat
model"): the issuance table holds the voter with the *blinded* message and blind signature only
(RFC 9474 blinding makes them unlinkable to the finalized credential), the seq table holds
credentials without any voter, and no table on the cast path holds a time or an address.
"""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field, SQLModel


class VotingKeys(SQLModel, table=True):
    """What the `keys` log entry published: sealing key, trustees, ballot size."""

    __tablename__ = "voting_keys"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=32)
    sealing_key: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    trustees_k: int
    trustees_n: int
    ballot_size: int
    log_index: int = Field(description="index of the keys entry in the log")


class IssuerKey(SQLModel, table=True):
    """A kiesgroep's RSA issuer key (RFC 9474); the private key only encrypted (api.log.atrest)."""

    __tablename__ = "issuer_key"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=32)
    group: str = Field(primary_key=True, max_length=32)
    jwk: str = Field(sa_column=Column(Text, nullable=False))
    private_key_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CredentialIssuance(SQLModel, table=True):
    """One credential per voter, ever: the primary key claims it before the server signs.

    `blind_sig` is NULL only inside the claiming transaction. A retry with the same `blinded_msg`
    gets the stored `blind_sig` back (docs/protocol.md "Issuance" step 3).
    """

    __tablename__ = "credential_issuance"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=32)
    voter_id: int = Field(foreign_key="voter.id", primary_key=True)
    group: str = Field(max_length=32)
    blinded_msg: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    blind_sig: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class BallotSeq(SQLModel, table=True):
    """The highest `seq` cast per credential (the ballot that counts); no voter, no time."""

    __tablename__ = "ballot_seq"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=32)
    credential: bytes = Field(sa_column=Column(LargeBinary(32), primary_key=True))
    group: str = Field(max_length=32)
    seq: int
