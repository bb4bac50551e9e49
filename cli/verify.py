"""`stembus verify RECORD_OR_URL` and `stembus verify-receipt` — the independent verifier.

`verify` downloads the record (streamed to a temporary file when given a URL) and runs every
check of docs/protocol.md "What a verifier checks" (rules.record.verify_record) with a progress bar;
the exit status is 0 only if every check passed. `verify-receipt` checks a cast receipt: against
a record file (the receipt's ballot is in the final log), or against the server (the receipt's
checkpoint is consistent with the latest one, RFC 9162 consistency proof). It takes a ballot
promise as well (the cast's answer): signed by the log key, and its entry in the record, or on
the server pending in its pool or included in the log (with its receipt, checked).

``--workers N`` bounds the worker processes that verify signatures and decrypt ballots (default:
one per CPU; 1: none, everything in this process), for a shared machine or CI; the verdicts are
the same for every N. It applies wherever a whole record is verified: `verify`, and
`verify-receipt --record`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rules.record import CHECKS, Receipt, Report, verify_receipt, verify_record
from rules.record_parallel import default_workers

console = Console(stderr=True)
out = Console()


def _record_url(target: str) -> str:
    url = target.rstrip("/")
    if url.endswith("/record"):
        return url
    if "/elections/" in url:
        return url + "/record"
    raise typer.BadParameter("give a record file, or the URL of /elections/<id>/record")


def download(url: str, dest: Path, http: httpx.Client | None = None) -> None:
    client = http or httpx.Client(timeout=120.0)
    with client.stream("GET", url) as r:
        if r.status_code >= 400:
            r.read()
            raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")
        with dest.open("wb") as f:
            for chunk in r.iter_bytes():
                f.write(chunk)


def print_report(report: Report) -> None:
    table = Table(
        title=f"Election {report.election}: {report.entries} entries, "
        f"{report.checkpoints} checkpoints, {report.ballots} ballots, "
        f"{report.credentials} credentials"
    )
    table.add_column("check")
    table.add_column("passed", justify="right")
    table.add_column("failed", justify="right")
    for cid, label in CHECKS.items():
        ok, bad = report.passed.get(cid, 0), report.failure_counts.get(cid, 0)
        if ok or bad:
            table.add_row(label, str(ok), f"[red]{bad}[/]" if bad else "0")
    out.print(table)
    for f in report.failures:
        out.print(f"[red]FAIL[/] {f}")
    if report.ok:
        out.print(
            "[bold green]VERIFIED[/]: every check passed; the published result is exactly "
            "what the ballots in the log give."
        )
    else:
        out.print(f"[bold red]NOT VERIFIED[/]: {sum(report.failure_counts.values())} failure(s)")


def _check_workers(value: int | None) -> int | None:
    """Refuse 0 or fewer workers before any work: the library would quietly read that as 1."""
    if value is not None and value < 1:
        raise typer.BadParameter(
            f"{value} workers: give 1 or more (1 runs everything in this process, "
            f"without worker processes; the default is one per CPU, {default_workers()} here)"
        )
    return value


_WORKERS_HELP = (
    "processes that verify signatures and decrypt ballots (default: one per CPU); 1 = none, "
    "everything runs in this process. The verdicts are the same for any number."
)


def promise_text(raw: str) -> str | None:
    """The ballot promise note in a file's text: the cast's JSON answer (`promise`), or the
    bare signed note; None if the text is not a promise (a receipt, say)."""
    from crypto import note

    if raw.startswith(note.PROMISE_HEADER + "\n"):
        return raw
    if raw.lstrip().startswith("{"):
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        text = data.get("promise") if isinstance(data, dict) else None
        if isinstance(text, str) and "tlog_proof" not in data and "checkpoint" not in data:
            return text
    return None


def run_verify(
    path: Path,
    log_key: str | None,
    receipts: list[Receipt],
    workers: int | None = None,
    promises: list[str] | None = None,
) -> Report:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        tasks: dict[str, Any] = {}

        def cb(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done, total=total)

        return verify_record(
            path,
            log_key=log_key,
            receipts=receipts,
            promises=promises or [],
            progress=cb,
            workers=workers,
        )


def register(app: typer.Typer) -> None:
    @app.command()
    def verify(
        record: Annotated[str, typer.Argument(help="record file or its URL")],
        log_key: Annotated[str | None, typer.Option(help="pin the expected log key")] = None,
        receipt: Annotated[list[Path] | None, typer.Option(help="also check a receipt")] = None,
        promise: Annotated[
            list[Path] | None, typer.Option(help="also check a ballot promise: its entry is in")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
        workers: Annotated[
            int | None,
            typer.Option(help=_WORKERS_HELP, callback=_check_workers, show_default=False),
        ] = None,
    ) -> None:
        """Verify a whole election record: every check of docs/protocol.md, non-zero exit on
        failure.

        Use --workers 1 on a shared machine or in CI (default: one worker process per CPU).
        """
        receipts = [Receipt.parse(p.read_text()) for p in receipt or []]
        promises = []
        for p in promise or []:
            text = promise_text(p.read_text())
            if text is None:
                raise typer.BadParameter(f"{p} holds no ballot promise")
            promises.append(text)
        with tempfile.TemporaryDirectory() as tmp:
            if record.startswith(("http://", "https://")):
                path = Path(tmp) / "record.jsonl"
                console.print(f"downloading {_record_url(record)}")
                download(_record_url(record), path)
            else:
                path = Path(record)
            report = run_verify(path, log_key, receipts, workers, promises)
        if as_json:
            print(json.dumps(report.to_dict(), indent=2))
        else:
            print_report(report)
        raise typer.Exit(0 if report.ok else 1)

    @app.command("verify-receipt")
    def verify_receipt_cmd(
        receipt_file: Annotated[Path, typer.Argument(help="the receipt (JSON or tlog-proof)")],
        url: Annotated[str | None, typer.Option(help="Stembus server base URL")] = None,
        record: Annotated[Path | None, typer.Option(help="an election record file")] = None,
        log_key: Annotated[str | None, typer.Option(help="pin the expected log key")] = None,
        workers: Annotated[
            int | None,
            typer.Option(
                help="with --record only (the whole record is verified): " + _WORKERS_HELP,
                callback=_check_workers,
                show_default=False,
            ),
        ] = None,
    ) -> None:
        """Check that your ballot's receipt is in the log and the log was not rewritten since.

        With --record the whole record is verified too, in --workers processes.

        Against a server (--url) only the receipt's proofs are checked: --workers does not apply.
        """
        raw = receipt_file.read_text()
        if raw.lstrip().startswith("{") and '"secret_key"' in raw:
            out.print(
                f"[red]{receipt_file} is your credential file (secret)[/]. Give one of the receipt "
                "or promise files `stembus vote` writes next to it (…-receipt-N.json, "
                "…-promise-N.json)."
            )
            raise typer.Exit(2)
        promised = promise_text(raw)
        if promised is not None:
            _verify_promise(promised, url, record, log_key, workers)
            return
        rec = Receipt.parse(raw)
        data = json.loads(raw) if raw.lstrip().startswith("{") else {}
        eid = rec.election or data.get("election")
        if record is not None:
            report = run_verify(record, log_key, [rec], workers)
            bad = [f for f in report.failures if f.check == "receipt"]
            if bad or not report.passed.get("receipt"):
                why = "; ".join(str(f) for f in bad) or "receipt not checked"
                out.print(f"[bold red]RECEIPT NOT VERIFIED[/]: {why}")
                raise typer.Exit(1)
            out.print(
                f"[green]receipt verified[/]: entry {rec.index} is in the record "
                f"(record itself: {'VERIFIED' if report.ok else 'NOT VERIFIED'})"
            )
            raise typer.Exit(0 if report.ok else 1)
        try:
            if url is None or not eid:
                raise typer.BadParameter("give --record, or --url and a JSON receipt")
            base = url.rstrip("/") + f"/api/v1/elections/{eid}/log"
            with httpx.Client(timeout=30.0) as http:
                key = log_key or http.get(base + "/key").json()["verifier_key"]
                latest = http.get(base + "/checkpoint").json()
                from crypto import note

                final = note.open_checkpoint(latest["note"], note.Verifier.from_key_string(key))
                first = verify_receipt(rec, key)
                proof: list[bytes] = []
                if final.size != first.size:
                    c = http.get(
                        base + "/proofs/consistency", params={"from": first.size, "to": final.size}
                    ).json()
                    proof = [bytes.fromhex(h) for h in c["proof"]]
                verify_receipt(
                    rec, key, final=(final.size, final.root_hash), consistency_proof=proof
                )
        except (ValueError, KeyError, RuntimeError, httpx.HTTPError) as exc:
            out.print(f"[bold red]RECEIPT NOT VERIFIED[/]: {exc}")
            raise typer.Exit(1) from None
        out.print(
            f"[bold green]receipt verified[/]: entry {rec.index} is in checkpoint "
            f"{first.size}, and the latest checkpoint ({final.size}) extends it"
        )


def _verify_promise(
    text: str, url: str | None, record: Path | None, log_key: str | None, workers: int | None
) -> None:
    """`verify-receipt` given a ballot promise (docs/protocol.md "What a verifier checks" 6)."""
    from crypto import note

    if record is not None:
        report = run_verify(record, log_key, [], workers, [text])
        bad = [f for f in report.failures if f.check == "promise"]
        if bad or not report.passed.get("promise"):
            why = "; ".join(str(f) for f in bad) or "promise not checked"
            out.print(f"[bold red]PROMISE NOT KEPT[/]: {why}")
            raise typer.Exit(1)
        out.print(
            "[green]promise kept[/]: its entry is in the record "
            f"(record itself: {'VERIFIED' if report.ok else 'NOT VERIFIED'})"
        )
        raise typer.Exit(0 if report.ok else 1)
    if url is None:
        raise typer.BadParameter("give --record, or --url, to check a promise")
    try:
        body = note.BallotPromise.from_text(note.parse_note(text)[0])
        eid = body.origin.rsplit("/elections/", 1)[-1]
        base = url.rstrip("/") + f"/api/v1/elections/{eid}"
        with httpx.Client(timeout=30.0) as http:
            key = log_key or http.get(base + "/log/key").json()["verifier_key"]
            verifier = note.Verifier.from_key_string(key)
            opened = note.open_promise(text, verifier, verifier.name)
            r = http.get(base + f"/receipts/{opened.entry_hash.hex()}")
            if r.status_code == 404:
                out.print(
                    "[bold red]PROMISE NOT KEPT (so far)[/]: the service knows no such ballot. "
                    "Keep the promise: after the close of voting it is a signed proof that the "
                    "service broke it."
                )
                raise typer.Exit(1)
            r.raise_for_status()
            got = r.json()
            if got["status"] == "pending":
                out.print(
                    "[yellow]promise verified, ballot pending[/]: it waits for its batch and is "
                    "published at the latest when voting closes; check again then."
                )
                return
            rec = Receipt.parse(got["receipt"])
            if rec.leaf_hash != opened.entry_hash:
                raise ValueError("the served receipt is for another entry")
            cp = verify_receipt(rec, key)
    except (ValueError, KeyError, httpx.HTTPError) as exc:
        out.print(f"[bold red]PROMISE NOT VERIFIED[/]: {exc}")
        raise typer.Exit(1) from None
    out.print(
        f"[bold green]promise kept[/]: the ballot is entry {rec.index} of the log, receipt "
        f"verified against checkpoint {cp.size}"
    )
