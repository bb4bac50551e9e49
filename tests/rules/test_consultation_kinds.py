"""The consultation question kinds in the rules core (issue 18): validation limits, the fixed
ballot size against the widest valid ballot, and property tests of the counts against a direct
computation (Borda totals, pairwise table, Condorcet winner, mean and median), and the
small-group split."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from fractions import Fraction
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rules.ballot import ConsultationDef, max_ballot_size, validate_ballot
from rules.consultation import median
from rules.counting import count_consultation
from rules.settings import Question
from rules.tally import small_group_split

DEF = ConsultationDef.model_validate(
    {
        "group": "all",
        "questions": [
            {"id": "s", "rule": "scale", "scale_min": 0, "scale_max": 10, "required": True},
            {"id": "r", "rule": "ranking", "options": [{"id": o} for o in "abcd"]},
            {"id": "o", "rule": "open", "max_length": 500},
        ],
    }
)


def check(sel: Any) -> tuple[bool, str | None]:
    return validate_ballot(DEF, "e1", "all", {"election": "e1", "group": "all", "selections": sel})


@pytest.mark.parametrize(
    ("sel", "reason"),
    [
        ({"s": [0]}, None),
        ({"s": [10], "r": ["d", "a"], "o": ["regel 1\nregel 2"]}, None),
        ({}, None),  # the skip: valid although s is required
        ({"s": [], "r": [], "o": []}, None),  # only blank answers: also the skip
        ({"r": ["a"]}, "required question s not answered"),
        ({"s": [11]}, "question s: 11 is outside the scale 0..10"),
        ({"s": [-1]}, "question s: -1 is outside the scale 0..10"),
        ({"s": [True]}, "question s: scale answer is not an integer"),
        ({"s": [2.5]}, "question s: scale answer is not an integer"),
        ({"s": ["3"]}, "question s: scale answer is not an integer"),
        ({"s": [3, 4]}, "too many selections for question s: 2 > 1"),
        ({"s": 3}, "question s is not a list"),
        ({"s": [1], "r": ["a", "a"]}, "duplicate selection a for question r"),
        ({"s": [1], "r": ["e"]}, "unknown option e for question r"),
        ({"s": [1], "r": [1]}, "question r: selection is not a string"),
        ({"s": [1], "o": [""]}, "question o: empty open answer (use [] for blank)"),
        ({"s": [1], "o": ["a", "b"]}, "too many selections for question o: 2 > 1"),
        ({"s": [1], "o": [5]}, "question o: open answer is not a string"),
        ({"s": [1], "o": ["a\x00"]}, "question o: open answer holds control character U+0000"),
        ({"s": [1], "o": ["a\tb"]}, "question o: open answer holds control character U+0009"),
        ({"s": [1], "o": ["a\x7f"]}, "question o: open answer holds control character U+007F"),
        ({"s": [1], "o": ["a\x85"]}, "question o: open answer holds control character U+0085"),
        ({"s": [1], "o": ["a\ud800"]}, "question o: open answer holds a lone surrogate"),
        ({"s": [1], "o": ["\U0001f600" * 500]}, None),
        (
            {"s": [1], "o": ["\U0001f600" * 501]},
            "question o: open answer longer than 500 characters",
        ),
    ],
)
def test_validation(sel: Any, reason: str | None) -> None:
    assert check(sel) == (reason is None, reason)


def test_the_question_settings_refuse_what_the_rules_cannot_count() -> None:
    bad = [
        {"id": "q", "text": "t", "rule": "scale", "scale_min": 5, "scale_max": 5},
        {"id": "q", "text": "t", "rule": "scale", "scale_min": 0, "scale_max": 11},
        {"id": "q", "text": "t", "rule": "scale", "options": [{"id": "a", "text": "A"}]},
        {"id": "q", "text": "t", "rule": "open", "max_length": 501},
        {"id": "q", "text": "t", "rule": "open", "max_length": 0},
        {"id": "q", "text": "t", "rule": "ranking", "options": [{"id": "a", "text": "A"}]},
    ]
    for q in bad:
        with pytest.raises(ValidationError):
            Question.model_validate(q)
    ok = Question.model_validate(
        {"id": "q", "text": "t", "rule": "scale", "scale_min": -2, "scale_max": 2}
    )
    assert ok.options == [] and ok.max_choices == 1


def test_the_ballot_size_holds_the_widest_open_answer() -> None:
    # 500 astral characters are 2000 bytes of UTF-8: the fixed size must hold them.
    size = max_ballot_size(DEF, "e1")
    widest = {"s": [10], "r": list("abcd"), "o": ["\U0001f600" * 500]}
    body = {"election": "e1", "group": "all", "selections": widest}
    assert len(rfc8785.dumps(body)) + 1 <= size
    assert len(rfc8785.dumps(body)) > 2000 and size % 64 == 0


# --------------------------------------------------------------------------- properties

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="")
    | st.just("\n"),
    min_size=1,
    max_size=500,
)
_BALLOT = st.fixed_dictionaries(
    {
        "s": st.lists(st.integers(0, 10), max_size=1),
        "r": st.permutations(list("abcd")).flatmap(
            lambda p: st.integers(0, 4).map(lambda k: p[:k])
        ),
        "o": st.lists(_TEXT, max_size=1),
    }
)


def _valid(b: dict[str, Any]) -> dict[str, Any]:
    """Make the required scale answered unless the ballot is a skip."""
    if not b["s"] and (b["r"] or b["o"]):
        return {**b, "s": [5]}
    return b


@settings(max_examples=150, deadline=None)
@given(st.lists(_BALLOT.map(_valid), max_size=40))
def test_counts_match_a_direct_computation(ballots: list[dict[str, Any]]) -> None:
    for b in ballots:
        assert check(b) == (True, None)
        body = {"election": "e1", "group": "all", "selections": b}
        assert len(rfc8785.dumps(body)) + 1 <= max_ballot_size(DEF, "e1")
    d = count_consultation(DEF, [(True, None, b) for b in ballots]).to_dict()
    s, r, o = d["questions"]

    # scale: counts, mean and median (statistics.median: the mean of the middle two)
    values = [b["s"][0] for b in ballots if b["s"]]
    assert [p["count"] for p in s["points"]] == [values.count(v) for v in range(11)]
    if values:
        assert Fraction(s["mean"]["value"]) == Fraction(sum(values), len(values))
        assert Fraction(s["median"]["value"]) == Fraction(statistics.median(values))
    else:
        assert s["mean"] is None and s["median"] is None

    # ranking: Borda n - i, left out 0; pairwise "prefers a to b"; Condorcet
    opts = list("abcd")
    rankings = [b["r"] for b in ballots if b["r"]]
    borda = {a: sum(4 - (rk.index(a) + 1) for rk in rankings if a in rk) for a in opts}
    assert {x["option"]: x["borda"] for x in r["options"]} == borda
    assert sum(borda.values()) == sum(sum(4 - i for i in range(1, len(rk) + 1)) for rk in rankings)

    def prefers(rk: list[str], a: str, b: str) -> bool:
        return a in rk and (b not in rk or rk.index(a) < rk.index(b))

    table = {row["option"]: row["prefer"] for row in r["pairwise"]}
    for a in opts:
        for j, b in enumerate(opts):
            want = None if a == b else sum(prefers(rk, a, b) for rk in rankings)
            assert table[a][j] == want
    beats_all = [
        a
        for i, a in enumerate(opts)
        if all(table[a][j] > table[b][i] for j, b in enumerate(opts) if b != a)
    ]
    assert r["condorcet_winner"] == (beats_all[0] if beats_all and rankings else None)
    assert len(beats_all) <= 1
    top = max(borda.values())
    assert r["borda_winners"] == ([a for a in opts if borda[a] == top] if rankings else [])
    for x in r["options"]:
        assert x["rank"] == 1 + sum(1 for a in opts if borda[a] > borda[x["option"]])

    # open: sorted by code point, as many as were given
    assert o["answers"] == sorted(b["o"][0] for b in ballots if b["o"])
    assert d["ballots"]["skipped"] == sum(1 for b in ballots if not any(b.values()))


@given(st.lists(st.integers(-10, 10), min_size=1, max_size=60))
def test_median_of_counts(values: list[int]) -> None:
    assert median(Counter(values)) == Fraction(statistics.median(values))


@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=8),
    st.integers(2, 15),
)
def test_small_group_split_never_gives_a_small_group_away(sizes: list[int], minimum: int) -> None:
    groups = [f"g{i}" for i in range(len(sizes))]
    by = dict(zip(groups, sizes, strict=True))
    shown, merged = small_group_split(groups, by, minimum)
    if len(groups) == 1:
        assert shown == groups and merged == []
        return
    assert set(shown).isdisjoint(merged)
    assert all(by[g] >= minimum for g in shown)
    if shown:
        assert set(shown) | set(merged) == set(groups)
        # "other" is total minus the shown groups: it must itself be safe to publish.
        if merged:
            assert len(merged) >= 2 and sum(by[g] for g in merged) >= minimum
    else:
        assert merged == []


def test_small_group_split_examples() -> None:
    sizes = {"a": 30, "b": 12, "c": 3}
    assert small_group_split(["a", "b", "c"], sizes, 10) == (["a"], ["b", "c"])
    assert small_group_split(["a", "b", "c"], {"a": 30, "b": 12, "c": 11}, 10) == (
        ["a", "b", "c"],
        [],
    )
    # b + c = 7 < 10 and total - a = b + c: no breakdown at all
    assert small_group_split(["a", "b", "c"], {"a": 30, "b": 4, "c": 3}, 10) == ([], [])
    assert small_group_split(["a", "b", "c", "d"], {"a": 30, "b": 20, "c": 4, "d": 7}, 10) == (
        ["a", "b"],
        ["c", "d"],
    )
    assert small_group_split(["a", "b"], {"a": 30, "b": 3}, 10) == ([], [])
    assert small_group_split(["a"], {"a": 3}, 10) == (["a"], [])


def _doc_block(tag: str) -> Any:
    import json
    from pathlib import Path

    s = (Path(__file__).parents[2] / "docs" / "client-protocol.md").read_text()
    i = s.index(f"<!-- example:{tag} -->")
    j = s.index("```json\n", i) + len("```json\n")
    return s[j : s.index("```", j)].strip(), json.loads(s[j : s.index("```", j)])


def test_the_client_guide_example_is_a_valid_canonical_ballot() -> None:
    _, definition = _doc_block("consultation-definition")
    raw, plaintext = _doc_block("consultation-plaintext")
    for q in definition["questions"]:
        Question.model_validate(q)  # the settings accept the example questions
    assert validate_ballot(definition, "e", "all", plaintext) == (True, None)
    assert rfc8785.dumps(plaintext) == raw.encode()  # exactly the bytes to pad and seal
    skip = {"election": "e", "group": "all", "selections": {}}
    assert validate_ballot(definition, "e", "all", skip) == (True, None)
    assert len(raw.encode()) + 1 <= max_ballot_size(definition, "e")


# --------------------------------------------------------------------------- signed lies

_SIGNED_QUESTIONS = [
    {
        "id": "keus",
        "text": "Welke dag?",
        "rule": "single",
        "options": [{"id": "ma", "text": "Ma"}, {"id": "vr", "text": "Vr"}],
    },
    {"id": "schaal", "text": "Tevreden?", "rule": "scale", "scale_min": 1, "scale_max": 5},
    {
        "id": "rang",
        "text": "Wat eerst?",
        "rule": "ranking",
        "options": [{"id": o, "text": o} for o in "abc"],
    },
    {"id": "open", "text": "Verder?", "rule": "open", "max_length": 50},
]
_PLANS = {
    "all": [
        {"keus": ["ma"], "schaal": [5], "rang": ["a", "b", "c"], "open": ["koffie"]},
        {"keus": ["vr"], "schaal": [2], "rang": ["b"], "open": ["Parkeren"]},
        {"schaal": [4], "rang": ["a", "c"]},
        {},
    ]
}


def _q(result: dict[str, Any], i: int) -> dict[str, Any]:
    return result["consultation"]["questions"][i]  # type: ignore[no-any-return]


# One lie per kind, each signed by the (dishonest) server: the recount alone finds it.
_LIES = {
    "choice count": lambda r: _q(r, 0)["options"][0].update(count=2),
    "scale median": lambda r: _q(r, 1).update(median={"value": "5", "display": "5"}),
    "scale point": lambda r: _q(r, 1)["points"][0].update(count=1),
    "borda": lambda r: _q(r, 2)["options"][2].update(borda=9),
    "pairwise": lambda r: _q(r, 2)["pairwise"][0]["prefer"].__setitem__(1, 0),
    "condorcet": lambda r: _q(r, 2).update(condorcet_winner=None),
    "open answer dropped": lambda r: _q(r, 3)["answers"].pop(),
    "open answers in another order": lambda r: _q(r, 3)["answers"].reverse(),
    "skip": lambda r: r["consultation"]["ballots"].update(skipped=0),
}


def test_the_synthetic_consultation_is_honest(tmp_path: Any) -> None:
    from benchmarks.synthetic_election import build
    from rules.record import verify_record

    s = build(tmp_path / "c.jsonl", questions=_SIGNED_QUESTIONS, plans=_PLANS, seed=5)
    report = verify_record(s.path, log_key=s.log_key)
    assert report.ok, [str(f) for f in report.failures]
    result = json.loads(
        next(x for x in s.path.read_bytes().splitlines() if b'"type":"result"' in x)
    )
    rank = result["entry"]["consultation"]["questions"][2]
    assert [o["borda"] for o in rank["options"]] == [4, 3, 1] and rank["condorcet_winner"] == "a"
    assert result["entry"]["consultation"]["questions"][3]["answers"] == ["Parkeren", "koffie"]


@pytest.mark.parametrize("lie", sorted(_LIES))
def test_a_signed_lie_of_each_kind_fails_only_the_recount(tmp_path: Any, lie: str) -> None:
    from benchmarks.synthetic_election import build
    from rules.record import verify_record

    s = build(
        tmp_path / "c.jsonl", questions=_SIGNED_QUESTIONS, plans=_PLANS, seed=5, forge=_LIES[lie]
    )
    report = verify_record(s.path, log_key=s.log_key)
    assert set(report.failure_counts) == {"result"}, [str(f) for f in report.failures]
    f = report.first("result")
    assert f is not None and "published result differs at result.consultation." in f.message


def test_a_consultation_whose_ballot_would_not_fit_is_refused() -> None:
    from api.voting.schemas import MAX_CIPHERTEXT_B64
    from rules.ballot import MAX_BALLOT_SIZE
    from rules.settings import ElectionSettings, consultation_ballot_size

    # A ballot of the largest size still fits the cast route's ciphertext limit.
    assert 4 * -(-(32 + MAX_BALLOT_SIZE + 16) // 3) <= MAX_CIPHERTEXT_B64

    def open_questions(n: int) -> dict[str, Any]:
        q = [{"id": f"q{i}", "text": "t", "rule": "open", "max_length": 500} for i in range(n)]
        return {"kind": "consultation", "questions": q}

    fits = ElectionSettings.model_validate(open_questions(16))
    assert consultation_ballot_size(fits) <= MAX_BALLOT_SIZE
    with pytest.raises(ValidationError, match="more than the 32768 a ballot may hold"):
        ElectionSettings.model_validate(open_questions(17))
