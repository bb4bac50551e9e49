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
questions have the options ``yes``, ``no``, ``abstain``; a ``scale`` question has ``scale_min``,
``scale_max`` and end labels, a ``ranking`` question options, an ``open`` question a
``max_length``; any question may be ``required``.)

A ballot plaintext is ``{"election": str, "group": str, "selections": S}``: for a works council
S is a list of candidate ids (list system: 0 or 1; person system: 0..votes_per_voter distinct;
``[]`` is blank); for a consultation S is ``{question id: answer}`` where the answer is always a
list, ``[]`` (or a missing question) being blank for that question (docs/client-protocol.md
"Consultation answers"):

* ``single`` / ``up_to_k`` / ``yes_no_abstain``: distinct option ids;
* ``scale``: one integer from ``scale_min`` to ``scale_max``, e.g. ``[4]``;
* ``ranking``: distinct option ids, most preferred first; a prefix of a full ranking is allowed
  (the options left out rank below every ranked one, equal among themselves);
* ``open``: one non-empty string of at most ``max_length`` characters (code points), no control
  characters but the line feed, no lone surrogates.

A required question must be answered, except on a *skip* ballot: ``selections`` ``{}`` (or only
blank answers) is a blank ballot, valid in every consultation.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, model_validator

PAD_BLOCK = 64
# The largest padded ballot an election may have: its ciphertext (32 + size + 16 bytes, base64)
# must stay within api.voting.schemas.MAX_CIPHERTEXT_B64 (65536 characters, 49152 bytes).
# 32 KiB holds e.g. 16 open questions of 500 characters of the widest kind.
MAX_BALLOT_SIZE = 32 * 1024


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
SCALE_BOUND = 10  # a scale runs within -10..10 (1-5, 0-10, -2..2 Likert)
OPEN_MAX_LENGTH = 500  # characters (code points) of an open answer, at most
# The widest character in RFC 8785: an astral code point, 4 bytes of UTF-8 (the escapes of
# '"' and '\\' and '\n' take 2 bytes, the other controls are refused).
_WIDEST_CHAR = "\U0001f600"


class QuestionDef(_Model):
    id: str = Field(min_length=1)
    text: str = ""
    rule: Literal["single", "up_to_k", "yes_no_abstain", "scale", "ranking", "open"] = "single"
    max_choices: int = Field(default=1, ge=1)
    options: list[OptionDef] = Field(default_factory=list)
    required: bool = False
    scale_min: int = Field(default=1, ge=-SCALE_BOUND, le=SCALE_BOUND)
    scale_max: int = Field(default=5, ge=-SCALE_BOUND, le=SCALE_BOUND)
    max_length: int = Field(default=OPEN_MAX_LENGTH, ge=1, le=OPEN_MAX_LENGTH)

    @model_validator(mode="after")
    def _consistent(self) -> QuestionDef:
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError(f"question {self.id}: option ids must be unique")
        if self.rule == "yes_no_abstain" and tuple(ids) != YES_NO_ABSTAIN:
            raise ValueError(f"question {self.id}: options must be yes, no, abstain")
        if self.rule == "scale" and self.scale_max <= self.scale_min:
            raise ValueError(f"question {self.id}: scale_max must be above scale_min")
        return self

    @property
    def points(self) -> list[int]:
        """The points of a scale question, low to high."""
        return list(range(self.scale_min, self.scale_max + 1))

    @property
    def allowed(self) -> int:
        """How many elements the answer list may hold."""
        if self.rule == "up_to_k":
            return min(self.max_choices, len(self.options))
        if self.rule == "ranking":
            return len(self.options)
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


def is_skip(selections: Any) -> bool:
    """A consultation ballot that answers no question at all: the consultation-wide skip, a
    blank ballot (valid even where questions are required)."""
    return isinstance(selections, dict) and not any(selections.values())


def _validate_consultation(d: ConsultationDef, sel: Any) -> tuple[bool, str | None]:
    if not isinstance(sel, dict):
        return False, "selections is not an object"
    questions = {q.id: q for q in d.questions}
    for qid in sorted(sel):
        if qid not in questions:
            return False, f"unknown question {qid}"
        err = _validate_answer(questions[qid], sel[qid])
        if err:
            return False, err
    if not is_skip(sel):
        for q in d.questions:
            if q.required and not sel.get(q.id):
                return False, f"required question {q.id} not answered"
    return True, None


def _validate_answer(q: QuestionDef, answer: Any) -> str | None:
    qid = q.id
    if not isinstance(answer, list):
        return f"question {qid} is not a list"
    too_many = f"too many selections for question {qid}: {len(answer)} > {q.allowed}"
    if q.rule in ("scale", "open") and len(answer) > q.allowed:
        return too_many
    if q.rule == "scale":
        for v in answer:
            if not isinstance(v, int) or isinstance(v, bool):
                return f"question {qid}: scale answer is not an integer"
            if not q.scale_min <= v <= q.scale_max:
                return f"question {qid}: {v} is outside the scale {q.scale_min}..{q.scale_max}"
        return None
    if q.rule == "open":
        for v in answer:
            if not isinstance(v, str):
                return f"question {qid}: open answer is not a string"
            return _open_text_error(q, v)
        return None
    err = _check_ids(answer, f"question {qid}")
    if err:
        return err
    known = {o.id for o in q.options}
    for oid in answer:
        if oid not in known:
            return f"unknown option {oid} for question {qid}"
    dup = _duplicate(answer)
    if dup is not None:
        return f"duplicate selection {dup} for question {qid}"
    if len(answer) > q.allowed:
        return too_many
    return None


def _open_text_error(q: QuestionDef, text: str) -> str | None:
    """Strict Unicode for an open answer: non-empty, at most ``max_length`` code points, no
    control character but the line feed, no surrogate (JSON can carry a lone one escaped)."""
    if not text:
        return f"question {q.id}: empty open answer (use [] for blank)"
    if len(text) > q.max_length:
        return f"question {q.id}: open answer longer than {q.max_length} characters"
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cs":
            return f"question {q.id}: open answer holds a lone surrogate"
        if cat == "Cc" and ch != "\n":
            return f"question {q.id}: open answer holds control character U+{ord(ch):04X}"
    return None


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
        selections = {q.id: _largest_answer(q) for q in d.questions}
    return {"election": election_id, "group": d.group, "selections": selections}


def _largest_answer(q: QuestionDef) -> list[Any]:
    if q.rule == "scale":
        return [max(q.points, key=lambda v: len(str(v)))]
    if q.rule == "open":
        return [_WIDEST_CHAR * q.max_length]
    return _longest([o.id for o in q.options], q.allowed)


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
