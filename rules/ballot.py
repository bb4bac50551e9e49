"""The ballot content contract: published ballot definitions, validation of a decrypted
ballot plaintext, and the fixed padded ballot size (docs/protocol.md "Casting").

A works council group definition (from the public log)::

    {"group": "kg1", "seats": 9, "vote_held": true, "system": "list" | "person",
     "votes_per_voter": 1, "lists": [{"id": "l1", "name": "FNV", "kind": "union",
     "candidates": [{"id": "c1", "name": "A. Jansen", "position": 1}]}]}

A consultation definition::

    {"group": "all", "questions": [{"id": "q1", "text": "...", "rule": "single",
     "max_choices": 1, "options": [{"id": "o1", "text": "..."}]}]}

(``group`` defaults to ``"all"``, the single group of a consultation; ``yes_no_abstain``
questions have the options ``yes``, ``no``, ``abstain``.)

A ballot plaintext is ``{"election": str, "group": str, "selections": S}``: for a works council
S is a list of candidate ids (list system: 0 or 1; person system: 0..votes_per_voter distinct;
``[]`` is blank); for a consultation S is ``{question id: [option ids]}`` (a missing question or
``[]`` is blank for that question).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, model_validator

PAD_BLOCK = 64


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CandidateDef(_Model):
    id: str = Field(min_length=1)
    name: str = ""
    position: int = Field(ge=1)


class ListDef(_Model):
    id: str = Field(min_length=1)
    name: str = ""
    kind: Literal["union", "free", "person"] = "free"
    candidates: list[CandidateDef] = Field(default_factory=list)

    def ordered(self) -> list[CandidateDef]:
        """Candidates in list order (by ``position``)."""
        return sorted(self.candidates, key=lambda c: c.position)


class GroupDef(_Model):
    """One kiesgroep of a works council election as published."""

    group: str = Field(min_length=1)
    seats: int = Field(ge=0)
    vote_held: bool = True
    system: Literal["list", "person"] = "list"
    votes_per_voter: int = Field(default=1, ge=1)
    lists: list[ListDef] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> GroupDef:
        if len({lst.id for lst in self.lists}) != len(self.lists):
            raise ValueError("list ids must be unique within a group")
        ids = [c.id for lst in self.lists for c in lst.candidates]
        if len(set(ids)) != len(ids):
            raise ValueError("a candidate appears on at most one list, once")
        for lst in self.lists:
            if len({c.position for c in lst.candidates}) != len(lst.candidates):
                raise ValueError(f"list {lst.id}: candidate positions must be unique")
        if self.system == "list" and self.votes_per_voter != 1:
            raise ValueError("the list system has one vote per voter")
        return self

    @property
    def candidate_ids(self) -> list[str]:
        return [c.id for lst in self.lists for c in lst.ordered()]

    @property
    def max_selections(self) -> int:
        if self.system == "list":
            return 1
        return min(self.votes_per_voter, len(self.candidate_ids))


class OptionDef(_Model):
    id: str = Field(min_length=1)
    text: str = ""


YES_NO_ABSTAIN = ("yes", "no", "abstain")


class QuestionDef(_Model):
    id: str = Field(min_length=1)
    text: str = ""
    rule: Literal["single", "up_to_k", "yes_no_abstain"] = "single"
    max_choices: int = Field(default=1, ge=1)
    options: list[OptionDef] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> QuestionDef:
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError(f"question {self.id}: option ids must be unique")
        if self.rule == "yes_no_abstain" and tuple(ids) != YES_NO_ABSTAIN:
            raise ValueError(f"question {self.id}: options must be yes, no, abstain")
        return self

    @property
    def allowed(self) -> int:
        """How many options a voter may choose."""
        if self.rule == "up_to_k":
            return min(self.max_choices, len(self.options))
        return 1


class ConsultationDef(_Model):
    group: str = "all"
    questions: list[QuestionDef] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ConsultationDef:
        if len({q.id for q in self.questions}) != len(self.questions):
            raise ValueError("question ids must be unique")
        return self


Definition = GroupDef | ConsultationDef


def parse_definition(obj: Any) -> Definition:
    """A published definition (dict) → :class:`GroupDef` or :class:`ConsultationDef`."""
    if isinstance(obj, GroupDef | ConsultationDef):
        return obj
    if isinstance(obj, Mapping) and "questions" in obj:
        return ConsultationDef.model_validate(obj)
    return GroupDef.model_validate(obj)


# --------------------------------------------------------------------------- validation

_FIELDS = ("election", "group", "selections")


def _check_ids(values: Any, what: str) -> str | None:
    if not isinstance(values, list):
        return f"{what} is not a list"
    for v in values:
        if not isinstance(v, str):
            prefix = "" if what == "selections" else f"{what}: "
            return f"{prefix}selection is not a string"
    return None


def _duplicate(values: list[str]) -> str | None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            return v
        seen.add(v)
    return None


def validate_ballot(
    definition: Any, election_id: str, group: str, plaintext_obj: Any
) -> tuple[bool, str | None]:
    """Check a decrypted ballot against its group's definition.

    ``group`` is the group the ballot was cast in (ballot entry, HPKE info). Returns
    ``(True, None)`` or ``(False, reason)``; the reason is published with the invalid ballot.
    """
    d = parse_definition(definition)
    if not isinstance(plaintext_obj, dict):
        return False, "not an object"
    for key in _FIELDS:
        if key not in plaintext_obj:
            return False, f"missing field {key}"
    extra = sorted(k for k in plaintext_obj if k not in _FIELDS)
    if extra:
        return False, f"unexpected field {extra[0]}"
    if plaintext_obj["election"] != election_id:
        return False, "wrong election"
    if plaintext_obj["group"] != group or d.group != group:
        return False, "wrong group"
    sel = plaintext_obj["selections"]
    if isinstance(d, GroupDef):
        return _validate_group(d, sel)
    return _validate_consultation(d, sel)


def _validate_group(d: GroupDef, sel: Any) -> tuple[bool, str | None]:
    if not d.vote_held:
        return False, f"no vote held in group {d.group}"
    err = _check_ids(sel, "selections")
    if err:
        return False, err
    known = set(d.candidate_ids)
    for cid in sel:
        if cid not in known:
            return False, f"unknown candidate {cid}"
    dup = _duplicate(sel)
    if dup is not None:
        return False, f"duplicate selection {dup}"
    if len(sel) > d.max_selections:
        return False, f"too many selections: {len(sel)} > {d.max_selections}"
    return True, None


def _validate_consultation(d: ConsultationDef, sel: Any) -> tuple[bool, str | None]:
    if not isinstance(sel, dict):
        return False, "selections is not an object"
    questions = {q.id: q for q in d.questions}
    for qid in sorted(sel):
        if qid not in questions:
            return False, f"unknown question {qid}"
        q = questions[qid]
        err = _check_ids(sel[qid], f"question {qid}")
        if err:
            return False, err
        known = {o.id for o in q.options}
        for oid in sel[qid]:
            if oid not in known:
                return False, f"unknown option {oid} for question {qid}"
        dup = _duplicate(sel[qid])
        if dup is not None:
            return False, f"duplicate selection {dup} for question {qid}"
        if len(sel[qid]) > q.allowed:
            return False, f"too many selections for question {qid}: {len(sel[qid])} > {q.allowed}"
    return True, None


# --------------------------------------------------------------------------- ballot size


def _longest(ids: Iterable[str], k: int) -> list[str]:
    """The ``k`` ids whose RFC 8785 encodings are longest (ties: first in order)."""
    ranked = sorted(ids, key=lambda i: -len(rfc8785.dumps(i)))
    return ranked[:k]


def largest_ballot(definition: Any, election_id: str) -> dict[str, Any]:
    """A valid ballot of the greatest encoded length for this definition."""
    d = parse_definition(definition)
    selections: Any
    if isinstance(d, GroupDef):
        selections = _longest(d.candidate_ids, d.max_selections)
    else:
        selections = {q.id: _longest([o.id for o in q.options], q.allowed) for q in d.questions}
    return {"election": election_id, "group": d.group, "selections": selections}


def max_ballot_size(definition: Any, election_id: str) -> int:
    """The fixed padded plaintext size of an election (docs/protocol.md "Casting" step 1).

    ``definition`` is one group definition, a consultation definition, a list of group
    definitions or ``{"groups": [...]}``. The size is the RFC 8785 length of the largest valid
    ballot of any group, plus 1 for the 0x80 pad marker, rounded up to a multiple of 64.
    """
    if isinstance(definition, Mapping) and "groups" in definition:
        items = list(definition["groups"])
    elif isinstance(definition, list | tuple):
        items = list(definition)
    else:
        items = [definition]
    if not items:
        raise ValueError("no group definitions")
    longest = max(len(rfc8785.dumps(largest_ballot(item, election_id))) for item in items)
    return -(-(longest + 1) // PAD_BLOCK) * PAD_BLOCK
