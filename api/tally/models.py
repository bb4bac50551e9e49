"""Trustee shares handed in after voting closed.

A share is secret until k of them reconstruct the sealing key, so it is stored only encrypted
(api.log.atrest, label ``trustee-share/<election>/<index>``); once the key is published in the
``decryption_key`` entry the shares protect nothing any more.
"""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel


class TrusteeShare(SQLModel, table=True):
    __tablename__ = "trustee_share"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=32)
    share_index: int = Field(primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    share_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
