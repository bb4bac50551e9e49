"""rules.tally through the full path: a log built with the real primitives (credentials, HPKE,
Shamir, signed checkpoints), then pass 1 + pass 2, and the verifier recomputing the same bytes.
docs/rules.md worked examples E1, E2 and E7 are decided here by the whole tally, not by the
apportionment function alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.synthetic_election import build
from crypto import sealing
from crypto.canonical import b64e
from rules.record import verify_record
from rules.tally import ElectionLog, TallyError, compute_result, open_ballot_entry


def _group(
    gid: str,
    seats: int,
    lists: dict[str, int],
    *,
    system: str = "list",
    vote_held: bool = True,
    votes_per_voter: int = 1,
) -> dict[str, Any]:
    return {
        "group": gid,
        "seats": seats,
        "vote_held": vote_held,
        "system": system,
        "votes_per_voter": votes_per_voter,
        "lists": [
            {
                "id": lid,
                "name": lid.upper(),
                "kind": "union" if i < 2 else "free",
                "candidates": [
                    {"id": f"{lid}-{p}", "name": f"{lid} {p}", "position": p}
                    for p in range(1, n + 1)
                ],
            }
            for i, (lid, n) in enumerate(lists.items())
        ],
    }


def _plans(votes: dict[str, int]) -> list[list[str]]:
    """`votes` per candidate id → one ballot plan per voter."""
    out: list[list[str]] = []
    for cid, n in votes.items():
        out.extend([[cid]] * n)
    return out


def _seats(result: dict[str, Any], group: int = 0) -> dict[str, int]:
    return {lst["list"]: lst["seats"] for lst in result["groups"][group]["lists"]}


def _verify_ok(path: Path) -> None:
    report = verify_record(path)
    assert report.ok, [str(f) for f in report.failures]
    assert report.result_checked


@pytest.mark.slow
def test_e1_largest_remainder_through_the_whole_tally(tmp_path: Path) -> None:
    # E1: FNV 370, CNV 140, Vrije lijst 80, Jansen 20, Vrolijk 190; 15 seats → 7/3/1/0/4.
    g = _group("all", 15, {"fnv": 8, "cnv": 4, "vrij": 2, "jansen": 1, "vrolijk": 5})
    plans = _plans(
        {"fnv-1": 300, "fnv-2": 70, "cnv-1": 140, "vrij-1": 80, "jansen-1": 20, "vrolijk-1": 190}
    )
    s = build(tmp_path / "e1.jsonl", groups=[g], plans={"all": plans}, revote_every=25)
    assert s.result is not None
    assert _seats(s.result) == {"fnv": 7, "cnv": 3, "vrij": 1, "jansen": 0, "vrolijk": 4}
    appo = s.result["groups"][0]["apportionment"]
    assert appo["quota"]["display"] == "53 1/3"
    assert [x["full_seats"] for x in appo["lists"]] == [6, 2, 1, 0, 3]
    assert s.result["ballots"]["superseded"] == 32  # the re-votes' first ballots do not count
    assert s.result["groups"][0]["ballots"]["valid"] == 800
    # preference votes: fnv-1 (300 ≥ ½·53⅓) first, then list order
    fnv = s.result["groups"][0]["lists"][0]
    assert fnv["elected"][:2] == ["fnv-1", "fnv-2"] and fnv["successors"] == ["fnv-8"]
    _verify_ok(s.path)


def test_e2_e7_kiesgroepen_and_a_group_without_a_vote(tmp_path: Path) -> None:
    e2 = _group("kg1", 9, {"a": 5, "b": 4, "c": 3})
    e7 = _group("kg2", 9, {"x": 5, "y": 3}, vote_held=False)
    plans = {"kg1": _plans({"a-1": 42, "b-2": 35, "c-1": 23})}  # E2 scaled by 1/10
    s = build(tmp_path / "e2.jsonl", groups=[e2, e7], plans=plans, revote_every=0)
    assert s.result is not None
    assert _seats(s.result, 0) == {"a": 4, "b": 3, "c": 2}
    g7 = s.result["groups"][1]
    assert g7["vote_held"] is False and g7["vacant_seats"] == 1 and len(g7["elected"]) == 8
    assert [t["group"] for t in s.result["turnout"]] == ["kg1", "kg2"]
    _verify_ok(s.path)


def test_person_system_tie_is_drawn_by_the_recorded_lot(tmp_path: Path) -> None:
    g = _group("all", 2, {"p": 4}, system="person", votes_per_voter=2)
    plans = {"all": [["p-1", "p-2"]] * 5 + [["p-1", "p-3"]] * 5 + [["p-4"]] * 2}
    s = build(
        tmp_path / "person.jsonl",
        groups=[g],
        plans=plans,
        revote_every=0,
        settings={"voting_system": "person"},
    )
    assert s.result is not None
    lot = s.result["lot"]
    # p-1 has 10; p-2 and p-3 tie with 5 for the last seat: one recorded draw decides.
    assert lot["draws"] and lot["draws"][0]["options"] == ["p-2", "p-3"]
    assert lot["root"] == s.result["lot_checkpoint"]["root"]
    winner = lot["draws"][0]["chosen"][0]
    assert s.result["groups"][0]["elected"] == ["p-1", winner]
    _verify_ok(s.path)


def test_consultation_counts_and_shares(tmp_path: Path) -> None:
    questions = [
        {"id": "q1", "text": "Vierdaagse werkweek?", "rule": "yes_no_abstain"},
        {
            "id": "q2",
            "text": "Welke dagen?",
            "rule": "up_to_k",
            "max_choices": 2,
            "options": [
                {"id": "ma", "text": "maandag"},
                {"id": "vr", "text": "vrijdag"},
                {"id": "wo", "text": "woensdag"},
            ],
        },
    ]
    plans = {
        "all": [{"q1": ["yes"], "q2": ["ma", "vr"]}] * 6
        + [{"q1": ["no"]}] * 3
        + [{"q1": ["abstain"], "q2": ["wo", "wo"]}]
    }
    s = build(tmp_path / "q.jsonl", questions=questions, plans=plans, revote_every=0)
    assert s.result is not None and s.result["groups"] == []
    c = s.result["consultation"]
    assert c["ballots"] == {
        "total": 10,
        "valid": 9,
        "invalid": 1,
        "skipped": 0,
        "invalid_reasons": [{"reason": "duplicate selection wo for question q2", "count": 1}],
    }
    q1 = {o["option"]: o["count"] for o in c["questions"][0]["options"]}
    assert q1 == {"yes": 6, "no": 3, "abstain": 0}
    assert c["questions"][1]["answered"] == 6 and c["questions"][1]["blank"] == 3
    _verify_ok(s.path)


def _log_of(path: Path) -> tuple[ElectionLog, list[tuple[int, dict[str, Any]]]]:
    log = ElectionLog()
    entries = []
    with path.open("rb") as f:
        for raw in f:
            obj = json.loads(raw)
            if "entry" in obj:
                log.add(obj["index"], obj["entry"])
                entries.append((obj["index"], obj["entry"]))
    return log, entries


def test_the_highest_seq_counts_and_a_wrong_key_is_refused(tmp_path: Path) -> None:
    g = _group("all", 3, {"a": 2, "b": 2})
    s = build(
        tmp_path / "seq.jsonl",
        groups=[g],
        plans={"all": _plans({"a-1": 3, "b-1": 2})},
        revote_every=1,
    )
    log, entries = _log_of(s.path)
    ballots = [(i, e) for i, e in entries if e["type"] == "ballot"]
    assert len(ballots) == 10 and len(log.latest) == 5
    assert log.final_indices() == {i for i, e in ballots if e["seq"] == 2}
    assert s.result is not None
    votes = {lst["list"]: lst["votes"] for lst in s.result["groups"][0]["lists"]}
    assert votes == {"a": 3, "b": 2}
    other, _ = sealing.generate_keypair()
    with pytest.raises(TallyError, match="does not match the published sealing key"):
        compute_result(log, other, ballots, (1, b"\0" * 32))


def test_ballots_that_do_not_open_or_parse_are_invalid_with_a_reason(tmp_path: Path) -> None:
    g = _group("all", 3, {"a": 2, "b": 2})
    s = build(tmp_path / "inv.jsonl", groups=[g], plans={"all": _plans({"a-1": 2})}, revote_every=0)
    log, entries = _log_of(s.path)
    definition = log.definitions()[0]
    ballot = next(e for _, e in entries if e["type"] == "ballot")
    size = log.ballot_size
    bad_ct = dict(ballot, ciphertext=b64e(b"\1" * sealing.ciphertext_length(size)))
    assert open_ballot_entry(s.sealing_private, s.election_id, size, bad_ct, definition) == (
        False,
        "does not decrypt",
        None,
    )
    not_json = sealing.seal(log.sealing_key, sealing.pad(b"{nope", size), s.election_id, "all")
    ok, reason, _ = open_ballot_entry(
        s.sealing_private, s.election_id, size, dict(ballot, ciphertext=b64e(not_json)), definition
    )
    assert not ok and reason is not None and reason.startswith("malformed plaintext")
    wrong_group = sealing.seal(
        log.sealing_key,
        sealing.encode_ballot({"election": s.election_id, "group": "x", "selections": []}, size),
        s.election_id,
        "all",
    )
    assert open_ballot_entry(
        s.sealing_private,
        s.election_id,
        size,
        dict(ballot, ciphertext=b64e(wrong_group)),
        definition,
    ) == (False, "wrong group", None)


def test_a_log_that_has_not_closed_cannot_be_tallied() -> None:
    log = ElectionLog()
    log.add(0, {"type": "election_created", "election": "e", "settings": {}})
    with pytest.raises(TallyError, match="not closed"):
        log.check_ready()
