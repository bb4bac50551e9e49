"""The nomination campaign: search, nominate (scope, limit, no self, no duplicates, eligible),
ranking, approach, accept/decline, and that no endpoint reveals who nominated whom."""

from __future__ import annotations

import json

from tests.api.test_roll_support import import_roll, person, voter_headers, voter_id

SETTINGS = {
    "seats": 5,
    "kiesgroepen": [
        {"id": "kantoor", "name": "Kantoor", "seats": 3},
        {"id": "productie", "name": "Productie", "seats": 2},
    ],
    "nomination": {"scope": "kiesgroep", "max_per_voter": 2},
}


def setup(make_election, settings=SETTINGS):  # type: ignore[no-untyped-def]
    e = make_election(settings)
    rows = [person(i, "kantoor") for i in range(1, 7)] + [person(7, "productie")]
    rows.append({**person(8, "kantoor", "2099-01-01"), "name": "Nieuwkomer Recent"})
    assert import_roll(e, rows).status_code == 200
    return e, rows


def nominate(e, h, number, motivation=None):  # type: ignore[no-untyped-def]
    body = {"nominee_id": voter_id(e, number)}
    if motivation:
        body["motivation"] = motivation
    return e.client.post(e.url("/nominations"), json=body, headers=h)


def test_colleague_search(make_election):
    e, _ = setup(make_election)
    h = voter_headers(e, "E00001")
    r = e.client.get(e.url("/colleagues"), params={"q": "medewerker"}, headers=h)
    assert r.status_code == 200
    items = r.json()["items"]
    assert {tuple(sorted(i)) for i in items} == {("id", "kiesgroep", "name")}
    names = [i["name"] for i in items]
    assert person(1)["name"] not in names  # not yourself
    assert "Nieuwkomer Recent" not in names  # not eligible to stand
    assert len(names) == 6
    assert "@" not in r.text and "E0000" not in r.text
    r = e.client.get(e.url("/colleagues"), params={"q": "m"}, headers=h)
    assert r.status_code == 422
    r = e.client.get(e.url("/colleagues"), params={"q": "%_"}, headers=h)
    assert r.json()["items"] == []
    r = e.client.get(
        e.url("/colleagues"), params={"q": "medew", "kiesgroep": "productie"}, headers=h
    )
    assert [i["name"] for i in r.json()["items"]] == [person(7)["name"]]
    # At most 20 matches.
    e2 = make_election({"seats": 3})
    assert import_roll(e2, [person(i) for i in range(1, 40)]).status_code == 200
    r = e2.client.get(
        e2.url("/colleagues"), params={"q": "achternaam"}, headers=voter_headers(e2, "E00001")
    )
    assert len(r.json()["items"]) == 20


def test_nomination_rules(make_election):
    e, _ = setup(make_election)
    h = voter_headers(e, "E00001")
    r = nominate(e, h, "E00002")
    assert r.status_code == 409 and r.json()["type"] == "/problems/nomination-closed"
    assert e.transition("nomination").status_code == 200
    r = nominate(e, h, "E00001")
    assert r.status_code == 409 and "yourself" in r.json()["detail"]
    r = nominate(e, h, "E00007")
    assert r.status_code == 409 and "kiesgroep" in r.json()["detail"]
    r = nominate(e, h, "E00008")
    assert r.status_code == 409 and "eligible" in r.json()["detail"]
    r = e.client.post(e.url("/nominations"), json={"nominee_id": 99999999}, headers=h)
    assert r.status_code == 404
    r = e.client.post(
        e.url("/nominations"),
        json={"nominee_id": voter_id(e, "E00002"), "motivation": "x" * 501},
        headers=h,
    )
    assert r.status_code == 422
    r = nominate(e, h, "E00002", "Goede luisteraar")
    assert r.status_code == 201 and r.json() == {"remaining": 1}
    r = nominate(e, h, "E00002")
    assert r.status_code == 409 and r.json()["type"] == "/problems/already-nominated"
    assert nominate(e, h, "E00003").status_code == 201
    r = nominate(e, h, "E00004")
    assert r.status_code == 409 and r.json()["type"] == "/problems/nomination-limit"
    mine = e.client.get(e.url("/me/nominations"), headers=h).json()
    assert mine["made"] == 2 and mine["remaining"] == 0 and mine["campaign_open"]
    assert sorted(x["name"] for x in mine["nominated"]) == [person(2)["name"], person(3)["name"]]
    # A voter who may not vote cannot nominate.
    r = nominate(e, voter_headers(e, "E00008"), "E00002")
    assert r.status_code == 409


def test_scope_any(make_election):
    e, _ = setup(make_election, {**SETTINGS, "nomination": {"scope": "any", "max_per_voter": 1}})
    e.transition("nomination")
    assert nominate(e, voter_headers(e, "E00001"), "E00007").status_code == 201


def test_ranking_approach_and_response(make_election):
    e, rows = setup(make_election)
    e.transition("nomination")
    nominators = ["E00001", "E00003", "E00004"]
    for n, text in zip(nominators, ["Kritisch", "Betrokken", None], strict=True):
        assert nominate(e, voter_headers(e, n), "E00002", text).status_code == 201
    assert nominate(e, voter_headers(e, "E00001"), "E00005", "Rustig").status_code == 201
    r = e.client.get(e.url("/nominations/ranking"), headers=e.committee)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [(i["name"], i["nominations"]) for i in items] == [
        (person(2)["name"], 3),
        (person(5)["name"], 1),
    ]
    assert items[0]["motivations"] == ["Betrokken", "Kritisch"]
    nominee = voter_headers(e, "E00002")
    seen = e.client.get(e.url("/me/nominations"), headers=nominee).json()
    assert seen["received"] == 3 and seen["response"] is None and not seen["approached"]
    # Approach and answer.
    vid = voter_id(e, "E00002")
    r = e.client.post(e.url(f"/nominations/nominees/{vid}/approached"), headers=e.committee)
    assert r.status_code == 200 and r.json()["approached"]
    r = e.client.post(
        e.url(f"/nominations/nominees/{voter_id(e, 'E00006')}/approached"), headers=e.committee
    )
    assert r.status_code == 409 and r.json()["type"] == "/problems/not-nominated"
    r = e.client.post(e.url("/nominations/nominees/99999999/approached"), headers=e.committee)
    assert r.status_code == 404
    r = e.client.put(
        e.url("/me/nomination/response"), json={"accept": True}, headers=voter_headers(e, "E00006")
    )
    assert r.status_code == 409 and r.json()["type"] == "/problems/not-nominated"
    r = e.client.put(e.url("/me/nomination/response"), json={"accept": True}, headers=nominee)
    assert r.status_code == 200 and r.json()["response"] == "accepted"
    r = e.client.put(
        e.url("/me/nomination/response"), json={"accept": False}, headers=voter_headers(e, "E00005")
    )
    assert r.json()["response"] == "declined"
    ranking = e.client.get(e.url("/nominations/ranking"), headers=e.committee).json()["items"]
    assert (ranking[0]["approached"], ranking[0]["response"]) == (True, "accepted")
    # An accepted nominee can be put on a list: submitters see them, then place them.
    e.transition("candidacy")
    r = e.client.post(
        e.url("/submitters"), json={"union": "FNV", "name": "Piet"}, headers=e.committee
    )
    from tests.conftest import bearer

    fnv = bearer(e.login(r.json()["access_code"]))
    pool = e.client.get(e.url("/nominations/accepted"), headers=fnv).json()["items"]
    assert pool == [{"id": vid, "name": person(2)["name"], "kiesgroep": "kantoor"}]
    lid = e.client.post(
        e.url("/lists"), json={"kiesgroep": "kantoor", "name": "FNV"}, headers=fnv
    ).json()["id"]
    r = e.client.put(
        e.url(f"/lists/{lid}/candidates"), json={"voter_ids": [pool[0]["id"]]}, headers=fnv
    )
    assert r.status_code == 200 and r.json()["candidates"][0]["name"] == person(2)["name"]
    # Answers are possible in candidacy too, and close with the election.
    r = e.client.put(e.url("/me/nomination/response"), json={"accept": False}, headers=nominee)
    assert r.status_code == 200
    assert (
        e.client.post(e.url("/cancel"), json={"reason": "test"}, headers=e.committee).status_code
        == 200
    )
    # The nominee's token died with the election (issue 12), so the answer is refused as such.
    r = e.client.put(e.url("/me/nomination/response"), json={"accept": True}, headers=nominee)
    assert r.status_code == 401 and r.json()["type"] == "/problems/token-revoked"


def test_no_endpoint_reveals_who_nominated_whom(make_election):
    """The committee's and the nominee's views, and the public ones, never name a nominator."""
    e, rows = setup(make_election)
    e.transition("nomination")
    nominators = ["E00001", "E00003", "E00004"]
    for n in nominators:
        assert nominate(e, voter_headers(e, n), "E00002", "Een motivatie").status_code == 201
    nominee_h = voter_headers(e, "E00002")
    vid = voter_id(e, "E00002")
    e.client.post(e.url(f"/nominations/nominees/{vid}/approached"), headers=e.committee)
    e.client.put(e.url("/me/nomination/response"), json={"accept": True}, headers=nominee_h)
    responses = [
        e.client.get(e.url("/nominations/ranking"), headers=e.committee),
        e.client.get(e.url("/nominations/accepted"), headers=e.committee),
        e.client.get(e.url("/me/nominations"), headers=nominee_h),
        e.client.get(e.url("/me/registration"), headers=nominee_h),
        e.client.get(e.url("/roll/objections"), headers=e.committee),
        e.client.get(e.url("/lists"), headers=e.committee),
        e.client.get(e.url("/status")),
        e.client.get(e.url("")),
        e.client.get(e.url("/log/entries")),
    ]
    by_number = {r["employee_number"]: r for r in rows}
    for r in responses:
        assert r.status_code == 200, r.text
        text = r.text
        for n in nominators:
            nid = voter_id(e, n)
            assert by_number[n]["name"] not in text, (r.url, n)
            assert n not in text
            assert not _has_id(json.loads(text), nid), (r.url, n)
    # Ids: the ranking carries only the nominee's id.
    ranking = responses[0].json()["items"]
    assert [i["voter_id"] for i in ranking] == [vid]
    assert set(ranking[0]) == {
        "voter_id",
        "name",
        "kiesgroep",
        "may_stand",
        "nominations",
        "motivations",
        "approached",
        "response",
    }
    # The database itself has no nominator column.
    from api.nominations.models import Nomination

    assert not {"nominator_id", "voter_id"} & set(Nomination.model_fields)


def _has_id(obj, value):  # type: ignore[no-untyped-def]
    """Whether any `*_id`/`id` field in the document equals `value`."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if (k == "id" or k.endswith("_id")) and v == value:
                return True
            if _has_id(v, value):
                return True
    elif isinstance(obj, list):
        return any(_has_id(x, value) for x in obj)
    return False


def test_no_response_outside_nomination_and_candidacy(make_election):
    e, _ = setup(make_election)  # still in draft
    r = e.client.put(
        e.url("/me/nomination/response"),
        json={"accept": True},
        headers=voter_headers(e, "E00002"),
    )
    assert r.status_code == 409 and r.json()["type"] == "/problems/response-closed"
