"""`stembus vote`: vote (or re-vote) from the command line with the Python SDK (cli.client).

    stembus vote --url https://stembus.example --election ID --code XXXX-... \
        --choose q1=yes --choose q2=fiets,sport
    stembus vote --url ... --election ID --code ... --choose c12        (works council)

The credential (secret) and every receipt are saved to a file (default
`stembus-<election>-credential.json`, mode 0600); with that file present, `stembus vote` re-votes
with the saved credential instead of asking for a new one, which the server would refuse anyway.
The credential request is saved there too before it is sent, so a run whose answer was lost
resumes on the next run with the same request (docs/protocol.md: same blinded_msg, same blind_sig).
The choices are checked against the published questions or lists before anything is sent.

A cast is answered with a ballot promise (docs/protocol.md "Casting" step 4): the ballot waits in
its kiesgroep's pool and is published with at least `batch_size` others, in an order that says
nothing about who cast it when; `stembus vote --check` later fetches and verifies the receipt of
every ballot that is in the log by then (all of them once voting has closed). The signed ballot
is saved in the file before it is sent, so a run whose answer was lost sends the very same ballot
again on the next run and gets the same promise. Without that (an older file), in an election
without re-voting, the next run finds the ballot in the public log and recovers its receipt,
saying what that receipt can and cannot show (cli.client.RecoveredReceipt).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from rules import ballot as ballot_rules

console = Console()


def parse_choices(election: dict[str, Any], choose: list[str]) -> Any:
    """`q=a,b` per question for a consultation; candidate ids for a works council."""
    if election["kind"] == "consultation":
        out: dict[str, list[str]] = {}
        for c in choose:
            q, sep, opts = c.partition("=")
            if not sep:
                raise typer.BadParameter(f"expected question=option[,option], got {c!r}")
            out[q.strip()] = [o.strip() for o in opts.split(",") if o.strip()]
        return out
    return [x.strip() for c in choose for x in c.split(",") if x.strip()]


def describe_choices(definition: dict[str, Any]) -> str:
    """The valid choices of a published ballot definition, one line per question or list."""
    if "questions" in definition:
        lines = []
        for q in definition["questions"]:
            d = ballot_rules.QuestionDef.model_validate(q)
            opts = ",".join(o.id for o in d.options)
            many = "one" if d.allowed == 1 else f"up to {d.allowed}"
            lines.append(f"  {d.id}=<{many} of {opts}>  {d.text}")
        return "\n".join(lines)
    g = ballot_rules.GroupDef.model_validate(definition)
    many = "one" if g.max_selections == 1 else f"up to {g.max_selections}"
    lines = [f"  {many} candidate id(s) of kiesgroep {g.group}:"]
    for lst in g.lists:
        cands = ", ".join(f"{c.id} {c.name}".strip() for c in lst.ordered())
        lines.append(f"  {lst.id} {lst.name}: {cands}")
    return "\n".join(lines)


EXIT_CODES = """Exit codes: 0 done; 1 a check of the service's answer failed; 2 usage (bad or
missing options, invalid choices, a file of another voter or election); 3 the service refused
(the problem type is shown); 4 the service could not be reached (run the same command again)."""


def _fail(code: int, message: str, todo: str) -> typer.Exit:
    """One clear line (and what to do), then the exit code (EXIT_CODES)."""
    console.print(f"[red]{message}[/]. {todo}", highlight=False)
    return typer.Exit(code)


def _refused(e: Any) -> typer.Exit:
    detail = e.problem.get("detail") or e.problem.get("title") or ""
    todo = {
        "/problems/invalid-access-code": "Check the code in your invitation.",
        "/problems/voting-not-open": "Voting is not open now: see the election's dates.",
        "/problems/outside-voting-window": "Voting is not open now: see the election's dates.",
        "/problems/credential-already-issued": (
            "A credential was already issued for this code: vote with the credential file "
            "made then (--state), or tell the election committee if that was not you."
        ),
        "/problems/revoting-not-allowed": "This election allows one ballot: yours is cast.",
        "/problems/rate-limited": "Too many tries: wait a while and try again.",
    }.get(e.type, "Ask the election committee if this is unexpected.")
    return _fail(3, f"Refused by the service ({e.status} {e.type}): {detail}".rstrip(": "), todo)


def _receipt_files(path: Path, cred: Any) -> list[Path]:
    """Each promise and receipt of the credential as a file of its own next to the credential
    file, in the form `stembus verify-receipt` takes as it is (none of them is secret)."""
    out = []
    receipts = {r["entry_hash"]: r for r in cred.receipts}
    for p in cred.promises:
        seq = p.get("seq", "")
        r = receipts.get(p["entry_hash"])
        name = f"{path.stem}-receipt-{seq}.json" if r else f"{path.stem}-promise-{seq}.json"
        f = path.with_name(name)
        f.write_text(json.dumps(r or p, indent=2) + "\n", encoding="utf-8")
        if r:
            path.with_name(f"{path.stem}-promise-{seq}.json").unlink(missing_ok=True)
        out.append(f)
    return out


def show_choices(definition: dict[str, Any], selections: Any) -> str:
    """The choices in words, as the published ballot definition names them."""
    if "questions" in definition:
        lines = []
        for q in definition["questions"]:
            d = ballot_rules.QuestionDef.model_validate(q)
            chosen = (selections or {}).get(d.id) or []
            names = {o.id: o.text for o in d.options}
            said = ", ".join(names.get(c, c) for c in chosen) or "(blank)"
            lines.append(f"  {d.text}: {said}")
        return "\n".join(lines)
    g = ballot_rules.GroupDef.model_validate(definition)
    names = {c.id: f"{c.name} ({lst.name})" for lst in g.lists for c in lst.ordered()}
    if not selections:
        return "  blank (no candidate)"
    return "\n".join(f"  {names.get(c, c)}" for c in selections)


def vote(
    url: Annotated[str, typer.Option(help="the server's base URL")],
    election: Annotated[str, typer.Option(help="election id")],
    code: Annotated[
        str | None, typer.Option(help="your access code (first vote; checked against the file)")
    ] = None,
    choose: Annotated[
        list[str] | None,
        typer.Option(help="a choice: `question=option[,option]` or a candidate id; repeatable"),
    ] = None,
    blank: Annotated[bool, typer.Option("--blank", help="cast a blank ballot")] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="do not ask before sealing (for scripts)")
    ] = False,
    state: Annotated[
        Path | None, typer.Option(help="credential + promises file (secret; kept for re-votes)")
    ] = None,
    delay_max: Annotated[
        float, typer.Option(help="wait a random 0..SECONDS between issuance and casting")
    ] = 0.0,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="cast nothing: fetch and verify the receipts of your ballots now in the log",
        ),
    ] = False,
) -> None:
    """Vote: log in with your code, get an anonymous credential, seal, cast, keep the promise.

    Give your choices with --choose, or --blank for a blank ballot; they are checked against the
    published questions or lists and shown before anything is sealed (--yes skips the question).
    If the answer to the credential request or the ballot was lost, run the same command again:
    the saved request or ballot is sent again and the vote completes. With --check, nothing is
    cast: the receipts of the saved ballots are fetched, and each promise and receipt is written
    to a file of its own that `stembus verify-receipt` takes.

    Exit codes: 0 done; 1 a check of the service's answer failed; 2 usage; 3 the service refused;
    4 the service could not be reached."""
    import httpx

    from cli.client import (
        PendingCredential,
        ProtocolError,
        RecoveredPromise,
        RecoveredReceipt,
        StembusClient,
        StembusError,
        StoredCredential,
        check_selections,
        load_state,
    )

    client = StembusClient(url)
    path = state or Path(f"stembus-{election}-credential.json")
    if check:
        _check_receipts(client, election, path)
        return
    if blank and choose:
        raise _fail(2, "Both --blank and --choose given", "Give one of them.")
    if not blank and not choose:
        raise _fail(
            2,
            "No choices given",
            "Give your choices with --choose (repeatable), or --blank for a blank ballot.",
        )

    def check_choices(group: str, selections: Any) -> None:
        definition = client.ballot_definition(election, group)
        reason = check_selections(definition, election, group, selections)
        if reason is not None:
            console.print(f"[red]Invalid choice[/]: {reason}; nothing was cast. Valid choices:")
            console.print(describe_choices(definition), markup=False, highlight=False)
            raise typer.Exit(2)
        console.print("Your ballot:", highlight=False)
        console.print(show_choices(definition, selections), markup=False, highlight=False)
        if not yes and not typer.confirm("Seal and cast this ballot?", default=False):
            raise _fail(2, "Nothing was cast", "Run the command again with the choices you want.")

    def same_voter(saved_pseudonym: str, token: str) -> None:
        mine = str(client.credential_status(election, token)["pseudonym"])
        if saved_pseudonym != mine:
            raise _fail(
                2,
                f"{path} belongs to another voter than this access code",
                "Use a credential file of your own: --state FILE (each voter their own).",
            )

    try:
        info = client.election(election)
        selections = (
            parse_choices(info, choose or [])
            if not blank
            else ([] if info["kind"] != "consultation" else {})
        )
        try:
            saved = load_state(path) if path.exists() else None
        except (ValueError, TypeError) as e:
            raise _fail(
                2, f"{path} is not a Stembus credential file ({e})", "Give --state."
            ) from None
        if saved is not None and saved.election != election:
            raise _fail(2, f"{path} holds a credential of another election", "Give --state.")
        if isinstance(saved, StoredCredential):
            cred = saved
            if code:  # a code with a saved credential: it must be the same voter's
                same_voter(cred.pseudonym, client.login(election, code))
            check_choices(cred.group, selections)
            if cred.seq == 0:  # saved before casting: the first ballot's answer never came
                console.print(f"Voting with the saved credential ({path})")
            else:
                console.print(f"Re-voting with the saved credential ({path}); seq {cred.seq + 1}")
        else:
            if not code:
                why = "to resume the saved credential request" if saved else "for the first vote"
                raise _fail(2, f"--code is needed {why}", "Give the code from your invitation.")
            token = client.login(election, code)
            status = client.credential_status(election, token)
            if isinstance(saved, PendingCredential) and saved.pseudonym != status["pseudonym"]:
                raise _fail(
                    2,
                    f"{path} holds another voter's credential request",
                    "Use a credential file of your own: --state FILE (each voter their own).",
                )
            if not status["may_vote"]:
                reasons = client.my_registration(election, token).get("reasons") or []
                why = "; ".join(str(r) for r in reasons) or "the roll says you may not vote"
                raise _fail(
                    3,
                    f"You may not vote in this election: {why}",
                    "If this is wrong, ask the election committee.",
                )
            console.print(
                f"Kiesgroep [bold]{status['group']}[/]; your pseudonym in the log: "
                f"[cyan]{status['pseudonym']}[/]"
            )
            group = saved.group if isinstance(saved, PendingCredential) else str(status["group"])
            check_choices(group, selections)
            if isinstance(saved, PendingCredential):
                pending, resumed = saved, True
                console.print(
                    f"[yellow]Resuming the credential request saved in {path}[/]: its answer "
                    "did not arrive, so the same blinded message is sent again."
                )
            else:
                # Saved before it is sent: if the answer is lost, a rerun sends the same
                # blinded_msg and gets the same signature (a new one would be refused).
                pending, resumed = client.begin_issuance(election, group), False
                pending.pseudonym = str(status["pseudonym"])
                pending.save(path)
            try:
                cred = client.finish_issuance(pending, token)
            except StembusError as e:
                # A refusal by the service itself (4xx problem) means nothing was issued for
                # this request; anything else (a proxy's 502, say) may follow a commit: keep it.
                if not resumed and 400 <= e.status < 500 and "/problems/" in e.type:
                    path.unlink(missing_ok=True)
                raise
            cred.save(path)  # before casting: losing it would make a re-vote impossible
            console.print("[green]Anonymous credential obtained and verified[/]")
            if delay_max > 0:
                wait = random.SystemRandom().uniform(0, delay_max)
                console.print(f"Waiting {wait:.0f} s before casting (unlinks timing)…")
                time.sleep(wait)
        before = cred.seq
        if cred.pending_ballot is not None:
            console.print(
                f"[yellow]Sending again the ballot saved in {path}[/] (seq "
                f"{cred.pending_ballot['seq']}): its answer did not arrive."
            )
        answer = client.cast(cred, selections, on_prepared=lambda c: c.save(path))
        cred.save(path)
        if isinstance(answer, RecoveredPromise):
            console.print(
                "[yellow]Your earlier ballot counts[/]: its answer was lost, the service has it "
                "(the same promise again), and re-voting is not allowed, so the choices given "
                "now were not cast."
            )
        elif isinstance(answer, RecoveredReceipt):
            console.print(
                "[yellow]Receipt recovered from the public log[/]: re-voting is not allowed, so "
                "your earlier ballot (its receipt was lost) counts; it is signed with your "
                "credential, which only you hold, but that its sealed content is the choices "
                "given now cannot be checked."
            )
        elif cred.seq > before + 1:
            console.print(
                f"[yellow]The log holds a ballot with seq {cred.seq - 1} whose receipt never "
                f"arrived[/]; this ballot (seq {cred.seq}) replaces it."
            )
    except StembusError as e:
        raise _refused(e) from None
    except ProtocolError as e:
        raise _fail(
            1,
            f"The service's answer failed a check: {e}",
            "Nothing from it was trusted; tell the election committee.",
        ) from None
    except httpx.TransportError as e:
        raise _fail(
            4,
            f"No answer from the server ({e})",
            f"Run the same command again: {path} keeps what is needed to resume.",
        ) from None
    files = _receipt_files(path, cred)
    table = Table(show_header=False, box=None)
    table.add_row("election", answer["election"])
    if "index" in answer:  # a receipt (recovered from the log)
        table.add_row("log index", str(answer["index"]))
    table.add_row("entry hash", answer["entry_hash"])
    table.add_row("seq", str(cred.seq))
    if isinstance(answer, RecoveredReceipt):
        title = "Ballot in the log — recovered receipt verified"
    else:
        title = "Ballot accepted — promise verified"
    console.print(Panel(table, title=f"[green]{title}[/]"))
    if "index" not in answer:
        console.print(
            "The ballot waits for its batch: it is published with others, in an order that says "
            "nothing about when it was cast, at the latest when voting closes. Run "
            f"[bold]stembus vote --url {url} --election {election} --check[/] later for its "
            "receipt; the signed promise proves the service took it."
        )
    console.print(f"Credential, promises and receipts saved to [bold]{path}[/] (keep it private).")
    if files:
        console.print(
            f"The promise of this ballot, for `stembus verify-receipt`: [bold]{files[-1]}[/]"
        )


def _check_receipts(client: Any, election: str, path: Path) -> None:
    """`stembus vote --check`: the receipts of the saved ballots that are in the log now, each
    (or its promise, while pending) also written to a file `stembus verify-receipt` takes."""
    import httpx

    from cli.client import ProtocolError, StembusError, StoredCredential

    try:
        cred = StoredCredential.load(path)
    except (OSError, ValueError, TypeError) as e:
        raise _fail(2, f"No credential file to check ({path}: {e})", "Give --state.") from None
    if cred.election != election:
        raise _fail(2, f"{path} holds a credential of another election", "Give --state.")
    try:
        held, pending = client.collect_receipts(cred)
    except StembusError as e:
        raise _refused(e) from None
    except ProtocolError as e:
        raise _fail(
            1, f"Check failed: {e}", "Keep your promise files; tell the committee."
        ) from None
    except httpx.TransportError as e:
        raise _fail(4, f"No answer from the server ({e})", "Try again later.") from None
    cred.save(path)
    files = _receipt_files(path, cred)
    table = Table("seq", "entry hash", "status")
    receipts = {r["entry_hash"]: r for r in cred.receipts}
    for p in cred.promises:
        r = receipts.get(p["entry_hash"])
        status = f"in the log, index {r['index']} (receipt verified)" if r else "pending"
        table.add_row(str(p.get("seq", "")), p["entry_hash"], status)
    console.print(table)
    if pending:
        console.print(
            f"{pending} ballot(s) still wait for their batch; every one is published at the "
            "latest when voting closes. Run --check again then."
        )
    else:
        console.print(f"[green]Every ballot is in the log[/]; receipts saved to {path}.")
    for f in files:
        console.print(f"  for `stembus verify-receipt`: {f}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("vote")(vote)
