"""`stembus demo`: a realistic works council election end to end, over the HTTP API only.

Everyone acts as they would in a real election, each through their own login and the public
routes: the operator creates the election and appoints the committee and trustees; the committee
imports a generated roll of Dutch employees in three kiesgroepen and exports the access codes;
voters nominate colleagues in the nomination phase, nominees accept or decline; FNV and CNV
representatives and a few employees (free lists) submit lists of consenting candidates; the
committee freezes the roll, validates and publishes the lists (the one-candidate management group
needs no vote, WOR practice); the key ceremony (cli.ceremony: k = 2 of n = 3 trustees) uploads
only the public key; voters log in, obtain an anonymous credential and cast a sealed ballot with
the voter SDK (cli.client), some re-vote; the committee closes; two trustees hand in their shares
and the tally runs; finally the election record is downloaded and checked by the independent
verifier (rules.record), and the results, the apportionment steps and the verdict are printed.

Every choice (roll, nominations, votes) comes from ``random.Random(seed)``, so a seed replays the
same election; only keys, codes and election ids differ between runs.

By default it runs in process: a fresh SQLite file (migrations applied), the ASGI app driven by
FastAPI's TestClient. With ``--url`` it drives a running server instead.
"""

from __future__ import annotations

import csv
import io
import random
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.ceremony import make_ceremony, read_share, submit_share, upload_public_key
from cli.client import StembusClient, StembusError, StoredCredential
from rules.explain import method_text, step_text

API = "/api/v1"

FIRST_NAMES = (
    "Daan Sem Lucas Levi Finn Milan Bram Noah Jesse Thijs Ruben Lars Jens Sven Stijn Tim Luuk "
    "Gijs Joost Pieter Wouter Maarten Bas Koen Jeroen Mark Rik Erik Hans Kees Willem Johan Henk "
    "Emma Julia Sophie Tess Sara Anna Lotte Fenna Noor Eva Lisa Iris Femke Sanne Anouk Marieke "
    "Ingrid Annelies Karin Monique Els Petra Saskia Yvonne Mirjam Ilse Fatima Mohammed Yusuf "
    "Ayoub Samira Priya Mei Kofi Tomasz Agnieszka"
).split()
PREFIXES = ("",) * 7 + ("de ", "van ", "van der ", "van den ", "van de ", "ter ", "den ")
SURNAMES = (
    "Jansen Bakker Visser Smit Meijer Mulder Bos Vos Peters Hendriks Dekker Dijkstra Brouwer "
    "Koster Vermeulen Willems Kok Jacobs Schouten Postma Kuipers Veenstra Kramer Prins Huisman "
    "Boer Wit Graaf Jong Berg Vries Leeuwen Dijk Linden Heuvel Groot Wal Akker Brink Hoek Vliet "
    "Bosch Hoekstra Maas Verhoeven Koning Timmermans Wouters Sanders Molenaar Blom Lammers "
    "Yilmaz Kaya Boukhari Ouali Nguyen Kowalski Pinas"
).split()

# (id, name, seats, share of the workforce, turnout)
GROUPS = (
    ("productie", "Productie", 7, 0.60, 0.78),
    ("kantoor", "Kantoor", 5, 0.35, 0.86),
    ("management", "Management", 1, 0.05, 0.0),
)
# Per kiesgroep: (list name, submitted by, candidates, share of the votes). The management group
# has one candidate for one seat, so no vote is held there and its candidate is elected.
LISTS: dict[str, list[tuple[str, str, int, float]]] = {
    "productie": [
        ("FNV", "FNV", 6, 0.43),
        ("CNV", "CNV", 4, 0.26),
        ("Lijst Werkvloer", "free", 3, 0.27),
    ],
    "kantoor": [
        ("FNV", "FNV", 3, 0.35),
        ("CNV", "CNV", 2, 0.31),
        ("Kantoor Vooruit", "free", 3, 0.30),
    ],
    "management": [("Management", "free", 1, 1.0)],
}
BLANK_SHARE = {"productie": 0.04, "kantoor": 0.04}
REVOTE_SHARE = 0.05
MOTIVATIONS = (
    "Komt altijd op voor collega's.",
    "Kent de werkvloer als geen ander.",
    "Denkt mee over roosters en veiligheid.",
    None,
    None,
)


@dataclass
class Person:
    number: str
    name: str
    email: str
    group: str
    start: date
    agency: bool
    code: str = ""
    voter_id: int = 0


@dataclass
class Plan:
    """Who stands where: list key (group, list name) -> persons in list order."""

    lists: dict[tuple[str, str], list[Person]] = field(default_factory=dict)
    declines: list[Person] = field(default_factory=list)  # nominated, but say no
    withdraws: Person | None = None  # accepted, put on a list, then refuses consent


@dataclass
class DemoOutcome:
    election_id: str
    voters: int
    ballots_cast: int
    revotes: int
    turnout: dict[str, Any]
    results: dict[str, Any]
    report: Any  # rules.record.Report
    record_path: Path
    receipt_ok: bool
    timings: dict[str, float]
    promises: int = 0
    promises_kept: int = 0
    pending_at_close: int = 0  # ballots still in their pools when voting closed


# --------------------------------------------------------------------------- the generated roll


def make_roll(voters: int, seed: int, today: date) -> list[Person]:
    """About `voters` employees with unique Dutch names; a few too new or agency workers with
    too little service (not eligible), deterministic from the seed."""
    rng = random.Random(f"roll:{seed}")
    names: set[str] = set()
    people: list[Person] = []
    counts = [round(voters * share) for _, _, _, share, _ in GROUPS]
    counts[0] += voters - sum(counts)
    n = 0
    for (gid, _, _, _, _), count in zip(GROUPS, counts, strict=True):
        for _ in range(count):
            while True:
                first = rng.choice(FIRST_NAMES)
                last = rng.choice(PREFIXES) + rng.choice(SURNAMES)
                name = f"{first} {last}"
                if name not in names:
                    break
            names.add(name)
            n += 1
            r = rng.random()
            agency = r < 0.05
            if r < 0.02:
                start = today - timedelta(days=rng.randint(5, 60))  # too new to vote or stand
            elif agency:
                start = today - timedelta(days=rng.randint(120, 900))
            else:
                start = today - timedelta(days=rng.randint(400, 12000))
            mail = f"{first}.{last.replace(' ', '')}".lower()
            people.append(
                Person(f"E{n:05d}", name, f"{mail}@{n:05d}.acme.example", gid, start, agency)
            )
    return people


def roll_csv(people: list[Person]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        ["employee_number", "name", "email", "kiesgroep", "employment_start", "agency_worker"]
    )
    for p in people:
        w.writerow([p.number, p.name, p.email, p.group, p.start.isoformat(), str(p.agency).lower()])
    return out.getvalue().encode()


def make_plan(people: list[Person], seed: int, today: date) -> Plan:
    """Candidates per list, from employees with well over the minimum service."""
    rng = random.Random(f"plan:{seed}")
    plan = Plan()
    for gid, *_ in GROUPS:
        pool = [
            p for p in people if p.group == gid and not p.agency and (today - p.start).days > 365
        ]
        need = sum(n for _, _, n, _ in LISTS[gid]) + (2 if len(LISTS[gid]) > 1 else 0)
        if len(pool) < need:
            raise typer.BadParameter(f"too few voters in {gid} for the demo; use more --voters")
        chosen = rng.sample(pool, need)
        for name, _, n, _ in LISTS[gid]:
            plan.lists[(gid, name)] = [chosen.pop() for _ in range(n)]
        plan.declines += chosen
    fnv = plan.lists[("productie", "FNV")]
    plan.withdraws = fnv[-1]
    return plan


# --------------------------------------------------------------------------- HTTP helpers


class Api:
    """Thin JSON helper over one httpx client (TestClient in process, or a real server)."""

    def __init__(self, http: httpx.Client, election_id: str = "") -> None:
        self.http = http
        self.eid = election_id
        self.tokens: dict[str, str] = {}

    def url(self, suffix: str = "") -> str:
        return f"{API}/elections/{self.eid}{suffix}"

    def call(
        self, method: str, path: str, token: str | None = None, ok: int = 200, **kw: Any
    ) -> Any:
        headers = dict(kw.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        r = self.http.request(method, path, headers=headers, **kw)
        if r.status_code != ok:
            raise RuntimeError(f"{method} {path}: HTTP {r.status_code} {r.text[:500]}")
        ctype = r.headers.get("content-type", "")
        return r.json() if ctype.startswith(("application/json", "application/problem")) else r

    def login(self, code: str) -> str:
        if code not in self.tokens:
            body = self.call("POST", self.url("/login"), json={"code": code})
            self.tokens[code] = body["access_token"]
        return self.tokens[code]

    def transition(self, token: str, to: str) -> Any:
        return self.call("POST", self.url("/transitions"), token, json={"to": to})


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


# --------------------------------------------------------------------------- the election


def choose(
    rng: random.Random, group: dict[str, Any], exclude: list[str] | None = None
) -> list[str]:
    """A voter's choice in a published list-system group: one candidate id, or [] (blank).

    Skewed so the allocation is interesting: lists get the shares of LISTS; inside a list the
    lijsttrekker gets most votes, and on the largest list a popular colleague lower down gets
    enough preference votes to be elected ahead of list order (docs/rules.md)."""
    gid = group["id"]
    if rng.random() < BLANK_SHARE.get(gid, 0.0):
        return []
    weights = {name: share for name, _, _, share in LISTS[gid]}
    lists = group["lists"]
    lst = rng.choices(lists, weights=[weights.get(x["name"], 0.1) for x in lists])[0]
    cands = sorted(lst["candidates"], key=lambda c: c["position"])
    w = [6.0 if i == 0 else 1.5 / i for i in range(len(cands))]
    if lst is lists[0] and len(cands) >= 3:
        w[2] = 4.5
    options = [
        (c["id"], x) for c, x in zip(cands, w, strict=True) if c["id"] not in (exclude or [])
    ]
    if not options:
        return []
    return [rng.choices([c for c, _ in options], weights=[x for _, x in options])[0]]


def run_demo(
    http: httpx.Client,
    operator_token: str,
    *,
    voters: int = 1000,
    seed: int = 2027,
    out_dir: Path,
    console: Console,
    today: date | None = None,
) -> DemoOutcome:
    """The whole election, as its participants would do it over the API."""
    today = today or date.today()
    timings: dict[str, float] = {}
    api = Api(http)
    rng = random.Random(f"votes:{seed}")
    people = make_roll(voters, seed, today)
    by_number = {p.number: p for p in people}
    plan = make_plan(people, seed, today)

    @contextmanager
    def step(label: str) -> Iterator[None]:
        t = time.perf_counter()
        yield
        timings[label] = time.perf_counter() - t
        console.print(f"[green]✓[/] {label} [dim]({timings[label]:.1f} s)[/]")

    # 1. The operator creates the election and appoints the committee and the trustees.
    with step("election created, committee and 3 trustees appointed"):
        body: dict[str, Any] = {
            "name": "OR-verkiezing 2027",
            "organisation": "Acme Metaal B.V.",
            "settings": {
                "kiesgroepen": [{"id": g, "name": n, "seats": s} for g, n, s, _, _ in GROUPS],
                "residual_method": "largest_remainder",
                "nomination": {"scope": "kiesgroep", "max_per_voter": 3},
            },
        }
        created = api.call("POST", f"{API}/elections", operator_token, ok=201, json=body)
        api.eid = created["id"]
        members = []
        for name, committee in (
            ("Voorzitter verkiezingscommissie", True),
            ("Sleutelhouder HR", False),
            ("Sleutelhouder OR-secretariaat", False),
        ):
            m = api.call(
                "POST",
                api.url("/members"),
                operator_token,
                ok=201,
                json={"name": name, "committee": committee, "trustee": True},
            )
            members.append(m["access_code"])
        chair = api.login(members[0])

    # 2. The committee imports the roll and exports the invitation letters (access codes).
    with step(f"roll of {len(people)} employees imported, access codes exported"):
        api.call(
            "POST",
            api.url("/roll/import"),
            chair,
            content=roll_csv(people),
            headers={"Content-Type": "text/csv"},
        )
        r = api.call("POST", api.url("/invitations/export"), chair, json={})
        for row in csv.DictReader(io.StringIO(r.text)):
            by_number[row["employee_number"]].code = row["access_code"]
        start: int | None = 0
        while start is not None:
            page = api.call(
                "GET", api.url("/roll/voters"), chair, params={"start": start, "limit": 1000}
            )
            for v in page["items"]:
                p = by_number[v["employee_number"]]
                p.voter_id = v["id"]
            start = page["next"]

    # 3. Nomination campaign: colleagues nominate, the committee approaches, nominees answer.
    nominees = [p for ps in plan.lists.values() for p in ps] + plan.declines
    with (
        step(f"nomination campaign: {len(nominees)} colleagues nominated"),
        _progress(console) as progress,
    ):
        api.transition(chair, "nomination")
        task = progress.add_task("nominations", total=len(nominees))
        made = 0
        used: dict[str, int] = {}
        for nominee in nominees:
            peers = [
                p
                for p in people
                if p.group == nominee.group
                and p is not nominee
                and not p.agency
                and (today - p.start).days > 120
                and used.get(p.number, 0) < 3
            ]
            for nominator in rng.sample(peers, min(len(peers), rng.randint(1, 3))):
                used[nominator.number] = used.get(nominator.number, 0) + 1
                token = api.login(nominator.code)
                found = api.call(
                    "GET",
                    api.url("/colleagues"),
                    token,
                    params={"q": nominee.name, "kiesgroep": nominee.group},
                )["items"]
                [hit] = [c for c in found if c["id"] == nominee.voter_id]
                api.call(
                    "POST",
                    api.url("/nominations"),
                    token,
                    ok=201,
                    json={"nominee_id": hit["id"], "motivation": rng.choice(MOTIVATIONS)},
                )
                made += 1
            progress.advance(task)
        ranking = api.call("GET", api.url("/nominations/ranking"), chair)["items"]
        for item in ranking:
            api.call("POST", api.url(f"/nominations/nominees/{item['voter_id']}/approached"), chair)
        declining = {p.number for p in plan.declines}
        for nominee in nominees:
            api.call(
                "PUT",
                api.url("/me/nomination/response"),
                api.login(nominee.code),
                json={"accept": nominee.number not in declining},
            )
    console.print(
        f"  {made} nominations for {len(ranking)} colleagues; "
        f"{len(nominees) - len(plan.declines)} accepted, {len(plan.declines)} declined"
    )

    # 4. Candidacy: union representatives and employees submit lists, candidates consent.
    with step("lists submitted by FNV, CNV and employees (free lists), candidates consented"):
        api.transition(chair, "candidacy")
        unions: dict[str, str] = {}
        for union in ("FNV", "CNV"):
            s = api.call(
                "POST",
                api.url("/submitters"),
                chair,
                ok=201,
                json={"union": union, "name": f"Bestuurder {union}"},
            )
            unions[union] = api.login(s["access_code"])
        list_ids: list[int] = []
        for (gid, name), candidates in plan.lists.items():
            by = next(b for n, b, _, _ in LISTS[gid] if n == name)
            if by == "free":
                token = api.login(candidates[0].code)
                body = {"kiesgroep": gid, "name": name, "not_union_member": True}
            else:
                token = unions[by]
                body = {"kiesgroep": gid, "name": name}
            accepted = api.call("GET", api.url("/nominations/accepted"), token)["items"]
            ids = {c["id"] for c in accepted}
            assert all(c.voter_id in ids for c in candidates), "candidates are accepted nominees"
            lst = api.call("POST", api.url("/lists"), token, ok=201, json=body)
            got = api.call(
                "PUT",
                api.url(f"/lists/{lst['id']}/candidates"),
                token,
                json={"voter_ids": [c.voter_id for c in candidates]},
            )
            for person, cand in zip(candidates, got["candidates"], strict=True):
                api.call(
                    "PUT",
                    api.url(f"/me/candidacies/{cand['id']}/consent"),
                    api.login(person.code),
                    json={"consent": person is not plan.withdraws},
                )
            api.call("POST", api.url(f"/lists/{lst['id']}/submit"), token)
            list_ids.append(lst["id"])
        api.call("POST", api.url("/roll/freeze"), chair)
        for lid in list_ids:
            api.call("POST", api.url(f"/lists/{lid}/validation"), chair, json={"accept": True})
        api.transition(chair, "lists_published")
        status = api.call("GET", api.url("/status"))
    for g in status["groups"]:
        lists = ", ".join(f"{x['name']} ({len(x['candidates'])})" for x in g["lists"])
        vote = "vote held" if g["vote_held"] else "[yellow]no vote held[/]: all candidates elected"
        console.print(
            f"  {g['name']}: {g['seats']} seat(s), {g['voters']} may vote; {lists}; {vote}"
        )

    # 5. The key ceremony, offline: k = 2 of n = 3 trustees; only the public key is uploaded.
    with step("key ceremony: sealing key split 2-of-3, public key uploaded, voting opened"):
        public, files = make_ceremony(api.eid, 2, 3, out_dir / "shares")
        upload_public_key(http, "", api.eid, chair, public, 2, 3)
        api.transition(chair, "voting")
    share_files = [f for f in files if f.suffix == ".json"]

    # 6. Voting: voters log in with their code, get a credential, cast; some re-vote.
    published = {g["id"]: g for g in status["groups"]}
    turnout_share = {gid: t for gid, _, _, _, t in GROUPS}
    client = StembusClient(str(http.base_url), http=http)
    voting = [
        p
        for p in people
        if published[p.group]["vote_held"] and rng.random() < turnout_share[p.group]
    ]
    creds: list[tuple[StoredCredential, list[str]]] = []
    refused: list[str] = []
    with step(f"{len(voting)} voters came to vote"), _progress(console) as progress:
        task = progress.add_task("voting", total=len(voting))
        for p in voting:
            sel = choose(rng, published[p.group])
            try:
                cred, rec = client.vote(api.eid, p.code, sel)
            except StembusError as e:
                refused.append(e.type)  # not eligible (too new, agency worker)
            else:
                creds.append((cred, sel))
            progress.advance(task)
    revoters = [c for c in creds if rng.random() < REVOTE_SHARE]
    with step(f"{len(revoters)} voters changed their mind and re-voted"):
        for cred, sel in revoters:
            client.revote(cred, choose(rng, published[cred.group], exclude=sel))
    console.print(f"  {len(creds)} cast a ballot", end="")
    if refused:
        console.print(
            f"; {len(refused)} were refused a credential ({', '.join(sorted(set(refused)))}: "
            "too short in service, or agency workers)",
            end="",
        )
    console.print()

    # 7. Closing (which flushes every pool whole into the log), two of the three trustees hand
    #    in their shares, the tally runs.
    promises = [p for cred, _ in creds for p in cred.promises]
    in_log = sum(1 for _, e in client.log_entries(api.eid) if e.get("type") == "ballot")
    pending = len(promises) - in_log
    with step("voting closed; trustees 2 and 3 handed in their shares; tallied"):
        turnout = api.call("GET", api.url("/voting/turnout"), chair)
        api.transition(chair, "closed")
        for code, f in zip(members[1:], share_files[1:], strict=True):
            st = submit_share(http, "", api.eid, api.login(code), read_share(f))
        if st["status"] != "tallied":
            raise RuntimeError(f"not tallied after 2 of 3 shares: {st}")
        results = api.call("GET", api.url("/results"))

    # 8. Anyone downloads the election record and verifies it independently.
    from cli.verify import download, run_verify
    from rules.record import Receipt

    record_path = out_dir / f"stembus-{api.eid}-record.jsonl"
    with step("election record downloaded and verified independently"):
        download(api.url("/record"), record_path, http=http)
        log_key = api.call("GET", api.url("/log/key"))["verifier_key"]
        receipts = []
        if creds:  # the first voter's receipts, fetched by entry hash now that all are in
            first = creds[0][0]
            client.collect_receipts(first)
            receipts = [Receipt.parse(r) for r in first.receipts]
        report = run_verify(
            record_path, log_key, receipts, promises=[p["promise"] for p in promises]
        )
    return DemoOutcome(
        election_id=api.eid,
        voters=len(people),
        ballots_cast=len(creds) + len(revoters),
        revotes=len(revoters),
        turnout=turnout,
        results=results,
        report=report,
        record_path=record_path,
        receipt_ok=bool(report.passed.get("receipt")),
        promises=len(promises),
        promises_kept=report.passed.get("promise", 0),
        pending_at_close=pending,
        timings=timings,
    )


# --------------------------------------------------------------------------- printing


def _frac(x: dict[str, str] | None) -> str:
    return "—" if x is None else x["display"]


def print_outcome(o: DemoOutcome, out: Console) -> None:
    res, names = o.results["result"], o.results["names"]
    cand = names["candidates"]
    t = Table(title=f"Turnout — election {o.election_id}")
    for col in ("kiesgroep", "may vote", "credentials", "voted", "turnout"):
        t.add_column(col, justify="left" if col == "kiesgroep" else "right")
    for g in res["turnout"]:
        held = next(x["vote_held"] for x in res["groups"] if x["group"] == g["group"])
        pct = f"{100 * g['voted'] / g['eligible']:.1f}%" if g["eligible"] and held else "no vote"
        t.add_row(
            names["groups"].get(g["group"], g["group"]),
            str(g["eligible"]),
            str(g["issued"]),
            str(g["voted"]),
            pct,
        )
    out.print(t)
    b = res["ballots"]
    out.print(
        f"{b['entries']} ballot entries in the log, {b['credentials']} final ballots "
        f"({b['superseded']} superseded by a re-vote)"
    )
    for g in res["groups"]:
        gname = names["groups"].get(g["group"], g["group"])
        bal = g["ballots"]
        title = f"{gname}: {g['seats']} seat{'s' if g['seats'] != 1 else ''}"
        if g["vote_held"]:
            title += f" — {bal['valid']} valid, {bal['blank']} blank, {bal['invalid']} invalid"
        else:
            title += " — no vote held (no more candidates than seats): all candidates elected"
        t = Table(title=title, show_lines=True)
        t.add_column("list")
        t.add_column("votes", justify="right")
        t.add_column("seats", justify="right")
        t.add_column("elected")
        t.add_column("successors (opvolgers)")
        for lst in g["lists"]:
            t.add_row(
                names["lists"].get(lst["list"], lst["list"]),
                str(lst["votes"]) if g["vote_held"] else "—",
                str(lst["seats"]),
                "\n".join(cand.get(c, c) for c in lst["elected"]) or "—",
                "\n".join(cand.get(c, c) for c in lst["successors"]) or "—",
            )
        out.print(t)
        ap = g.get("apportionment")
        if not ap:
            for note in g.get("notes", []):
                out.print(f"  {note}")
            continue
        out.print(
            f"  apportionment ({ap['method'].replace('_', ' ')}): quota {_frac(ap['quota'])} "
            f"= {ap['votes']['valid']} valid votes / {ap['seats']} seats"
        )
        for lst in ap["lists"]:
            out.print(
                f"    {names['lists'].get(lst['list'], lst['list']):<16} {lst['votes']:>4} votes"
                f"  full seats {lst['full_seats']}  remainder {_frac(lst['remainder'])}"
            )
        out.print(f"    {method_text(ap, 'en')}")
        for s in ap["steps"]:  # the sentences of the results page (rules.explain)
            text = step_text(s, "en", g["seats"], lambda x: names["lists"].get(x, x))
            out.print(f"    step {s['number']}: {text}")
        for lst in g["lists"]:
            ce = lst["candidate_election"]
            prefs = [
                cand.get(x["candidate"], x["candidate"])
                for x in ce["steps"]
                if x["elected"] and x["reason"] == "preference_votes"
            ]
            if prefs and ce.get("threshold_votes"):
                out.print(
                    f"    {names['lists'].get(lst['list'], lst['list'])}: preference threshold "
                    f"{_frac(ce['threshold_votes'])} votes; elected on preference votes: "
                    + ", ".join(prefs)
                )
    if (res.get("lot") or {}).get("draws"):
        out.print(f"lot draws: {len(res['lot']['draws'])}")


# --------------------------------------------------------------------------- the command


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        voters: Annotated[int, typer.Option(help="employees on the generated roll")] = 1000,
        seed: Annotated[int, typer.Option(help="seed of the roll, nominations and votes")] = 2027,
        url: Annotated[
            str | None, typer.Option(help="a running Stembus server (default: in process)")
        ] = None,
        operator_token: Annotated[
            str | None,
            typer.Option(help="with --url: operator token (default: made from STEMBUS_SECRET)"),
        ] = None,
        keep: Annotated[
            Path | None,
            typer.Option(help="folder to keep the record, trustee shares and database in"),
        ] = None,
    ) -> None:
        """A realistic works council election end to end over the API: roll, nominations,
        union and free lists, key ceremony, ~80% turnout with re-votes, tally, verification."""
        if voters < 50:
            raise typer.BadParameter("the demo needs at least 50 voters", param_hint="--voters")
        out = Console()
        console = Console(stderr=True)
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="stembus-demo-") as tmp:
            work = keep or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            if url:
                token = operator_token or _operator_token(None)
                with httpx.Client(base_url=url.rstrip("/"), timeout=120.0) as http:
                    outcome = run_demo(
                        http, token, voters=voters, seed=seed, out_dir=work, console=console
                    )
            else:
                outcome = _in_process(work, voters, seed, console)
            elapsed = time.perf_counter() - t0
            print_outcome(outcome, out)
            from cli.verify import print_report

            print_report(outcome.report)
            out.print(
                f"receipts of the first voter's ballots: "
                f"{'[green]in the log[/]' if outcome.receipt_ok else '[red]NOT verified[/]'}"
            )
            kept = outcome.promises_kept == outcome.promises
            out.print(
                f"ballot promises: {outcome.promises_kept} of {outcome.promises} kept "
                f"{'[green](every entry in the log)[/]' if kept else '[red](some broken)[/]'}; "
                f"{outcome.pending_at_close} ballots were still pending in their kiesgroep's "
                "pool when voting closed (published by the flush at the close)"
            )
            out.print(
                f"{outcome.voters} voters, {outcome.ballots_cast} ballots "
                f"({outcome.revotes} re-votes) in {elapsed:.1f} s"
            )
            if url:
                page = f"{url.rstrip('/')}{API}/elections/{outcome.election_id}/results/page"
                out.print(f"results page for employees: {page}")
            if keep:
                out.print(f"kept in {keep}: record, trustee shares, database")
        raise typer.Exit(0 if outcome.report.ok else 1)


def _operator_token(settings: Any) -> str:
    from api.auth.tokens import issue_token
    from api.settings import get_settings

    settings = settings or get_settings()
    token, _ = issue_token(
        settings, subject="operator", roles={"operator"}, election_id=None, minutes=60
    )
    return token


def _in_process(work: Path, voters: int, seed: int, console: Console) -> DemoOutcome:
    """A fresh SQLite file with the migrations, the ASGI app over FastAPI's TestClient."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Starlette's notice about its httpx-based TestClient
        from fastapi.testclient import TestClient

    from api.main import create_app
    from api.migrate import upgrade
    from api.settings import Settings

    db = work / "stembus-demo.sqlite3"
    db.unlink(missing_ok=True)
    settings = Settings(
        database_url=f"sqlite:///{db}",
        secret=secrets.token_urlsafe(48),
        public_base_url="http://stembus.demo",
        data_dir=work,
        log_level="WARNING",
        member_token_minutes=240,
        voter_token_minutes=240,
    )
    upgrade(settings.sqlalchemy_url)
    app = create_app(settings)
    try:
        with TestClient(app, base_url="http://stembus.demo") as http:
            return run_demo(
                http,
                _operator_token(settings),
                voters=voters,
                seed=seed,
                out_dir=work,
                console=console,
            )
    finally:
        app.state.engine.dispose()
