"""Every consultation question kind through the HTTP API to `tallied` (issue 18): a scale, a
ranking, an open answer, an optional choice, a required question and the consultation-wide skip,
cast with the SDK as real encrypted ballots, counted by the server, shown on the results page,
recomputed by `stembus verify` — and a forged result of each kind refused by the verifier.
Then the small-group rule (docs/rules.md "Small groups") on a consultation in three kiesgroepen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rules.record import verify_record
from tests.api.test_proces_verbaal import pdf_text
from tests.test_e2e_shapes import Shape

QUESTIONS = [
    {
        "id": "q-choice",
        "text": "Welke dag?",
        "rule": "single",
        "options": [{"id": "a", "text": "Maandag"}, {"id": "b", "text": "Vrijdag"}],
    },
    {
        "id": "q-scale",
        "text": "Tevreden met de OR?",
        "rule": "scale",
        "scale_min": 1,
        "scale_max": 5,
        "min_label": "helemaal niet",
        "max_label": "zeer",
    },
    {
        "id": "q-rank",
        "text": "Wat eerst?",
        "rule": "ranking",
        "required": True,
        "options": [
            {"id": "x", "text": "Thuiswerken"},
            {"id": "y", "text": "Parkeren"},
            {"id": "z", "text": "Kantine"},
        ],
    },
    {"id": "q-open", "text": "Verder nog iets?", "rule": "open", "max_length": 20},
]

VOTES: dict[str, Any] = {
    "V1": {
        "q-choice": ["a"],
        "q-scale": [5],
        "q-rank": ["x", "y", "z"],
        "q-open": ["Meer thuiswerk"],
    },
    "V2": {"q-scale": [2], "q-rank": ["y"]},  # a partial ranking
    "V3": {},  # the skip: a blank ballot, valid although q-rank is required
    "V4": {"q-scale": [4], "q-rank": ["x", "z", "y"], "q-open": ["Betere koffie"]},
    "V5": {"q-scale": [3]},  # required q-rank missing: invalid
    "V6": {"q-rank": ["z"], "q-open": ["x" * 21]},  # 21 characters > 20: invalid
    "V7": {"q-rank": ["z", "x"], "q-open": ["ok\u0000"]},  # a control character: invalid
}


def _run(client: Any, operator_headers: dict[str, str], tmp_path: Path) -> tuple[Shape, dict]:
    s = Shape(client, operator_headers, {"kind": "consultation", "questions": QUESTIONS})
    s.roll({v: "all" for v in VOTES})
    s.publish([])
    s.vote_and_tally(VOTES, tmp_path)
    return s, s.finish(tmp_path)


def by_id(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["question"]: q for q in c["questions"]}


def test_every_kind_reaches_tallied_and_is_counted(
    client, operator_headers, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    s, res = _run(client, operator_headers, tmp_path)
    c = res["consultation"]
    assert c["ballots"] == {
        "total": 7,
        "valid": 4,
        "invalid": 3,
        "skipped": 1,
        "invalid_reasons": [
            {"reason": "question q-open: open answer holds control character U+0000", "count": 1},
            {"reason": "question q-open: open answer longer than 20 characters", "count": 1},
            {"reason": "required question q-rank not answered", "count": 1},
        ],
    }
    q = by_id(c)
    assert [(o["option"], o["count"]) for o in q["q-choice"]["options"]] == [("a", 1), ("b", 0)]
    assert (q["q-choice"]["answered"], q["q-choice"]["blank"]) == (1, 3)

    sc = q["q-scale"]
    assert [(p["point"], p["count"]) for p in sc["points"]] == [
        (1, 0),
        (2, 1),
        (3, 0),
        (4, 1),
        (5, 1),
    ]
    assert sc["mean"] == {"value": "11/3", "display": "3 2/3"}
    assert sc["median"] == {"value": "4", "display": "4"}
    assert (sc["answered"], sc["blank"], sc["required"]) == (3, 1, False)

    rk = q["q-rank"]
    assert [(o["option"], o["borda"], o["rank"], o["first"]) for o in rk["options"]] == [
        ("x", 4, 1, 2),
        ("y", 3, 2, 1),
        ("z", 1, 3, 0),
    ]
    assert rk["pairwise"] == [
        {"option": "x", "prefer": [None, 2, 2]},
        {"option": "y", "prefer": [1, None, 2]},
        {"option": "z", "prefer": [0, 1, None]},
    ]
    assert rk["condorcet_winner"] == "x" and rk["borda_winners"] == ["x"]
    assert (rk["answered"], rk["blank"], rk["required"]) == (3, 1, True)

    op = q["q-open"]
    assert op["answers"] == ["Betere koffie", "Meer thuiswerk"]
    assert (op["answered"], op["blank"]) == (2, 2)

    # The published definition states each kind's own fields, and only those.
    entries = client.get(s.url("/log/entries")).json()["entries"]
    [pub] = [e["entry"] for e in entries if e["entry"]["type"] == "questions_published"]
    qs = {q["id"]: q for q in pub["questions"]}
    assert qs["q-scale"]["scale_min"] == 1 and qs["q-scale"]["max_label"] == "zeer"
    assert qs["q-rank"]["required"] is True and "required" not in qs["q-choice"]
    assert qs["q-open"]["max_length"] == 20 and "scale_min" not in qs["q-open"]

    # The export of the aggregate counts: the same numbers as rows, never an open answer's text.
    got = client.get(s.url("/results/export"), params={"format": "json"})
    assert got.status_code == 200
    rows = {
        (r["scope"], r["question"], r["item"], r["measure"]): r["value"] for r in got.json()["rows"]
    }
    assert rows[("total", "q-rank", "x", "borda")] == "4"
    assert rows[("total", "q-rank", "y>z", "prefer")] == "2"
    assert rows[("total", "q-scale", "", "mean")] == "11/3"
    assert rows[("total", "q-scale", "5", "count")] == "1"
    assert rows[("total", "q-choice", "a", "share")] == "1"
    assert rows[("total", "", "", "ballots_skipped")] == "1"
    assert rows[("total", "q-open", "", "answered")] == "2"
    csv_r = client.get(s.url("/results/export"))
    assert csv_r.headers["content-type"].startswith("text/csv")
    lines = csv_r.text.split("\r\n")
    assert lines[0] == "scope,question,rule,item,measure,value"
    assert "total,q-rank,ranking,x,borda,4" in lines
    assert len(lines) == len(got.json()["rows"]) + 2  # header, rows, the empty end
    assert "koffie" not in csv_r.text and "koffie" not in got.text

    # The proces-verbaal lists each question's result (English here).
    r = client.get(s.url("/results/proces-verbaal"), params={"lang": "en"}, headers=s.chair)
    assert r.status_code == 200
    flat = " ".join(pdf_text(r.content).split())
    assert "Question: Tevreden met de OR?" in flat and "Mean 3 2/3 Median 4" in flat, flat
    assert "Thuiswerken 4 (rank 1)" in flat and "Condorcet Thuiswerken" in flat, flat
    assert "Open answers, sorted: - Betere koffie - Meer thuiswerk" in flat, flat

    page = res["_page"]
    assert "<script" not in page
    assert "Betere koffie" in page and "Meer thuiswerk" in page
    assert "Condorcet" in page and "Borda" in page
    assert "3,67" in page  # the mean, in Dutch
    assert "overgeslagen 1" in page
    assert "verplichte vraag niet beantwoord (1)" in page and "open antwoord te lang (1)" in page
    assert "open antwoord met een stuurteken (1)" in page


# One forgery per kind: the published result changed in one place, everything else intact.
FORGERIES = {
    "choice": (b'"count":1,"option":"a"', b'"count":2,"option":"a"'),
    "scale mean": (
        b'"mean":{"display":"3 2/3","value":"11/3"}',
        b'"mean":{"display":"4","value":"4"}',
    ),
    "scale point": (
        b'"count":1,"percent":"33.33","point":5',
        b'"count":2,"percent":"33.33","point":5',
    ),
    "ranking borda": (b'"borda":4', b'"borda":5'),
    "ranking condorcet": (b'"condorcet_winner":"x"', b'"condorcet_winner":"y"'),
    "open answers in ballot order": (
        b'"answers":["Betere koffie","Meer thuiswerk"]',
        b'"answers":["Meer thuiswerk","Betere koffie"]',
    ),
    "open answer changed": (b'"Betere koffie"', b'"Betere thee!"'),
    "skip": (b'"skipped":1', b'"skipped":0'),
}


def test_a_forged_result_of_each_kind_fails_the_verifier(
    client, operator_headers, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _run(client, operator_headers, tmp_path)
    lines = (tmp_path / "record.jsonl").read_bytes().splitlines(keepends=True)
    assert verify_record(lambda: iter(lines)).ok
    k = next(i for i, x in enumerate(lines) if b'"type":"result"' in x)
    # Where the recount finds each lie (the first difference; the groups' copy comes first).
    where = {
        "choice": "questions[0].options[0].count: published 2, recomputed 1",
        "scale mean": "questions[1].mean.display: published '4', recomputed '3 2/3'",
        "scale point": "questions[1].points[4].count: published 2, recomputed 1",
        "ranking borda": "questions[2].options[0].borda: published 5, recomputed 4",
        "ranking condorcet": "questions[2].condorcet_winner: published 'y', recomputed 'x'",
        "open answers in ballot order": "questions[3].answers[0]: published 'Meer thuiswerk'",
        "open answer changed": "questions[3].answers[0]: published 'Betere thee!'",
        "skip": "ballots.skipped: published 0, recomputed 1",
    }
    for name, (old, new) in FORGERIES.items():
        assert lines[k].count(old) >= 1, name
        forged = lines[k].replace(old, new)
        report = verify_record(lambda f=forged: iter([*lines[:k], f, *lines[k + 1 :]]))
        assert not report.ok and "result" in {f.check for f in report.failures}, name
        msg = report.first("result").message  # type: ignore[union-attr]
        assert "published result differs at result.consultation." in msg, (name, msg)
        assert where[name] in msg, (name, msg)


def test_small_groups_are_merged_into_other(client, operator_headers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    q = [QUESTIONS[1], QUESTIONS[3]]
    settings = {
        "kind": "consultation",
        "questions": q,
        "min_group_size": 2,
        "kiesgroepen": [
            {"id": "p", "name": "Productie"},
            {"id": "k", "name": "Kantoor"},
            {"id": "d", "name": "Directie"},
        ],
    }
    s = Shape(client, operator_headers, settings)
    s.roll({"P1": "p", "P2": "p", "P3": "p", "K1": "k", "K2": "k", "D1": "d"})
    s.publish([])
    votes = {
        "P1": {"q-scale": [1]},
        "P2": {"q-scale": [2]},
        "P3": {"q-scale": [3]},
        "K1": {"q-scale": [4]},
        "K2": {"q-scale": [5], "q-open": ["Kantoor"]},
        "D1": {"q-scale": [5], "q-open": ["Directie"]},
    }
    s.vote_and_tally(votes, tmp_path)
    res = s.finish(tmp_path)
    c = res["consultation"]
    assert c["min_group_size"] == 2
    # Directie (1 ballot) alone in "other" would be total minus the rest: Kantoor, the smallest
    # group shown, joins it.
    assert [g["group"] for g in c["groups"]] == ["p"]
    assert c["other"]["merged"] == ["k", "d"]
    other = by_id(c["other"])
    assert [p["count"] for p in other["q-scale"]["points"]] == [0, 0, 0, 1, 2]
    assert other["q-open"]["answers"] == ["Directie", "Kantoor"]
    assert by_id(c["groups"][0])["q-open"]["answers"] == []
    assert "Overige groepen (Kantoor, Directie)" in res["_page"]
    assert "minstens 2 stemmen" in res["_page"]


def test_the_export_is_for_consultations(client, operator_headers) -> None:  # type: ignore[no-untyped-def]
    s = Shape(client, operator_headers, {"seats": 3})
    s.roll({"A1": "all", "A2": "all"})
    s.publish([("all", "FNV", ["A1", "A2"])])
    r = client.get(s.url("/results/export"))
    assert r.status_code == 409 and r.json()["type"] == "/problems/not-tallied"
    s.to("tallied")
    r = client.get(s.url("/results/export"), params={"format": "json"})
    assert r.status_code == 409 and r.json()["type"] == "/problems/not-a-consultation"
    assert r.headers["content-type"].startswith("application/problem+json")
    r = client.get(s.url("/results/export"), params={"format": "xlsx"})
    assert r.status_code == 422
