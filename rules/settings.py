"""Election settings: every rule the works council's own regulation may change.

The WOR (Wet op de ondernemingsraden) sets the frame and each council's election regulation
(verkiezingsreglement) fills in the details, so each such detail is a setting with the default
of docs/rules.md. The committee's choices are published in the `election_created` /
`settings_updated` log entries, so a verifier recomputes the result under exactly these rules.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rules.ballot import MAX_BALLOT_SIZE, max_ballot_size
from rules.seats import seats_for_headcount

_FRACTION = re.compile(r"^\s*(\d{1,6})\s*(?:/\s*(\d{1,6}))?\s*$")
SLUG = r"^[a-z0-9][a-z0-9_-]{0,31}$"

Slug = Annotated[str, Field(pattern=SLUG, description="lower-case id: a-z, 0-9, '-', '_'")]


def parse_fraction(value: str | int) -> Fraction:
    """Parse "3/4" or "1" into an exact fraction (never a float: docs/rules.md)."""
    if isinstance(value, bool):
        raise ValueError("expected a fraction such as '3/4'")
    if isinstance(value, int):
        return Fraction(value)
    m = _FRACTION.match(value)
    if not m:
        raise ValueError("expected a fraction such as '3/4' or '0'")
    den = int(m.group(2) or 1)
    if den == 0:
        raise ValueError("denominator must not be zero")
    return Fraction(int(m.group(1)), den)


def _fraction_field(value: object) -> str:
    if not isinstance(value, str | int):
        raise ValueError("expected a fraction such as '3/4'")
    f = parse_fraction(value)
    if f > 1:
        raise ValueError("must be between 0 and 1")
    return str(f)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Kiesgroep(StrictModel):
    """A group of the electorate electing its own seats (WOR art. 9; the election regulation,
    docs/rules.md "Candidate lists")."""

    id: Slug
    name: str = Field(min_length=1, max_length=100)
    seats: int | None = Field(
        default=None, ge=1, le=50, description="seats of this group; required with >1 group"
    )


class Phase(StrictModel):
    start: datetime | None = None
    end: datetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.start and self.end and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Schedule(StrictModel):
    nomination: Phase | None = None
    candidacy: Phase | None = None
    voting: Phase | None = None


class NominationSettings(StrictModel):
    scope: Literal["kiesgroep", "any"] = "kiesgroep"
    max_per_voter: int = Field(default=3, ge=1, le=50)


class Option(StrictModel):
    id: Slug
    text: str = Field(min_length=1, max_length=500)


class Question(StrictModel):
    """A consultation question (raadpleging). The kinds and their answers: docs/rules.md
    "Consultations", the ballot encoding: docs/client-protocol.md "Consultation answers"."""

    id: Slug
    text: str = Field(min_length=1, max_length=2000)
    rule: Literal["single", "up_to_k", "yes_no_abstain", "scale", "ranking", "open"] = Field(
        default="single",
        description="single: one option; up_to_k: up to max_choices options; yes_no_abstain; "
        "scale: one integer scale_min..scale_max; ranking: options in order of preference "
        "(Borda count, Condorcet winner); open: a text of at most max_length characters",
    )
    max_choices: int = Field(default=1, ge=1, le=50)
    options: list[Option] = Field(default_factory=list, max_length=50)
    required: bool = Field(
        default=False,
        description="a ballot must answer this question, unless it skips the whole "
        "consultation (a blank ballot)",
    )
    scale_min: int = Field(default=1, ge=-10, le=10, description="scale: the lowest point")
    scale_max: int = Field(default=5, ge=-10, le=10, description="scale: the highest point")
    min_label: str = Field(default="", max_length=100, description="scale: label of the low end")
    max_label: str = Field(default="", max_length=100, description="scale: label of the high end")
    max_length: int = Field(
        default=500, ge=1, le=500, description="open: the longest answer, in characters"
    )

    def published(self) -> dict[str, object]:
        """The question as the `questions_published` entry states it: the fields every kind
        has, ``required`` when set, and the fields of its own kind — so a choice question reads
        as it always did and a scale or open question states its bounds explicitly."""
        out: dict[str, object] = self.model_dump(
            mode="json", include={"id", "text", "rule", "max_choices", "options"}
        )
        if self.required:
            out["required"] = True
        if self.rule == "scale":
            out |= self.model_dump(
                mode="json", include={"scale_min", "scale_max", "min_label", "max_label"}
            )
        if self.rule == "open":
            out["max_length"] = self.max_length
        return out

    @model_validator(mode="after")
    def _options(self) -> Question:
        if self.rule in ("scale", "open"):
            if self.options:
                raise ValueError(f"a {self.rule} question has no options")
            if self.rule == "scale" and self.scale_max <= self.scale_min:
                raise ValueError("scale_max must be above scale_min")
            self.max_choices = 1
            return self
        if self.rule == "yes_no_abstain":
            if not self.options:
                self.options = [
                    Option(id="yes", text="Ja"),
                    Option(id="no", text="Nee"),
                    Option(id="abstain", text="Onthouding"),
                ]
            if [o.id for o in self.options] != ["yes", "no", "abstain"]:
                raise ValueError("yes_no_abstain options must be yes, no, abstain")
            self.max_choices = 1
        elif len(self.options) < 2:
            raise ValueError("a question needs at least two options")
        if self.rule in ("single", "ranking"):
            self.max_choices = 1
        elif self.max_choices > len(self.options):
            raise ValueError("max_choices exceeds the number of options")
        if len({o.id for o in self.options}) != len(self.options):
            raise ValueError("option ids must be unique")
        return self


class ElectionSettings(StrictModel):
    """All rules of one election. Defaults follow docs/rules.md; the committee confirms them."""

    kind: Literal["works_council", "consultation"] = "works_council"
    seats: int | None = Field(
        default=None, ge=1, le=101, description="total seats; derived from headcount when omitted"
    )
    headcount: int | None = Field(
        default=None, ge=1, le=10_000_000, description="employees, for WOR art. 6(1)"
    )
    kiesgroepen: list[Kiesgroep] = Field(default_factory=list, max_length=20)
    voting_system: Literal["list", "person"] = "list"
    votes_per_voter: int | None = Field(default=None, ge=1, le=101)
    residual_method: Literal["largest_remainder", "highest_averages"] = "largest_remainder"
    remainder_threshold: str = "0"
    preference_threshold: str = "1/2"
    min_months_to_vote: int = Field(default=3, ge=0, le=120)
    min_months_to_stand: int = Field(default=3, ge=0, le=120)
    agency_months: int = Field(default=15, ge=0, le=120)
    reference_date: date | None = Field(
        default=None, description="date up to which service is counted; default: voting start"
    )
    schedule: Schedule = Field(default_factory=Schedule)
    revoting_allowed: bool = True
    batch_size: int = Field(
        default=20,
        ge=5,
        le=1000,
        description="B of docs/protocol.md 'Publication in shuffled batches': a kiesgroep's pooled "
        "issuance and ballot entries are appended once it holds 2·B ballots, all but B of them, "
        "in runs sorted by leaf hash; so every run of ballots in the log holds at least B",
    )
    retention_days: int = Field(
        default=90,
        ge=0,
        le=3660,
        description="days after the election ends (tallied or cancelled) that the personal data "
        "of the roll, committee and submitters are kept; then the operator purges them "
        "(`stembus purge`), the public log, record and results stay. Default 90: the SER "
        "voorbeeldreglement (art. 14) keeps the ballots at least three months for objections "
        "against the result, and the roll is what an objection about who could vote needs; a "
        "works council that keeps ballots for its whole term (to fill vacancies) sets ~1100",
    )
    nomination: NominationSettings = Field(default_factory=NominationSettings)
    questions: list[Question] = Field(default_factory=list, max_length=50)
    min_group_size: int = Field(
        default=10,
        ge=2,
        le=1000,
        description="consultation: a kiesgroep's results are published separately only when "
        "it has at least this many ballots; smaller groups are merged into 'other' "
        "(docs/rules.md 'Small groups')",
    )

    _check_fractions = field_validator(
        "remainder_threshold", "preference_threshold", mode="before"
    )(_fraction_field)

    @model_validator(mode="after")
    def _consistent(self) -> ElectionSettings:
        if self.kind == "consultation":
            if not self.kiesgroepen:
                self.kiesgroepen = [Kiesgroep(id="all", name="Alle medewerkers")]
            ids = [q.id for q in self.questions]
            if len(set(ids)) != len(ids):
                raise ValueError("question ids must be unique")
            if self.questions:
                size = consultation_ballot_size(self)
                if size > MAX_BALLOT_SIZE:
                    raise ValueError(
                        f"the largest ballot of these questions takes {size} bytes, more than "
                        f"the {MAX_BALLOT_SIZE} a ballot may hold: fewer or shorter open questions"
                    )
            return self
        if self.questions:
            raise ValueError("questions belong to a consultation, not a works council election")
        if self.seats is None and self.headcount is not None:
            self.seats = seats_for_headcount(self.headcount)
        if not self.kiesgroepen:
            self.kiesgroepen = [Kiesgroep(id="all", name="Alle medewerkers", seats=self.seats)]
        ids = [g.id for g in self.kiesgroepen]
        if len(set(ids)) != len(ids):
            raise ValueError("kiesgroep ids must be unique")
        if len(self.kiesgroepen) == 1 and self.kiesgroepen[0].seats is None:
            self.kiesgroepen[0].seats = self.seats
        if any(g.seats is None for g in self.kiesgroepen):
            raise ValueError("every kiesgroep needs its number of seats")
        total = sum(g.seats or 0 for g in self.kiesgroepen)
        if self.seats is None:
            self.seats = total
        elif total != self.seats:
            raise ValueError(f"kiesgroep seats add up to {total}, not to the {self.seats} seats")
        return self

    def group(self, group_id: str) -> Kiesgroep | None:
        return next((g for g in self.kiesgroepen if g.id == group_id), None)

    def votes_for(self, group: Kiesgroep) -> int:
        """Votes per voter in the person system: default the group's seats (docs/rules.md)."""
        if self.voting_system == "list":
            return 1
        return self.votes_per_voter or group.seats or 1


def consultation_ballot_size(es: ElectionSettings) -> int:
    """The padded ballot size of a consultation, with the longest election id (the server's ids
    are shorter) and the longest kiesgroep id of these settings: an upper bound of what the
    `keys` entry will state. Open answers dominate it (4 bytes per character at worst)."""
    group = max((g.id for g in es.kiesgroepen), key=len, default="all")
    questions = [q.model_dump(mode="json") for q in es.questions]
    return max_ballot_size({"group": group, "questions": questions}, "e" * 32)
