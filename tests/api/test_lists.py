"""Candidate lists: union accounts, free lists, candidates and consent, the submission window,
committee validation, publication to the log (list and person system, E7 no vote needed),
consultation questions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.test_roll_support import (
    import_roll,
    person,
    populated,
    voter_headers,
    voter_id,
)
from tests.conftest import ElectionFixture, bearer

TWO_GROUPS = {
    "seats": 5,
    "kiesgroepen": [
        {"id": "kantoor", "name": "Kantoor", "seats": 3},
        {"id": "productie", "name": "Productie", "seats": 2},
    ],
}


def union(e: ElectionFixture, name: str = "FNV") -> dict[str, str]:
    r = e.client.post(
        e.url("/submitters"),
        json={"union": name, "name": "Bestuurder " + name},
        headers=e.committee,
    )
    assert r.status_code == 201, r.text
    assert r.json()["access_code"]
    h = bearer(e.login(r.json()["access_code"]))
    me = e.client.get(e.url("/lists"), headers=h)
    assert me.status_code == 200, me.text
    return h


def make_list(e, h, group, name, numbers, consent=True) -> int:
    r = e.client.post(e.url("/lists"), json={"kiesgroep": group, "name": name}, headers=h)
    assert r.status_code == 201, r.text
    lid = r.json()["id"]
    ids = [voter_id(e, n) for n in numbers]
    r = e.client.put(e.url(f"/lists/{lid}/candidates"), json={"voter_ids": ids}, headers=h)
    assert r.status_code == 200, r.text
    if consent:
        for n, c in zip(numbers, r.json()["candidates"], strict=True):
            vh = voter_headers(e, n)
            rc = e.client.put(
                e.url(f"/me/candidacies/{c['id']}/consent"), json={"consent": True}, headers=vh
            )
            assert rc.status_code == 200, rc.text
    r = e.client.post(e.url(f"/lists/{lid}/submit"), headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "submitted"
    return int(lid)


def accept(e, lid) -> None:
    r = e.client.post(e.url(f"/lists/{lid}/validation"), json={"accept": True}, headers=e.committee)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"


def two_group_roll(e) -> None:
    rows = [person(i, "kantoor") for i in range(1, 11)] + [
        person(i, "productie") for i in range(11, 21)
    ]
    rows.append(person(21, "kantoor", "2099-01-01"))  # not eligible to stand
    assert import_roll(e, rows).status_code == 200


def test_list_system_publication(make_election):
    e = make_election(TWO_GROUPS)
    two_group_roll(e)
    assert e.transition("candidacy").status_code == 200
    fnv = union(e, "FNV")
    cnv = union(e, "CNV")
    l1 = make_list(e, fnv, "kantoor", "FNV", ["E00001", "E00002"])
    l2 = make_list(e, cnv, "kantoor", "CNV", ["E00003", "E00004", "E00005"])
    l3 = make_list(e, fnv, "productie", "FNV Productie", ["E00011"])
    # Publication waits for validation.
    r = e.transition("lists_published")
    assert r.status_code == 409 and "not yet validated" in r.text
    for lid in (l1, l2, l3):
        accept(e, lid)
    r = e.transition("lists_published")
    assert r.status_code == 200, r.text
    log = e.log()
    [entry] = [x for x in log if x["type"] == "lists_published"]
    assert entry == {
        "type": "lists_published",
        "election": e.id,
        "system": "list",
        "groups": [
            {
                "group": "kantoor",
                "seats": 3,
                "vote_held": True,
                "system": "list",
                "votes_per_voter": 1,
                "lists": [
                    {
                        "id": "l1",
                        "name": "FNV",
                        "kind": "union",
                        "candidates": [
                            {"id": "c1", "name": person(1)["name"], "position": 1},
                            {"id": "c2", "name": person(2)["name"], "position": 2},
                        ],
                    },
                    {
                        "id": "l2",
                        "name": "CNV",
                        "kind": "union",
                        "candidates": [
                            {"id": "c3", "name": person(3)["name"], "position": 1},
                            {"id": "c4", "name": person(4)["name"], "position": 2},
                            {"id": "c5", "name": person(5)["name"], "position": 3},
                        ],
                    },
                ],
            },
            {
                "group": "productie",
                "seats": 2,
                "vote_held": False,
                "system": "list",
                "votes_per_voter": 1,
                "lists": [
                    {
                        "id": "l3",
                        "name": "FNV Productie",
                        "kind": "union",
                        "candidates": [
                            {"id": "c6", "name": person(11)["name"], "position": 1},
                        ],
                    },
                ],
            },
        ],
    }
    # The phase change follows the entry.
    i = log.index(entry)
    assert log[i + 1]["type"] == "phase_changed" and log[i + 1]["to"] == "lists_published"
    status = e.client.get(e.url("/status")).json()
    groups = {g["id"]: g for g in status["groups"]}
    assert status["lists_published"] and groups["productie"]["vote_held"] is False
    assert groups["kantoor"]["vote_held"] is True
    assert groups["kantoor"]["lists"][1]["candidates"][2]["id"] == "c5"


def test_only_consenting_candidates_are_published(make_election):
    e = make_election(TWO_GROUPS)
    two_group_roll(e)
    e.transition("candidacy")
    h = union(e)
    r = e.client.post(e.url("/lists"), json={"kiesgroep": "kantoor", "name": "FNV"}, headers=h)
    lid = r.json()["id"]
    ids = [voter_id(e, n) for n in ("E00001", "E00002", "E00003")]
    r = e.client.put(e.url(f"/lists/{lid}/candidates"), json={"voter_ids": ids}, headers=h)
    cands = r.json()["candidates"]
    assert all("no consent yet" in c["problems"] for c in cands)
    v1, v2 = voter_headers(e, "E00001"), voter_headers(e, "E00002")
    mine = e.client.get(e.url("/me/candidacies"), headers=v1).json()["items"]
    assert mine[0]["list_name"] == "FNV" and mine[0]["consent"] is None
    assert (
        e.client.put(
            e.url(f"/me/candidacies/{cands[0]['id']}/consent"), json={"consent": True}, headers=v1
        ).status_code
        == 200
    )
    assert (
        e.client.put(
            e.url(f"/me/candidacies/{cands[1]['id']}/consent"), json={"consent": False}, headers=v2
        ).status_code
        == 200
    )
    # Another voter cannot answer for E00003.
    r = e.client.put(
        e.url(f"/me/candidacies/{cands[2]['id']}/consent"), json={"consent": True}, headers=v1
    )
    assert r.status_code == 404
    assert e.client.post(e.url(f"/lists/{lid}/submit"), headers=h).status_code == 200
    accept(e, lid)
    # After acceptance consent is final.
    r = e.client.put(
        e.url(f"/me/candidacies/{cands[0]['id']}/consent"), json={"consent": False}, headers=v1
    )
    assert r.status_code == 409 and r.json()["type"] == "/problems/consent-closed"
    assert e.transition("lists_published").status_code == 200
    [entry] = [x for x in e.log() if x["type"] == "lists_published"]
    names = [c["name"] for c in entry["groups"][0]["lists"][0]["candidates"]]
    assert names == [person(1)["name"]]
    # E7: 3 seats, 1 candidate: no vote; productie has no lists at all: no vote either.
    assert [g["vote_held"] for g in entry["groups"]] == [False, False]
    assert entry["groups"][1]["lists"] == []


def test_candidate_rules(make_election):
    e = make_election(TWO_GROUPS)
    two_group_roll(e)
    e.transition("candidacy")
    h = union(e)
    lid = e.client.post(
        e.url("/lists"), json={"kiesgroep": "kantoor", "name": "FNV"}, headers=h
    ).json()["id"]
    bad = [
        voter_id(e, "E00001"),
        voter_id(e, "E00001"),
        voter_id(e, "E00011"),
        voter_id(e, "E00021"),
        987654,
    ]
    r = e.client.put(e.url(f"/lists/{lid}/candidates"), json={"voter_ids": bad}, headers=h)
    assert r.status_code == 422 and r.json()["type"] == "/problems/candidates-invalid"
    reasons = {(x["position"], x["reason"]) for x in r.json()["errors"]}
    assert reasons == {
        (2, "appears twice"),
        (3, "not in kiesgroep kantoor"),
        (4, "not eligible to stand"),
        (5, "not on the roll"),
    }
    # Submitting an empty list is refused; one list per union per kiesgroep.
    r = e.client.post(e.url(f"/lists/{lid}/submit"), headers=h)
    assert r.status_code == 409 and r.json()["type"] == "/problems/list-not-valid"
    r = e.client.post(e.url("/lists"), json={"kiesgroep": "kantoor", "name": "FNV 2"}, headers=h)
    assert r.status_code == 409 and r.json()["type"] == "/problems/list-exists"
    r = e.client.post(e.url("/lists"), json={"kiesgroep": "nergens", "name": "X"}, headers=h)
    assert r.status_code == 404
    # A person consents to at most one list.
    h2 = union(e, "CNV")
    la = make_list(e, h, "productie", "FNV P", ["E00012"])
    lid2 = e.client.post(
        e.url("/lists"), json={"kiesgroep": "productie", "name": "CNV P"}, headers=h2
    ).json()["id"]
    r = e.client.put(
        e.url(f"/lists/{lid2}/candidates"), json={"voter_ids": [voter_id(e, "E00012")]}, headers=h2
    )
    cid = r.json()["candidates"][0]["id"]
    r = e.client.put(
        e.url(f"/me/candidacies/{cid}/consent"),
        json={"consent": True},
        headers=voter_headers(e, "E00012"),
    )
    assert r.status_code == 409 and r.json()["type"] == "/problems/consent-elsewhere"
    # A union account sees only its own lists; the committee sees all.
    assert {x["id"] for x in e.client.get(e.url("/lists"), headers=h2).json()["items"]} == {lid2}
    assert e.client.get(e.url(f"/lists/{la}"), headers=h2).status_code == 404
    assert len(e.client.get(e.url("/lists"), headers=e.committee).json()["items"]) == 3
    # A submitted list cannot change.
    r = e.client.put(e.url(f"/lists/{la}/candidates"), json={"voter_ids": []}, headers=h)
    assert r.status_code == 409 and r.json()["type"] == "/problems/list-wrong-state"


def test_reject_with_reason_then_fix_and_resubmit(election):
    populated(election, 5)
    election.transition("candidacy")
    h = union(election)
    lid = make_list(election, h, "all", "FNV", ["E00001"], consent=False)
    url = election.url(f"/lists/{lid}/validation")
    r = election.client.post(url, json={"accept": True}, headers=election.committee)
    assert r.status_code == 409 and "no candidate has consented" in r.text
    r = election.client.post(url, json={"accept": False}, headers=election.committee)
    assert r.status_code == 409 and "reason" in r.json()["detail"]
    r = election.client.post(
        url, json={"accept": False, "reason": "Geen instemming"}, headers=election.committee
    )
    assert r.status_code == 200 and r.json()["rejection_reason"] == "Geen instemming"
    # The audit trail: the rejection with its reason; the two refused tries before it left no row.
    audit = election.client.get(election.url("/audit"), headers=election.committee).json()
    decided = [x for x in audit["items"] if x["action"].startswith("list_")]
    assert [(x["action"], x["subject"], x["reason"]) for x in decided] == [
        ("list_rejected", f"list:{lid}", "Geen instemming")
    ]
    r = election.client.post(url, json={"accept": True}, headers=election.committee)
    assert r.status_code == 409 and r.json()["type"] == "/problems/list-wrong-state"
    mine = election.client.get(election.url(f"/lists/{lid}"), headers=h).json()
    assert mine["status"] == "rejected" and mine["rejection_reason"] == "Geen instemming"
    cid = mine["candidates"][0]["id"]
    election.client.put(
        election.url(f"/me/candidacies/{cid}/consent"),
        json={"consent": True},
        headers=voter_headers(election, "E00001"),
    )
    assert (
        election.client.post(election.url(f"/lists/{lid}/submit"), headers=h).json()["status"]
        == "submitted"
    )
    accept(election, lid)
    assert election.transition("lists_published").status_code == 200


def test_free_list_by_a_voter(make_election):
    e = make_election(TWO_GROUPS)
    two_group_roll(e)
    e.transition("candidacy")
    vh = voter_headers(e, "E00001")
    body = {"kiesgroep": "kantoor", "name": "Vrije lijst Jansen"}
    r = e.client.post(e.url("/lists"), json=body, headers=vh)
    assert r.status_code == 409 and r.json()["type"] == "/problems/free-list-not-allowed"
    r = e.client.post(
        e.url("/lists"),
        json={**body, "kiesgroep": "productie", "not_union_member": True},
        headers=vh,
    )
    assert r.status_code == 409  # not their own kiesgroep
    r = e.client.post(e.url("/lists"), json={**body, "not_union_member": True}, headers=vh)
    assert r.status_code == 201 and r.json()["kind"] == "free"
    assert r.json()["submitted_by"] == "vrije lijst"
    lid = r.json()["id"]
    e.client.put(
        e.url(f"/lists/{lid}/candidates"),
        json={"voter_ids": [voter_id(e, "E00001"), voter_id(e, "E00002")]},
        headers=vh,
    )
    # Another voter neither sees nor changes it.
    other = voter_headers(e, "E00003")
    assert e.client.get(e.url(f"/lists/{lid}"), headers=other).status_code == 404
    assert e.client.get(e.url("/lists"), headers=other).json()["items"] == []
    # A voter who may not vote cannot submit a free list.
    r = e.client.post(
        e.url("/lists"), json={**body, "not_union_member": True}, headers=voter_headers(e, "E00021")
    )
    assert r.status_code == 409


def test_submission_window(make_election):
    past = datetime.now(UTC) - timedelta(days=2)
    e = make_election(
        {
            "seats": 3,
            "schedule": {
                "candidacy": {
                    "start": (past - timedelta(days=9)).isoformat(),
                    "end": past.isoformat(),
                }
            },
        }
    )
    populated(e, 3)
    h = union(e)
    r = e.client.post(e.url("/lists"), json={"kiesgroep": "all", "name": "FNV"}, headers=h)
    assert r.status_code == 409 and "draft" in r.json()["detail"]
    e.transition("candidacy")
    r = e.client.post(e.url("/lists"), json={"kiesgroep": "all", "name": "FNV"}, headers=h)
    assert r.status_code == 409 and r.json()["type"] == "/problems/submission-window-closed"
    assert e.client.get(e.url("/lists"), headers=h).json()["window_open"] is False


def test_person_system_alphabetical_and_lot(make_election):
    body = {"seats": 2, "voting_system": "person"}
    names = ["Zeeman", "de Vries", "Bakker", "Jansen"]
    results = {}
    for order in ("alphabetical", "lot"):
        e = make_election(body)
        rows = [{**person(i), "name": n} for i, n in enumerate(names, start=1)]
        assert import_roll(e, rows).status_code == 200
        e.transition("candidacy")
        r = e.client.put(e.url("/lists/person-order"), json={"order": order}, headers=e.committee)
        assert r.status_code == 200
        h1, h2 = union(e, "FNV"), union(e, "CNV")
        accept(e, make_list(e, h1, "all", "FNV", ["E00001", "E00002"]))
        accept(e, make_list(e, h2, "all", "CNV", ["E00003", "E00004"]))
        before = e.client.get(e.url("/log/entries")).json()
        assert e.transition("lists_published").status_code == 200
        [entry] = [x for x in e.log() if x["type"] == "lists_published"]
        [group] = entry["groups"]
        assert group["votes_per_voter"] == 2 and group["system"] == "person" and group["vote_held"]
        [lst] = group["lists"]
        assert lst["kind"] == "person" and lst["id"] == "l1"
        assert [c["id"] for c in lst["candidates"]] == ["c1", "c2", "c3", "c4"]
        results[order] = ([c["name"] for c in lst["candidates"]], before)
        r = e.client.put(e.url("/lists/person-order"), json={"order": "lot"}, headers=e.committee)
        assert r.status_code == 409
    assert results["alphabetical"][0] == ["Bakker", "de Vries", "Jansen", "Zeeman"]
    # The lot order is recomputable from the public log (module docstring of publication).
    import hashlib

    from rules.lot import Lot

    page = results["lot"][1]
    seed = hashlib.sha256(b"".join(bytes.fromhex(x["leaf_hash"]) for x in page["entries"]))
    alpha = ["Bakker", "de Vries", "Jansen", "Zeeman"]
    order = Lot(seed.digest()).shuffle([str(i) for i in range(4)], purpose="order all")
    assert results["lot"][0] == [alpha[int(k)] for k in order]


def test_consultation_publishes_questions(make_election):
    q = {
        "id": "q1",
        "text": "Moet de kantine 's avonds open?",
        "rule": "yes_no_abstain",
    }
    e = make_election({"kind": "consultation", "questions": [q]})
    assert e.transition("lists_published").status_code == 200
    [entry] = [x for x in e.log() if x["type"] == "questions_published"]
    assert entry == {
        "type": "questions_published",
        "election": e.id,
        "questions": [
            {
                "id": "q1",
                "text": "Moet de kantine 's avonds open?",
                "rule": "yes_no_abstain",
                "max_choices": 1,
                "options": [
                    {"id": "yes", "text": "Ja"},
                    {"id": "no", "text": "Nee"},
                    {"id": "abstain", "text": "Onthouding"},
                ],
            }
        ],
    }
    st = e.client.get(e.url("/status")).json()
    assert st["questions"][0]["id"] == "q1"
    empty = make_election({"kind": "consultation"})
    r = empty.transition("lists_published")
    assert r.status_code == 409 and "question" in r.text


def test_publication_needs_an_accepted_list(election):
    populated(election, 3)
    election.transition("candidacy")
    r = election.transition("lists_published")
    assert r.status_code == 409
    assert "no accepted list" in r.text


def test_status_before_publication_and_submitter_accounts(election):
    populated(election, 3)
    st = election.client.get(election.url("/status")).json()
    assert st["roll_frozen"] is False and st["groups"][0]["voters"] is None
    assert st["groups"][0]["vote_held"] is None
    election.transition("candidacy")
    election.client.post(election.url("/roll/freeze"), headers=election.committee)
    st = election.client.get(election.url("/status")).json()
    assert st["roll_frozen"] and st["groups"][0]["voters"] == 3
    r = election.client.post(
        election.url("/submitters"),
        json={"union": "FNV", "name": "Piet"},
        headers=election.committee,
    )
    sid, code = r.json()["id"], r.json()["access_code"]
    assert (
        election.client.get(election.url("/submitters"), headers=election.committee).json()[
            "items"
        ][0]["union"]
        == "FNV"
    )
    r = election.client.post(election.url(f"/submitters/{sid}/code"), headers=election.committee)
    assert r.status_code == 200 and r.json()["access_code"] != code
    assert election.client.post(election.url("/login"), json={"code": code}).status_code == 401
    tok = election.client.post(election.url("/login"), json={"code": r.json()["access_code"]})
    assert tok.json()["roles"] == ["submitter"]
    assert (
        election.client.post(
            election.url("/submitters/999/code"), headers=election.committee
        ).status_code
        == 404
    )


def test_person_order_is_read_back(make_election):
    """GET …/lists/person-order: the stored order (alphabetical until chosen), the lot's seed
    only once the lists are published, and the same seed the publication used."""
    e = make_election({"seats": 2, "voting_system": "person"})
    url = e.url("/lists/person-order")
    r = e.client.get(url, headers=e.committee)
    assert r.status_code == 200 and r.json() == {"order": "alphabetical", "lot_seed": None}
    assert e.client.get(url).status_code == 401
    names = ["Zeeman", "de Vries", "Bakker", "Jansen"]
    rows = [{**person(i), "name": n} for i, n in enumerate(names, start=1)]
    assert import_roll(e, rows).status_code == 200
    e.transition("candidacy")
    assert e.client.put(url, json={"order": "lot"}, headers=e.committee).status_code == 200
    assert e.client.get(url, headers=e.committee).json() == {"order": "lot", "lot_seed": None}
    assert e.client.put(url, json={"order": "alphabetical"}, headers=e.committee).status_code == 200
    assert e.client.get(url, headers=e.committee).json()["order"] == "alphabetical"
    assert e.client.put(url, json={"order": "lot"}, headers=e.committee).status_code == 200
    h1, h2 = union(e, "FNV"), union(e, "CNV")
    accept(e, make_list(e, h1, "all", "FNV", ["E00001", "E00002"]))
    accept(e, make_list(e, h2, "all", "CNV", ["E00003", "E00004"]))
    before = e.client.get(e.url("/log/entries")).json()
    assert e.transition("lists_published").status_code == 200
    got = e.client.get(url, headers=e.committee).json()
    import hashlib

    from rules.lot import Lot

    root = hashlib.sha256(b"".join(bytes.fromhex(x["leaf_hash"]) for x in before["entries"]))
    assert got == {"order": "lot", "lot_seed": Lot(root.digest()).seed.hex()}
