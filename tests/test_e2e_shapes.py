"""Every shape of election reaches `tallied` with a result and a results page, through the HTTP
API, and ends with `stembus verify` on the downloaded record (issue 13, item 1):

* no kiesgroep contested (no keys, no ceremony: lists_published → tallied; docs/rules.md),
* some kiesgroepen contested, some not,
* the person system,
* a consultation, and a consultation held in two kiesgroepen (counted per group and in total),
* a kiesgroep whose every voter abstains (blank ballots) next to one with a single voter.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.ceremony import make_ceremony, read_share, submit_share, upload_public_key
from cli.client import StembusClient
from cli.main import app as cli_app
from rules.record import verify_record
from tests.api.contract_types import assert_record_is_typed
from tests.conftest import bearer

API = "/api/v1"
runner = CliRunner()


class Shape:
    """One election driven through the API: operator, committee chair (trustee 1), two more
    trustees, union submitters, candidates and voters, each with their own login."""

    def __init__(self, client: Any, operator: dict[str, str], settings: dict[str, Any]) -> None:
        self.c = client
        body = {"name": "OR-verkiezing 2027", "organisation": "Acme B.V.", "settings": settings}
        self.id = self.ok(client.post(f"{API}/elections", json=body, headers=operator), 201)["id"]
        self.kind = settings.get("kind", "works_council")
        self.member_codes = [
            self.ok(
                client.post(
                    self.url("/members"),
                    json={"name": name, "committee": i == 0, "trustee": True},
                    headers=operator,
                ),
                201,
            )["access_code"]
            for i, name in enumerate(["Voorzitter", "Sleutelhouder 2", "Sleutelhouder 3"])
        ]
        self.chair = self.login(self.member_codes[0])
        self.codes: dict[str, str] = {}
        self.ids: dict[str, str] = {}
        self.cand: dict[str, str] = {}  # employee number -> published candidate id

    def url(self, suffix: str = "") -> str:
        return f"{API}/elections/{self.id}{suffix}"

    def ok(self, r: Any, status: int = 200) -> Any:
        assert r.status_code == status, r.text
        return r.json() if "json" in r.headers.get("content-type", "") else r

    def login(self, code: str) -> dict[str, str]:
        r = self.c.post(self.url("/login"), json={"code": code})
        return bearer(self.ok(r)["access_token"])

    def to(self, phase: str) -> Any:
        return self.ok(
            self.c.post(self.url("/transitions"), json={"to": phase}, headers=self.chair)
        )

    def roll(self, people: dict[str, str]) -> None:
        """``people``: employee number -> kiesgroep (names "Naam <number>")."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["employee_number", "name", "email", "kiesgroep", "employment_start"])
        for number, group in people.items():
            w.writerow([number, f"Naam {number}", "", group, "2015-01-01"])
        self.ok(
            self.c.post(
                self.url("/roll/import"),
                content=out.getvalue().encode(),
                headers={**self.chair, "Content-Type": "text/csv"},
            )
        )
        export = self.ok(self.c.post(self.url("/invitations/export"), json={}, headers=self.chair))
        self.codes = {
            r["employee_number"]: r["access_code"] for r in csv.DictReader(io.StringIO(export.text))
        }
        page = self.ok(
            self.c.get(self.url("/roll/voters"), params={"limit": 100}, headers=self.chair)
        )
        self.ids = {v["employee_number"]: v["id"] for v in page["items"]}

    def publish(self, lists: list[tuple[str, str, list[str]]]) -> dict[str, Any]:
        """Union lists ``(kiesgroep, union, candidates)``; candidates consent; publication."""
        if self.kind == "consultation":
            self.to("lists_published")
            self.ok(self.c.post(self.url("/roll/freeze"), headers=self.chair))
            return self.ok(self.c.get(self.url("/status")))
        self.to("candidacy")
        unions: dict[str, dict[str, str]] = {}
        for group, union, cands in lists:
            if union not in unions:
                s = self.ok(
                    self.c.post(
                        self.url("/submitters"),
                        json={"union": union, "name": "Bestuurder"},
                        headers=self.chair,
                    ),
                    201,
                )
                unions[union] = self.login(s["access_code"])
            h = unions[union]
            lst = self.ok(
                self.c.post(
                    self.url("/lists"), json={"kiesgroep": group, "name": union}, headers=h
                ),
                201,
            )
            got = self.ok(
                self.c.put(
                    self.url(f"/lists/{lst['id']}/candidates"),
                    json={"voter_ids": [self.ids[n] for n in cands]},
                    headers=h,
                )
            )
            for n, cand in zip(cands, got["candidates"], strict=True):
                self.ok(
                    self.c.put(
                        self.url(f"/me/candidacies/{cand['id']}/consent"),
                        json={"consent": True},
                        headers=self.login(self.codes[n]),
                    )
                )
            self.ok(self.c.post(self.url(f"/lists/{lst['id']}/submit"), headers=h))
            self.ok(
                self.c.post(
                    self.url(f"/lists/{lst['id']}/validation"),
                    json={"accept": True},
                    headers=self.chair,
                )
            )
        self.ok(self.c.post(self.url("/roll/freeze"), headers=self.chair))
        self.to("lists_published")
        status = self.ok(self.c.get(self.url("/status")))
        self.cand = {
            c["name"].removeprefix("Naam "): c["id"]
            for g in status["groups"]
            for lst in g["lists"]
            for c in lst["candidates"]
        }
        return status

    def vote_and_tally(self, votes: dict[str, Any], tmp_path: Path) -> None:
        """Ceremony (2 of 3), voting with the SDK, closing, two shares: the tally."""
        public, files = make_ceremony(self.id, 2, 3, tmp_path / "shares")
        upload_public_key(self.c, "", self.id, self.chair["Authorization"][7:], public, 2, 3)
        self.to("voting")
        sdk = StembusClient("http://testserver", http=self.c)
        for number, choice in votes.items():
            sel = choice if isinstance(choice, dict) else [self.cand[x] for x in choice]
            sdk.vote(self.id, self.codes[number], sel)
        self.to("closed")
        jsons = sorted(p for p in files if p.suffix == ".json")
        for member, share in ((0, jsons[0]), (2, jsons[2])):
            token = self.login(self.member_codes[member])["Authorization"][7:]
            st = submit_share(self.c, "", self.id, token, read_share(share))
        assert st["status"] == "tallied", st

    def finish(self, tmp_path: Path) -> dict[str, Any]:
        """The result, the page, and `stembus verify` on the downloaded record."""
        assert self.ok(self.c.get(self.url()))["status"] == "tallied"
        res = self.ok(self.c.get(self.url("/results")))
        page = self.c.get(self.url("/results/page"))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        record = tmp_path / "record.jsonl"
        got = self.c.get(self.url("/record"))
        assert got.status_code == 200
        record.write_bytes(got.content)
        assert assert_record_is_typed(got.content)["result"] == 1
        key = self.ok(self.c.get(self.url("/log/key")))["verifier_key"]
        r = runner.invoke(cli_app, ["verify", str(record), "--log-key", key, "--workers", "1"])
        assert r.exit_code == 0, r.output
        assert "VERIFIED" in r.output
        return dict(res["result"], _names=res["names"], _page=page.text)


def group(res: dict[str, Any], gid: str) -> dict[str, Any]:
    return next(g for g in res["groups"] if g["group"] == gid)


def seats(res: dict[str, Any], gid: str) -> dict[str, int]:
    names = res["_names"]["lists"]
    return {names[x["list"]]: x["seats"] for x in group(res, gid)["lists"]}


def test_no_kiesgroep_contested_goes_from_publication_to_the_result(
    client, operator_headers, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    s = Shape(
        client,
        operator_headers,
        {
            "kiesgroepen": [
                {"id": "a", "name": "Afdeling A", "seats": 3},
                {"id": "b", "name": "B", "seats": 2},
            ]
        },
    )
    s.roll({"A1": "a", "A2": "a", "A3": "a", "B1": "b", "B2": "b"})
    status = s.publish([("a", "FNV", ["A1", "A2"]), ("b", "CNV", ["B1", "B2"])])
    assert [g["vote_held"] for g in status["groups"]] == [False, False]
    # No keys are needed, and the API says so instead of "no published ballot definition".
    r = client.post(
        s.url("/voting/keys"),
        json={"sealing_key": "A" * 43 + "=", "trustees": {"k": 1, "n": 1}},
        headers=s.chair,
    )
    assert r.status_code == 409 and r.json()["type"] == "/problems/no-vote-needed"
    # Voting cannot open (no keys); the committee publishes the result instead.
    r = client.post(s.url("/transitions"), json={"to": "voting"}, headers=s.chair)
    assert r.status_code == 409 and "no kiesgroep holds a vote" in r.json()["detail"]
    s.to("tallied")
    res = s.finish(tmp_path)
    assert res["lot"] is None and res["lot_checkpoint"] is None
    assert res["ballots"] == {"entries": 0, "credentials": 0, "superseded": 0}
    a, b = group(res, "a"), group(res, "b")
    assert not a["vote_held"] and a["vacant_seats"] == 1 and len(a["elected"]) == 2
    assert not b["vote_held"] and b["vacant_seats"] == 0
    assert [x["eligible"] for x in res["turnout"]] == [3, 2]
    assert "without a vote" in res["_page"] or "zonder stemming" in res["_page"]
    log = [e["entry"]["type"] for e in client.get(s.url("/log/entries")).json()["entries"]]
    assert log[-2:] == ["result", "phase_changed"] and "keys" not in log
    # The audit trail names the committee's decision and the tally without a vote (newest first).
    trail = client.get(s.url("/audit"), headers=s.chair).json()["items"]
    assert [(x["action"], x["actor"]["role"]) for x in trail[:2]] == [
        ("phase_changed", "committee"),
        ("tally_completed", "system"),
    ]
    assert trail[1]["details"] == {"uncontested": True}
    # The verifier recomputes that result: a forged one (a vacant seat hidden) fails "result".
    lines = (tmp_path / "record.jsonl").read_bytes().splitlines(keepends=True)
    k = next(i for i, x in enumerate(lines) if b'"type":"result"' in x)
    forged = lines[k].replace(b'"vacant_seats":1', b'"vacant_seats":0', 1)
    assert forged != lines[k]
    report = verify_record(lambda: iter([*lines[:k], forged, *lines[k + 1 :]]))
    assert not report.ok and "result" in {f.check for f in report.failures}
    # A result of another format version does not pass as this one.
    assert b'"version":2' in lines[k]
    older = lines[k].replace(b'"version":2', b'"version":1', 1)
    report = verify_record(lambda: iter([*lines[:k], older, *lines[k + 1 :]]))
    assert not report.ok
    assert any(f.check == "result" and "result.version" in f.message for f in report.failures)


def test_a_contested_election_cannot_skip_the_vote(client, operator_headers) -> None:  # type: ignore[no-untyped-def]
    s = Shape(client, operator_headers, {"seats": 1})
    s.roll({"A1": "all", "A2": "all", "A3": "all"})
    s.publish([("all", "FNV", ["A1", "A2"])])
    r = client.post(s.url("/transitions"), json={"to": "tallied"}, headers=s.chair)
    assert r.status_code == 409 and r.json()["type"] == "/problems/transition-conditions-unmet"
    assert "hold a vote" in r.json()["detail"]


def test_some_kiesgroepen_contested(client, operator_headers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    s = Shape(
        client,
        operator_headers,
        {
            "kiesgroepen": [
                {"id": "p", "name": "Productie", "seats": 2},
                {"id": "m", "name": "Management", "seats": 1},
            ]
        },
    )
    s.roll({"P1": "p", "P2": "p", "P3": "p", "P4": "p", "M1": "m", "M2": "m"})
    s.publish([("p", "FNV", ["P1", "P2"]), ("p", "CNV", ["P3"]), ("m", "VHP", ["M1"])])
    s.vote_and_tally({"P1": ["P1"], "P2": ["P1"], "P3": ["P3"], "P4": ["P3"]}, tmp_path)
    res = s.finish(tmp_path)
    assert seats(res, "p") == {"FNV": 1, "CNV": 1}  # 4 valid, quota 2: one full seat each
    m = group(res, "m")
    assert not m["vote_held"] and m["elected"] == [s.cand["M1"]]


def test_person_system(client, operator_headers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    s = Shape(client, operator_headers, {"seats": 3, "voting_system": "person"})
    s.roll({f"V{i}": "all" for i in range(1, 7)})
    s.publish([("all", "FNV", ["V1", "V2"]), ("all", "CNV", ["V3", "V4"])])
    votes = {"V1": ["V1", "V3"], "V2": ["V1"], "V3": ["V3", "V1", "V2"], "V5": [], "V6": ["V1"]}
    s.vote_and_tally(votes, tmp_path)
    res = s.finish(tmp_path)
    g = group(res, "all")
    assert g["system"] == "person"
    # V1 4 votes, V3 2, V2 1, V4 0: three seats to V1, V3, V2; V4 (no votes) a successor.
    assert g["elected"] == [s.cand["V1"], s.cand["V3"], s.cand["V2"]]
    assert g["person_election"]["successors"] == [s.cand["V4"]]
    assert g["ballots"]["blank"] == 1


def test_consultation(client, operator_headers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    q = [{"id": "q1", "text": "Akkoord?", "rule": "yes_no_abstain"}]
    s = Shape(client, operator_headers, {"kind": "consultation", "questions": q})
    s.roll({"V1": "all", "V2": "all", "V3": "all"})
    s.publish([])
    s.vote_and_tally({"V1": {"q1": ["yes"]}, "V2": {"q1": ["no"]}, "V3": {"q1": ["yes"]}}, tmp_path)
    res = s.finish(tmp_path)
    counts = {o["option"]: o["count"] for o in res["consultation"]["questions"][0]["options"]}
    assert counts == {"yes": 2, "no": 1, "abstain": 0}
    assert [g["group"] for g in res["consultation"]["groups"]] == ["all"]


def test_consultation_in_two_kiesgroepen_counts_per_group_and_in_total(
    client, operator_headers, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    q = [{"id": "q1", "text": "Akkoord?", "rule": "yes_no_abstain"}]
    settings = {
        "kind": "consultation",
        "questions": q,
        "kiesgroepen": [{"id": "a", "name": "Productie"}, {"id": "b", "name": "Kantoor"}],
        # Two ballots per group: shown per group only with the minimum lowered to 2 (the
        # default 10 merges them; test_consultation_kinds.py tests that).
        "min_group_size": 2,
    }
    s = Shape(client, operator_headers, settings)
    s.roll({"A1": "a", "A2": "a", "B1": "b", "B2": "b"})
    s.publish([])
    votes = {"A1": {"q1": ["yes"]}, "A2": {"q1": ["yes"]}, "B1": {"q1": ["no"]}, "B2": {}}
    s.vote_and_tally(votes, tmp_path)
    res = s.finish(tmp_path)
    c = res["consultation"]

    def count(q: dict[str, Any]) -> dict[str, int]:
        return {o["option"]: o["count"] for o in q["questions"][0]["options"]}

    assert count(c) == {"yes": 2, "no": 1, "abstain": 0} and c["ballots"]["total"] == 4
    per = {g["group"]: g for g in c["groups"]}
    assert count(per["a"]) == {"yes": 2, "no": 0, "abstain": 0}
    assert count(per["b"]) == {"yes": 0, "no": 1, "abstain": 0}
    assert per["b"]["questions"][0]["blank"] == 1
    assert [t["voted"] for t in res["turnout"]] == [2, 2]


def test_a_group_where_everyone_abstains_and_a_group_with_one_voter(
    client, operator_headers, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    groups = [
        {"id": "leeg", "name": "Leeg", "seats": 1},
        {"id": "een", "name": "Eén", "seats": 1},
        {"id": "stil", "name": "Stil", "seats": 1},
    ]
    s = Shape(client, operator_headers, {"kiesgroepen": groups})
    s.roll(
        {
            "L1": "leeg",
            "L2": "leeg",
            "L3": "leeg",
            "E1": "een",
            "E2": "een",
            "S1": "stil",
            "S2": "stil",
        }
    )
    s.publish(
        [("leeg", "FNV", ["L1", "L2"]), ("een", "CNV", ["E1", "E2"]), ("stil", "VHP", ["S1", "S2"])]
    )
    # Everyone in "leeg" votes blank; in "een" only E2 votes; in "stil" nobody votes at all.
    s.vote_and_tally({"L1": [], "L2": [], "L3": [], "E2": ["E1"]}, tmp_path)
    res = s.finish(tmp_path)
    leeg, een, stil = group(res, "leeg"), group(res, "een"), group(res, "stil")
    assert leeg["ballots"]["blank"] == 3 and leeg["elected"] == [] and leeg["vacant_seats"] == 1
    assert een["ballots"]["valid"] == 1 and een["elected"] == [s.cand["E1"]]
    assert stil["ballots"]["total"] == 0 and stil["elected"] == [] and stil["vacant_seats"] == 1
    assert [t["voted"] for t in res["turnout"]] == [3, 1, 0]
    assert "Er waren geen geldige stemmen" in res["_page"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_page_of_an_uncontested_election_in_both_languages(
    client, operator_headers, lang: str
) -> None:  # type: ignore[no-untyped-def]
    s = Shape(client, operator_headers, {"seats": 3})
    s.roll({"A1": "all", "A2": "all"})
    s.publish([("all", "FNV", ["A1", "A2"])])
    s.to("tallied")
    page = client.get(s.url("/results/page"), params={"lang": lang}).text
    assert ("zonder stemming gekozen" if lang == "nl" else "elected without a vote") in page
    assert "Naam A1" in page and f">{s.cand['A1']}<" not in page
