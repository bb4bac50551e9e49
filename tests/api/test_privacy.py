"""Personal data (the roll, e-mail addresses, nominations, objections) never appears in the
public log or in any public endpoint. Candidates' names are public by law (WOR art. 9) and are
left out of the name check; their e-mail addresses and employee numbers are not."""

from __future__ import annotations

import re

from tests.api.test_authz import RULES
from tests.api.test_lists import accept, make_list, union
from tests.api.test_roll_support import import_roll, person, voter_headers, voter_id


def test_no_personal_data_in_public_responses(make_election, app):
    e = make_election({"seats": 3, "kiesgroepen": [{"id": "all", "name": "Iedereen", "seats": 3}]})
    rows = [person(i) for i in range(1, 13)]
    rows[5] = {**rows[5], "agency_worker": "ja", "employment_start": "2026-11-01"}
    assert import_roll(e, rows).status_code == 200
    # Codes, objections, nominations.
    e.client.post(e.url("/invitations/export"), json={}, headers=e.committee)
    h = voter_headers(e, "E00007")
    e.client.post(e.url("/me/objections"), json={"text": "Mijn naam is fout gespeld"}, headers=h)
    assert e.transition("nomination").status_code == 200
    for n in ("E00001", "E00002", "E00003"):
        e.client.post(
            e.url("/nominations"),
            json={"nominee_id": voter_id(e, "E00004"), "motivation": "Zeer geschikt"},
            headers=voter_headers(e, n),
        )
    assert e.transition("candidacy").status_code == 200
    assert e.client.post(e.url("/roll/freeze"), headers=e.committee).status_code == 200
    fnv = union(e, "FNV")
    accept(e, make_list(e, fnv, "all", "FNV", ["E00004", "E00005", "E00009"]))
    free = voter_headers(e, "E00008")
    r = e.client.post(
        e.url("/lists"),
        json={"kiesgroep": "all", "name": "Vrije lijst", "not_union_member": True},
        headers=free,
    )
    lid = r.json()["id"]
    e.client.put(
        e.url(f"/lists/{lid}/candidates"), json={"voter_ids": [voter_id(e, "E00008")]}, headers=free
    )
    cid = e.client.get(e.url("/me/candidacies"), headers=free).json()["items"][0]["candidate_id"]
    e.client.put(e.url(f"/me/candidacies/{cid}/consent"), json={"consent": True}, headers=free)
    e.client.post(e.url(f"/lists/{lid}/submit"), headers=free)
    accept(e, lid)
    assert e.transition("lists_published").status_code == 200
    candidates = {"E00004", "E00005", "E00009", "E00008"}

    # Every public GET route, of every domain.
    texts: dict[str, str] = {}
    for (method, template), roles in RULES.items():
        if method != "GET" or "anonymous" not in roles:
            continue
        url = template.replace("{election_id}", e.id)
        url = re.sub(r"\{[^}]+\}", "0", url)
        texts[url] = e.client.get(url).text
    start: int | None = 0
    while start is not None:
        page = e.client.get(e.url("/log/entries"), params={"start": start, "limit": 1000})
        texts[f"log@{start}"] = page.text
        start = page.json()["next"]
    assert any('"lists_published"' in t for t in texts.values())
    assert any(person(4)["name"] in t for t in texts.values())  # candidates are public
    for url, text in texts.items():
        low = text.lower()
        for r in rows:
            assert r["email"].lower() not in low, (url, "email")
            assert r["employee_number"].lower() not in low, (url, "employee number")
            if r["employee_number"] not in candidates:
                assert r["name"].lower() not in low, (url, r["name"])
        for secret in ("Mijn naam is fout gespeld", "Zeer geschikt"):
            assert secret not in text, (url, secret)
    assert len(texts) >= 5
