"""The whole election end to end through the real routes, on the session's database (SQLite, or
PostgreSQL with STEMBUS_TEST_DATABASE_URL): roll, invitations, nominations, union and free lists
with consent, validation and publication, roll freeze, the key ceremony (cli.ceremony), voting
with the voter SDK (cli.client) including a re-vote, a blank and an invalid ballot, closing, two of
three trustee shares, the tally — then the result is checked against a hand computation, the
downloaded record against the independent verifier (rules.record), a receipt, and tampering.

Also `stembus demo --voters 60` in process, which must end with a passing verification.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.ceremony import make_ceremony, read_share, submit_share, upload_public_key
from cli.client import StembusClient, StembusError
from cli.main import app as cli_app
from rules.record import Receipt, verify_receipt, verify_record
from tests.api.contract_types import assert_record_is_typed
from tests.conftest import bearer

API = "/api/v1"

# employee number -> (name, kiesgroep, employment start)
ROLL = {
    "W01": ("Anna de Vries", "werkplaats", "2012-03-01"),
    "W02": ("Bram Jansen", "werkplaats", "2015-06-15"),
    "W03": ("Carla Bakker", "werkplaats", "2018-01-01"),
    "W04": ("Daan Visser", "werkplaats", "2010-09-01"),
    "W05": ("Eva Smit", "werkplaats", "2019-04-01"),
    "W06": ("Frank Meijer", "werkplaats", "2016-02-01"),
    "W07": ("Greet Mulder", "werkplaats", "2014-11-01"),
    "W08": ("Hans Bos", "werkplaats", "2013-05-01"),
    "W09": ("Ilse Vos", "werkplaats", "2020-08-01"),
    "W10": ("Joost Peters", "werkplaats", "2011-01-01"),
    "W11": ("Karin Dekker", "werkplaats", "2017-07-01"),
    "W12": ("Lars Dijkstra", "werkplaats", "2021-03-01"),
    "S01": ("Mieke Brouwer", "staf", "2012-01-01"),
    "S02": ("Niels Koster", "staf", "2016-01-01"),
    "S03": ("Olga Willems", "staf", "2018-01-01"),
    "S04": ("Piet Kok", "staf", "2010-01-01"),
    "S05": ("Rosa Jacobs", "staf", "2019-01-01"),
    "S06": ("Sem Schouten", "staf", "2020-01-01"),
    "S07": ("Tess Postma", "staf", "2015-01-01"),
    "S08": ("Umut Kaya", "staf", "2099-01-01"),  # not yet employed: may not vote or stand
}
# The lists: (kiesgroep, name, submitted by "FNV"/"CNV" or a voter (free list), candidates).
LISTS = [
    ("werkplaats", "FNV", "FNV", ["W01", "W02", "W03"]),
    ("werkplaats", "Vrije lijst Werkplaats", "W04", ["W04", "W05"]),
    ("staf", "CNV", "CNV", ["S01", "S02"]),
    ("staf", "Vrij Staf", "S03", ["S03"]),
]
# Final votes per voter (candidate employee numbers; [] blank; "zz" not a candidate: invalid).
VOTES: dict[str, list[str]] = {
    "W01": ["W01"],
    "W02": ["W01"],
    "W03": ["W01"],
    "W04": ["W04"],
    "W05": ["W04"],
    "W06": ["W01"],
    "W07": ["W02"],
    "W08": ["W04"],
    "W09": ["W05"],
    "W10": [],  # blank: counted, not valid for a list
    "W11": ["zz"],  # invalid: counted with its reason
    "W12": ["W01"],  # re-votes: first W04 (superseded), then W01
    "S01": ["S01"],
    "S02": ["S01"],
    "S03": ["S03"],
    "S04": ["S01"],
    "S05": ["S02"],
    "S06": ["S03"],
    # S07 abstains; S08 is not entitled to vote
}
FIRST_VOTE = {"W12": ["W04"]}


def _csv() -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["employee_number", "name", "email", "kiesgroep", "employment_start"])
    for number, (name, group, start) in ROLL.items():
        w.writerow([number, name, f"{number.lower()}@acme.example", group, start])
    return out.getvalue().encode()


class Flow:
    """One election driven through the API by its operator, committee, trustees and voters."""

    def __init__(self, client: Any, operator_headers: dict[str, str]) -> None:
        self.c = client
        self.operator = operator_headers
        self.tokens: dict[str, str] = {}
        self.id = ""
        self.chair: dict[str, str] = {}
        self.codes: dict[str, str] = {}  # employee number -> access code
        self.cand: dict[str, str] = {}  # employee number -> published candidate id
        self.lists: dict[str, str] = {}  # list name -> published list id
        self.receipts: dict[str, dict[str, Any]] = {}  # employee number -> first receipt
        self.promises: dict[str, dict[str, Any]] = {}  # employee number -> first promise
        self.turnout: dict[str, Any] = {}
        self.results: dict[str, Any] = {}
        self.record = b""
        self.log_key = ""

    def url(self, suffix: str = "") -> str:
        return f"{API}/elections/{self.id}{suffix}"

    def ok(self, r: Any, status: int = 200) -> Any:
        assert r.status_code == status, r.text
        return r.json() if "json" in r.headers.get("content-type", "") else r

    def login(self, code: str) -> dict[str, str]:
        if code not in self.tokens:
            r = self.c.post(self.url("/login"), json={"code": code})
            self.tokens[code] = self.ok(r)["access_token"]
        return bearer(self.tokens[code])

    def voter(self, number: str) -> dict[str, str]:
        return self.login(self.codes[number])

    def to(self, phase: str) -> None:
        self.ok(self.c.post(self.url("/transitions"), json={"to": phase}, headers=self.chair))


@pytest.fixture()
def tallied(client, operator_headers, tmp_path: Path):  # type: ignore[no-untyped-def]
    f = Flow(client, operator_headers)
    c = client
    # Operator: the election, its committee chair (also a trustee) and two more trustees.
    body: dict[str, Any] = {
        "name": "OR-verkiezing 2027",
        "organisation": "Acme B.V.",
        "settings": {
            "kiesgroepen": [
                {"id": "werkplaats", "name": "Werkplaats", "seats": 3},
                {"id": "staf", "name": "Staf", "seats": 2},
            ]
        },
    }
    f.id = f.ok(c.post(f"{API}/elections", json=body, headers=operator_headers), 201)["id"]
    members = [
        f.ok(
            c.post(
                f.url("/members"),
                json={"name": name, "committee": i == 0, "trustee": True},
                headers=operator_headers,
            ),
            201,
        )["access_code"]
        for i, name in enumerate(["Voorzitter", "Sleutelhouder 2", "Sleutelhouder 3"])
    ]
    f.chair = f.login(members[0])
    # Committee: the roll and the invitation codes.
    f.ok(
        c.post(
            f.url("/roll/import"),
            content=_csv(),
            headers={**f.chair, "Content-Type": "text/csv"},
        )
    )
    export = f.ok(c.post(f.url("/invitations/export"), json={}, headers=f.chair))
    f.codes = {
        r["employee_number"]: r["access_code"] for r in csv.DictReader(io.StringIO(export.text))
    }
    assert len(f.codes) == len(ROLL)
    page = f.ok(c.get(f.url("/roll/voters"), params={"limit": 100}, headers=f.chair))
    ids = {v["employee_number"]: v["id"] for v in page["items"]}

    # Nomination campaign: colleagues find and nominate the candidates; one nominee declines.
    f.to("nomination")
    nominees = [n for _, _, _, cands in LISTS for n in cands] + ["W06"]
    nominators = {"werkplaats": ["W07", "W08", "W09", "W10", "W11", "W12"], "staf": ["S04", "S05"]}
    for i, nominee in enumerate(nominees):
        name, group, _ = ROLL[nominee]
        pool = nominators[group]
        h = f.voter(pool[i % len(pool)])
        found = f.ok(c.get(f.url("/colleagues"), params={"q": name.split()[-1]}, headers=h))
        [hit] = [x for x in found["items"] if x["name"] == name]
        f.ok(c.post(f.url("/nominations"), json={"nominee_id": hit["id"]}, headers=h), 201)
    ranking = f.ok(c.get(f.url("/nominations/ranking"), headers=f.chair))["items"]
    assert {x["voter_id"] for x in ranking} == {ids[n] for n in nominees}
    for x in ranking:
        f.ok(c.post(f.url(f"/nominations/nominees/{x['voter_id']}/approached"), headers=f.chair))
    for n in nominees:
        answer = {"accept": n != "W06"}
        f.ok(c.put(f.url("/me/nomination/response"), json=answer, headers=f.voter(n)))

    # Candidacy: FNV and CNV accounts and two employees submit lists; candidates consent.
    f.to("candidacy")
    unions = {}
    for union in ("FNV", "CNV"):
        s = f.ok(
            c.post(
                f.url("/submitters"), json={"union": union, "name": "Bestuurder"}, headers=f.chair
            ),
            201,
        )
        unions[union] = f.login(s["access_code"])
    list_ids = []
    for group, name, by, cands in LISTS:
        h = unions.get(by) or f.voter(by)
        accepted = f.ok(c.get(f.url("/nominations/accepted"), headers=h))["items"]
        assert ids["W06"] not in {x["id"] for x in accepted}  # declined
        body = {"kiesgroep": group, "name": name}
        if by not in unions:
            body["not_union_member"] = True
        lst = f.ok(c.post(f.url("/lists"), json=body, headers=h), 201)
        got = f.ok(
            c.put(
                f.url(f"/lists/{lst['id']}/candidates"),
                json={"voter_ids": [ids[n] for n in cands]},
                headers=h,
            )
        )
        for n, cand in zip(cands, got["candidates"], strict=True):
            f.ok(
                c.put(
                    f.url(f"/me/candidacies/{cand['id']}/consent"),
                    json={"consent": True},
                    headers=f.voter(n),
                )
            )
        f.ok(c.post(f.url(f"/lists/{lst['id']}/submit"), headers=h))
        list_ids.append(lst["id"])
    frozen = f.ok(c.post(f.url("/roll/freeze"), headers=f.chair))
    assert frozen is not None
    for lid in list_ids:
        f.ok(c.post(f.url(f"/lists/{lid}/validation"), json={"accept": True}, headers=f.chair))
    f.to("lists_published")
    status = f.ok(c.get(f.url("/status")))
    f.cand = {  # employee number -> published candidate id
        n: cand["id"]
        for g in status["groups"]
        for lst in g["lists"]
        for cand in lst["candidates"]
        for n, (name, _, _) in ROLL.items()
        if cand["name"] == name
    }
    f.lists = {lst["name"]: lst["id"] for g in status["groups"] for lst in g["lists"]}
    assert all(g["vote_held"] for g in status["groups"])

    # Key ceremony (offline), k = 2 of n = 3; only the public key goes to the server.
    public, files = make_ceremony(f.id, 2, 3, tmp_path / "shares")
    upload_public_key(c, "", f.id, f.chair["Authorization"][7:], public, 2, 3)
    f.to("voting")

    # Voting with the SDK, exactly as a third-party frontend would.
    sdk = StembusClient("http://testserver", http=c)
    for number, final in VOTES.items():
        first = FIRST_VOTE.get(number, final)
        sel = [f.cand.get(x, x) for x in first]
        cred, promise = sdk.vote(f.id, f.codes[number], sel)
        f.promises[number] = promise
        if number in FIRST_VOTE:
            sdk.revote(cred, [f.cand[x] for x in final])
            assert cred.seq == 2
    with pytest.raises(StembusError) as refused:
        sdk.vote(f.id, f.codes["S08"], [])
    assert refused.value.status == 403 and refused.value.type == "/problems/not-eligible"
    f.turnout = f.ok(c.get(f.url("/voting/turnout"), headers=f.chair))

    # Closing (every pool flushed into the log first); the first ballot of each voter now has
    # its receipt, fetched by entry hash as the promise names it.
    f.to("closed")
    for number, promise in f.promises.items():
        got = sdk.receipt_status(f.id, bytes.fromhex(promise["entry_hash"]))
        assert got is not None and got["status"] == "included", number
        f.receipts[number] = got["receipt"]
    # Trustees 1 and 3 hand in their shares (any 2 of 3), the tally runs.
    jsons = sorted(p for p in files if p.suffix == ".json")
    st = submit_share(c, "", f.id, f.login(members[0])["Authorization"][7:], read_share(jsons[0]))
    assert st["status"] == "closed" and st["received"] == 1
    st = submit_share(c, "", f.id, f.login(members[2])["Authorization"][7:], read_share(jsons[2]))
    assert st["status"] == "tallied", st
    f.results = f.ok(c.get(f.url("/results")))
    f.record = c.get(f.url("/record")).content
    f.log_key = f.ok(c.get(f.url("/log/key")))["verifier_key"]
    return f


def test_the_whole_election_end_to_end(tallied) -> None:
    f = tallied
    res = f.results["result"]
    cand = {v: k for k, v in f.cand.items()}  # published id -> employee number
    names = {lid: name for name, lid in f.lists.items()}

    assert f.turnout["credentials_issued"] == 18 and f.turnout["voted"] == 18
    assert res["ballots"] == {"entries": 19, "credentials": 18, "superseded": 1}
    turnout = {t["group"]: t for t in res["turnout"]}
    assert turnout["werkplaats"] == {
        "group": "werkplaats",
        "eligible": 12,
        "issued": 12,
        "voted": 12,
    }
    assert turnout["staf"] == {"group": "staf", "eligible": 7, "issued": 6, "voted": 6}

    # Werkplaats, by hand: 12 ballots, 1 blank, 1 invalid -> 10 valid; FNV 5+1 = 6, Vrije lijst
    # 3+1 = 4 (W12's final vote is W01: the re-vote replaced W04). Quota 10/3 = 3 1/3: full seats
    # FNV 1 (remainder 2 2/3), Vrije lijst 1 (remainder 2/3); the residual seat goes to FNV.
    # Preference threshold 1/2 x 10/3 = 5/3: W01 (5) and W04 (3) pass it; FNV's second seat goes
    # to W02 in list order; successors W03 and W05.
    wp = next(g for g in res["groups"] if g["group"] == "werkplaats")
    assert wp["ballots"] == {
        "total": 12,
        "valid": 10,
        "blank": 1,
        "invalid": 1,
        "invalid_reasons": [{"reason": "unknown candidate zz", "count": 1}],
    }
    assert {names[x["list"]]: (x["votes"], x["seats"]) for x in wp["lists"]} == {
        "FNV": (6, 2),
        "Vrije lijst Werkplaats": (4, 1),
    }
    assert wp["apportionment"]["quota"] == {"value": "10/3", "display": "3 1/3"}
    assert [s["chosen"] for s in wp["apportionment"]["steps"]] == [f.lists["FNV"]]
    by_list = {names[x["list"]]: x for x in wp["lists"]}
    assert [cand[x] for x in by_list["FNV"]["elected"]] == ["W01", "W02"]
    assert [cand[x] for x in by_list["FNV"]["successors"]] == ["W03"]
    assert [cand[x] for x in by_list["Vrije lijst Werkplaats"]["elected"]] == ["W04"]
    assert [cand[x] for x in by_list["Vrije lijst Werkplaats"]["successors"]] == ["W05"]
    votes = {cand[x["candidate"]]: x["votes"] for x in wp["candidates"]}
    assert votes == {"W01": 5, "W02": 1, "W03": 0, "W04": 3, "W05": 1}

    # Staf, by hand: 6 valid; CNV 3+1 = 4, Vrij Staf 2. Quota 3: full seats 1 and 0, remainders
    # 1 and 2 -> the residual seat to Vrij Staf. Threshold 3/2: S01 (3) elected, S02 successor.
    st = next(g for g in res["groups"] if g["group"] == "staf")
    assert st["ballots"]["valid"] == 6 and st["ballots"]["blank"] == st["ballots"]["invalid"] == 0
    assert {names[x["list"]]: (x["votes"], x["seats"]) for x in st["lists"]} == {
        "CNV": (4, 1),
        "Vrij Staf": (2, 1),
    }
    by_list = {names[x["list"]]: x for x in st["lists"]}
    assert [cand[x] for x in by_list["CNV"]["elected"]] == ["S01"]
    assert [cand[x] for x in by_list["CNV"]["successors"]] == ["S02"]
    assert [cand[x] for x in by_list["Vrij Staf"]["elected"]] == ["S03"]
    assert sorted(cand[x] for g in res["groups"] for x in g["elected"]) == [
        "S01",
        "S03",
        "W01",
        "W02",
        "W04",
    ]
    assert res["invalid_ballots"] == [
        {
            "index": res["invalid_ballots"][0]["index"],
            "group": "werkplaats",
            "reason": "unknown candidate zz",
        }
    ]
    assert f.results["names"]["candidates"][f.cand["W01"]] == "Anna de Vries"


def test_every_entry_of_the_record_matches_the_typed_contract(tallied) -> None:
    seen = assert_record_is_typed(tallied.record)
    assert {
        "election_created",
        "roll_frozen",
        "lists_published",
        "keys",
        "issuance",
        "ballot",
    } <= set(seen)
    assert seen["decryption_key"] == 1 and seen["result"] == 1


def test_the_downloaded_record_verifies_and_tampering_fails(tallied) -> None:
    f = tallied
    lines = f.record.splitlines(keepends=True)
    # W12's first receipt is for a superseded ballot: still in the final log.
    receipts = [Receipt.parse(f.receipts["W12"]), Receipt.parse(f.receipts["S01"])]
    promises = [p["promise"] for p in f.promises.values()]
    report = verify_record(
        lambda: iter(lines), log_key=f.log_key, receipts=receipts, promises=promises
    )
    assert report.ok, [str(x) for x in report.failures]
    assert report.result_checked and report.ballots == 19 and report.credentials == 18
    assert report.passed["receipt"] == 2 and report.passed["promise"] == len(promises) == 18
    assert report.passed["flush"] >= 19 + 18  # every ballot and issuance entry in a flush
    cp = verify_receipt(Receipt.parse(f.receipts["W01"]), f.log_key)
    assert cp.size > f.receipts["W01"]["index"]
    wrong = dict(f.receipts["W01"], entry_hash=f.receipts["W02"]["entry_hash"])
    with pytest.raises(ValueError):
        verify_receipt(Receipt.parse(wrong), f.log_key)

    # One byte of one ballot's ciphertext changed: the leaf, so the Merkle root, no longer match.
    i = next(n for n, x in enumerate(lines) if b'"type":"ballot"' in x)
    line = lines[i]
    j = line.index(b'"ciphertext":"') + len(b'"ciphertext":"') + 10
    bad = bytearray(line)
    bad[j] = ord("A") if bad[j] != ord("A") else ord("B")
    tampered = [*lines[:i], bytes(bad), *lines[i + 1 :]]
    report = verify_record(lambda: iter(tampered), log_key=f.log_key)
    assert not report.ok
    assert "merkle-root" in {x.check for x in report.failures}, [str(x) for x in report.failures]

    # One byte of the published result changed (a vote count): the verifier recomputes it.
    k = next(n for n, x in enumerate(lines) if b'"type":"result"' in x)
    line = lines[k]
    pos = line.index(b'"votes":6')
    forged = line[:pos] + b'"votes":7' + line[pos + len(b'"votes":6') :]
    report = verify_record(lambda: iter([*lines[:k], forged, *lines[k + 1 :]]), log_key=f.log_key)
    assert not report.ok
    assert {"merkle-root", "result"} & {x.check for x in report.failures}


def test_stembus_demo_runs_and_verifies(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        cli_app, ["demo", "--voters", "60", "--seed", "7", "--keep", str(tmp_path)]
    )
    assert r.exit_code == 0, r.output
    assert "VERIFIED: every check passed" in r.output
    assert "no vote held" in r.output and "Productie" in r.output
    assert list(tmp_path.glob("stembus-*-record.jsonl"))
    assert len(list((tmp_path / "shares").glob("trustee-*-of-3.json"))) == 3
