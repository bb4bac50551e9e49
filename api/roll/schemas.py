"""Request and response bodies of the roll, objections and invitations."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.bounds import RowIdField
from api.timestamps import UtcDateTime


class GroupCounts(BaseModel):
    voters: int
    may_vote: int
    may_stand: int


class DiffVoter(BaseModel):
    employee_number: str
    name: str
    kiesgroep: str


class ChangedVoter(BaseModel):
    employee_number: str
    name: str
    fields: list[str]


class ImportReport(BaseModel):
    dry_run: bool = Field(description="true: nothing was changed, this is the diff an apply makes")
    rows: int
    added: int
    removed: int
    changed: int
    unchanged: int
    per_kiesgroep: dict[str, int]
    details_truncated: bool = Field(description="the lists below hold at most 1000 each")
    added_voters: list[DiffVoter]
    removed_voters: list[DiffVoter]
    changed_voters: list[ChangedVoter]


class RollSummary(BaseModel):
    frozen: bool
    commitment: str | None = Field(description="hex SHA-256 published in `roll_frozen`")
    imports: int
    reference_date: date = Field(description="service is counted up to this day")
    counts: dict[str, GroupCounts]
    open_objections: int


class VoterOut(BaseModel):
    id: int
    employee_number: str
    name: str
    email: str | None
    kiesgroep: str
    employment_start: date
    agency_worker: bool
    may_vote: bool
    may_stand: bool
    vote_override: bool | None
    stand_override: bool | None
    override_reason: str | None


class VoterDetail(VoterOut):
    months_of_service: int
    reasons: list[str]


class VoterPage(BaseModel):
    """One page of voters (the API's one pagination style, docs/client-protocol.md "Lists and
    pages": `start` and `limit` in, `next` out)."""

    total: int = Field(description="voters that match the filters, on every page")
    start: int = Field(description="position of the first item of this page (0-based)")
    items: list[VoterOut]
    next: int | None = Field(description="`start` of the next page, null at the end")


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    may_vote: bool | None = Field(default=None, description="null: as computed")
    may_stand: bool | None = Field(default=None, description="null: as computed")
    reason: str = Field(min_length=3, max_length=1000, description="recorded with the override")


class FreezeOut(BaseModel):
    counts: dict[str, GroupCounts]
    commitment: str


class ObjectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=3, max_length=2000)


class ObjectionOut(BaseModel):
    id: int
    text: str
    status: str
    resolution: str | None
    created_at: UtcDateTime
    resolved_at: UtcDateTime | None


class CommitteeObjectionOut(ObjectionOut):
    voter: DiffVoter
    voter_id: int


class ObjectionList(BaseModel):
    items: list[CommitteeObjectionOut]


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    resolution: str = Field(min_length=3, max_length=2000)


class Registration(BaseModel):
    """What the roll says about the caller, and why."""

    employee_number: str
    name: str
    email: str | None
    kiesgroep: str
    employment_start: date
    agency_worker: bool
    may_vote: bool
    may_stand: bool
    months_of_service: int
    reference_date: date
    reasons: list[str]
    pseudonym: str = Field(
        description="your pseudonym in `issuance` log entries (docs/protocol.md)"
    )
    roll_frozen: bool
    can_object: bool
    objections: list[ObjectionOut]


_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


class InvitationText(BaseModel):
    """The committee's own text in the invitation; the code and the address are always in it."""

    model_config = ConfigDict(extra="forbid")

    languages: Literal["nl+en", "nl", "en"] = Field(
        default="nl+en", description="Dutch then English, or one of them"
    )
    dates: str | None = Field(
        default=None, max_length=500, description="e.g. when voting opens and closes"
    )
    helpdesk: str | None = Field(
        default=None, max_length=500, description="whom to ask: a name, an address, a number"
    )
    note: str | None = Field(default=None, max_length=2000, description="a paragraph of its own")
    voter_page_url: str | None = Field(
        default=None,
        max_length=500,
        pattern=r"^https?://[^\s]+$",
        description="the voter's page; default `{public base url}/elections/{id}`",
    )

    @field_validator("dates", "helpdesk", "note")
    @classmethod
    def _plain_text(cls, v: str | None) -> str | None:
        if v is not None and _CONTROL.search(v):
            raise ValueError("plain text only: no control characters except line breaks")
        return v


class InvitationPreview(BaseModel):
    subject: str
    body: str = Field(description="plain text, with a sample name and a sample code")


class InvitationSelection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voter_ids: list[RowIdField] | None = Field(
        default=None, max_length=200_000, description="these voters; null: every voter"
    )
    without_code_only: bool = Field(
        default=True, description="skip voters who already have an active code"
    )


class SendSelection(InvitationSelection):
    text: InvitationText = Field(default_factory=InvitationText, description="the committee's text")


class QueueReport(BaseModel):
    queued: int = Field(description="mails queued, each with a new code (active once delivered)")
    without_email: int = Field(description="selected voters without an e-mail address")
    already_queued: int = Field(description="selected voters whose mail is still queued")
    status_url: str = Field(description="where each mail's status is read (also `Location`)")


class ResendSelection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voter_ids: list[RowIdField] | None = Field(
        default=None, max_length=200_000, description="these voters' mails; null: every mail"
    )
    failed_only: bool = Field(
        default=True, description="only failed mails; false: the sent ones too (with a new code)"
    )
    text: InvitationText | None = Field(
        default=None, description="the committee's new text; null: each mail's own text"
    )


MailStatus = Literal["queued", "sent", "failed"]


class MailStatusCounts(BaseModel):
    queued: int
    sent: int
    failed: int


class MailStatusItem(BaseModel):
    voter_id: int
    employee_number: str
    name: str
    email: str
    status: MailStatus = Field(
        description="queued (waiting or being retried), sent (accepted by the mail server: "
        "the code in it is the voter's code) or failed (the voter keeps their earlier code)"
    )
    attempts: int = Field(description="delivery attempts so far")
    reason: str | None = Field(
        description="the mail server's answer to the last attempt that failed, e.g. "
        "`550 5.1.1 mailbox unavailable` or `timeout`; never a code"
    )
    updated_at: UtcDateTime


class MailStatusPage(BaseModel):
    counts: MailStatusCounts = Field(description="the election's mails per status")
    total: int = Field(description="mails of the asked status (all, without `status`)")
    items: list[MailStatusItem] = Field(description="in employee-number order")


class CodeOut(BaseModel):
    voter_id: int
    access_code: str = Field(description="shown once; the voter's earlier code stopped working")
