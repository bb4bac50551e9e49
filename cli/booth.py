"""`stembus verify-booth SERVER/elections/ID` — does a server serve exactly the booth in its log?

The ``booth_published`` entry (docs/protocol.md "The booth's code") holds the SHA-256 of every
asset of the voter's pages at the path it is served at. This command takes that entry

- from the server's log, checking its inclusion proof against the latest checkpoint signed by
  the log key (``--log-key`` pins the key; without it the server's own key is used and the
  output says so), or
- from a record file (``--record``), which is verified in full first (as ``stembus verify``),

then fetches every path from the server — without cookies, as a voter's browser would on a first
visit — and compares the bytes. Exit status: 0 every asset matches; 1 an asset differs or is
missing, or the entry cannot be trusted; 2 bad arguments or no booth entry (voting never opened).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
import typer
from rich.console import Console
from rich.table import Table

from crypto import merkle, note
from crypto.canonical import canonical_json
from rules.record import booth_problem

out = Console()
err = Console(stderr=True)
PAGE = 1000


class BoothError(Exception):
    """The pinned booth cannot be obtained or trusted (exit status 1)."""


def split_target(target: str) -> tuple[str, str]:
    """``https://host/prefix/elections/<id>[/…]`` → (base URL, election id)."""
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise typer.BadParameter("give the election's address: https://<server>/elections/<id>")
    path = parts.path.rstrip("/")
    head, sep, rest = path.rpartition("/elections/")
    election = rest.split("/", 1)[0]
    if not sep or not election:
        raise typer.BadParameter("the address must hold /elections/<id>")
    return f"{parts.scheme}://{parts.netloc}{head}", election


def pinned_from_server(
    http: httpx.Client, base: str, election: str, log_key: str | None
) -> tuple[int, dict[str, str], bool]:
    """(index, assets, key pinned?) of the booth entry, proven included in a signed checkpoint."""
    log = f"{base}/api/v1/elections/{election}/log"
    start: int | None = 0
    found: tuple[int, dict[str, Any]] | None = None
    while start is not None and found is None:
        page = _json(http.get(f"{log}/entries", params={"start": start, "limit": PAGE}))
        for item in page["entries"]:
            entry = item["entry"]
            if entry.get("type") == "booth_published":
                found = (item["index"], entry)
                break
            if entry.get("type") == "phase_changed" and entry.get("to") == "voting":
                start = None
                break
        else:
            start = page.get("next")
    if found is None:
        raise LookupError("the log holds no booth_published entry: voting has not opened")
    index, entry = found
    key = log_key or _json(http.get(f"{log}/key"))["verifier_key"]
    proof = _json(http.get(f"{log}/proofs/inclusion", params={"index": index}))
    try:
        cp = note.open_checkpoint(proof["checkpoint"], note.Verifier.from_key_string(key))
        leaf = merkle.leaf_hash(canonical_json(entry))
        merkle.verify_inclusion(
            leaf, index, cp.size, [bytes.fromhex(h) for h in proof["proof"]], cp.root_hash
        )
    except (ValueError, note.NoteError, merkle.ProofError) as exc:
        raise BoothError(f"the booth entry is not proven in the signed log: {exc}") from None
    return index, _assets(entry), log_key is not None


def pinned_from_record(path: Path, log_key: str | None) -> dict[str, str]:
    from cli.verify import run_verify

    report = run_verify(path, log_key, [], 1)
    if not report.ok:
        raise BoothError(
            f"the record does not verify ({sum(report.failure_counts.values())} failures): "
            "run `stembus verify` on it"
        )
    if report.booth is None:
        raise LookupError("the record holds no booth_published entry: voting never opened")
    return report.booth


def _assets(entry: dict[str, Any]) -> dict[str, str]:
    why = booth_problem(entry)
    if why is not None:
        raise BoothError(why)
    return dict(entry["assets"])


def _json(r: httpx.Response) -> Any:
    if r.status_code >= 400:
        raise BoothError(f"{r.request.url}: HTTP {r.status_code}")
    return r.json()


def compare(http: httpx.Client, base: str, assets: dict[str, str]) -> list[dict[str, Any]]:
    """One row per pinned path: what the server answers there, and whether it matches."""
    rows = []
    for path, want in sorted(assets.items()):
        status: int | str
        try:
            r = http.get(base + path, headers={"Accept": "*/*"})
            got = hashlib.sha256(r.content).hexdigest() if r.status_code == 200 else None
            status = r.status_code
        except httpx.HTTPError as exc:
            got, status = None, type(exc).__name__
        rows.append(
            {"path": path, "pinned": want, "served": got, "status": status, "ok": got == want}
        )
    return rows


def register(app: typer.Typer) -> None:
    @app.command("verify-booth")
    def verify_booth(
        target: Annotated[str, typer.Argument(help="the election's address: SERVER/elections/ID")],
        record: Annotated[
            Path | None, typer.Option(help="take the pinned booth from this record file")
        ] = None,
        log_key: Annotated[str | None, typer.Option(help="pin the expected log key")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    ) -> None:
        """Check that a server serves exactly the booth pinned in the election's log."""
        base, election = split_target(target)
        with httpx.Client(timeout=30.0, follow_redirects=False) as http:
            try:
                if record is not None:
                    assets, where = pinned_from_record(record, log_key), f"record {record}"
                    key_pinned = True
                else:
                    index, assets, key_pinned = pinned_from_server(http, base, election, log_key)
                    where = f"log entry {index}"
                rows = compare(http, base, assets)
            except LookupError as exc:
                err.print(f"[red]{exc}[/]")
                raise typer.Exit(2) from None
            except (BoothError, httpx.HTTPError, KeyError, ValueError) as exc:
                err.print(f"[bold red]BOOTH NOT VERIFIED[/]: {exc}")
                raise typer.Exit(1) from None
        ok = all(r["ok"] for r in rows)
        if as_json:
            print(json.dumps({"ok": ok, "pinned_in": where, "assets": rows}, indent=2))
        else:
            table = Table(title=f"Booth of election {election}, pinned in {where}")
            for col in ("path", "result"):
                table.add_column(col)
            for r in rows:
                result = (
                    "[green]same bytes[/]"
                    if r["ok"]
                    else f"[red]DIFFERENT[/] (HTTP {r['status']}, sha256 {r['served']})"
                )
                table.add_row(r["path"], result)
            out.print(table)
            if not key_pinned:
                out.print(
                    "[yellow]the log key came from the server itself; pin it with --log-key "
                    "(from the record or the election's announcement)[/]"
                )
            out.print(
                "[bold green]BOOTH VERIFIED[/]: the server serves the pinned booth"
                if ok
                else "[bold red]BOOTH NOT VERIFIED[/]: the server serves other code than the log"
            )
        raise typer.Exit(0 if ok else 1)
