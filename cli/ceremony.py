"""`stembus ceremony` and `stembus trustee submit` (PROTOCOL.md "Keys of an election", "Tally").

The key ceremony runs offline, on the committee's own computer: it makes the X25519 sealing key,
splits the private key k-of-n with Shamir (crypto.shamir), writes one share file per trustee —
JSON for `stembus trustee submit`, and a printable text form to keep on paper — and uploads only
the public key with k and n (POST /voting/keys, committee). The private key is never written
anywhere whole and never leaves the machine.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from crypto import sealing, shamir
from crypto.canonical import b64e

API = "/api/v1"
console = Console(stderr=True)


def make_ceremony(election_id: str, k: int, n: int, out_dir: Path) -> tuple[bytes, list[Path]]:
    """Make the key pair, split it, write the share files; return (public key, files)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    private, public = sealing.generate_keypair()
    shares = shamir.split(private, k, n, election_id)
    del private  # best effort: Python cannot reliably wipe bytes
    files: list[Path] = []
    for share in shares:
        text = share.to_text()
        doc = {
            "format": "stembus-trustee-share/v1",
            "election": election_id,
            "index": share.index,
            "k": k,
            "n": n,
            "sealing_key": b64e(public),
            "share": text,
        }
        jpath = out_dir / f"trustee-{share.index}-of-{n}.json"
        jpath.write_text(json.dumps(doc, indent=2) + "\n")
        jpath.chmod(0o600)
        tpath = out_dir / f"trustee-{share.index}-of-{n}.txt"
        tpath.write_text(printable(share, public))
        tpath.chmod(0o600)
        files += [jpath, tpath]
    return public, files


def printable(share: shamir.Share, public: bytes) -> str:
    """The share on paper: instructions, then the share in groups of 8 (spaces are ignored)."""
    text = share.to_text()
    groups = " ".join(text[i : i + 8] for i in range(0, len(text), 8))
    return (
        f"STEMBUS — SLEUTELDEEL {share.index} VAN {share.total} (trustee share)\n"
        f"Verkiezing / election: {share.election_id}\n"
        f"Drempel / threshold: {share.threshold} van de {share.total} delen nodig\n"
        f"Publieke sleutel / sealing key: {b64e(public)}\n\n"
        "Bewaar dit vel veilig en geheim tot na het sluiten van de stemming. Lever het dan in met\n"
        "`stembus trustee submit <dit bestand>` (de hele regel hieronder; spaties en\n"
        "regeleinden tellen niet mee; het controlegetal aan het eind vangt tikfouten).\n\n"
        + "\n".join(textwrap.wrap(groups, 72))
        + "\n"
    )


def read_share(path: Path) -> str:
    """The share text from a JSON share file or a printed/typed text file."""
    raw = path.read_text()
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("share"), str):
        return doc["share"]
    # The printed form groups the share in blocks of 8 characters: drop all whitespace first.
    compact = "".join(raw.split())
    start = compact.rfind(shamir.TEXT_PREFIX + ":")
    if start < 0:
        raise ValueError(f"{path}: no {shamir.TEXT_PREFIX} share found")
    return compact[start:]


def _login(http: httpx.Client, base: str, election_id: str, code: str) -> str:
    r = http.post(f"{base}{API}/elections/{election_id}/login", json={"code": code})
    _check(r)
    return str(r.json()["access_token"])


def _check(r: httpx.Response) -> None:
    if r.status_code >= 400:
        try:
            body: Any = r.json()
            msg = f"{body.get('title')}: {body.get('detail') or ''}"
        except ValueError:
            msg = r.text[:200]
        raise RuntimeError(f"HTTP {r.status_code} {msg}")


def upload_public_key(
    http: httpx.Client, base: str, election_id: str, token: str, public: bytes, k: int, n: int
) -> dict[str, Any]:
    """POST the sealing public key with k and n to the voting keys route (committee)."""
    r = http.post(
        f"{base}{API}/elections/{election_id}/voting/keys",
        json={"sealing_key": b64e(public), "trustees": {"k": k, "n": n}},
        headers={"Authorization": f"Bearer {token}"},
    )
    _check(r)
    return r.json()  # type: ignore[no-any-return]


def submit_share(
    http: httpx.Client, base: str, election_id: str, token: str, share_text: str
) -> dict[str, Any]:
    r = http.post(
        f"{base}{API}/elections/{election_id}/tally/shares",
        json={"share": share_text},
        headers={"Authorization": f"Bearer {token}"},
    )
    _check(r)
    return r.json()  # type: ignore[no-any-return]


def register(app: typer.Typer) -> None:
    trustee_app = typer.Typer(help="Trustee tasks: hand in your share after voting.")
    app.add_typer(trustee_app, name="trustee")

    @app.command()
    def ceremony(
        election: Annotated[str, typer.Option(help="election id")],
        k: Annotated[int, typer.Option("-k", help="shares needed to decrypt")] = 3,
        n: Annotated[int, typer.Option("-n", help="trustees (share files)")] = 5,
        out: Annotated[Path, typer.Option(help="folder for the share files")] = Path("shares"),
        url: Annotated[str | None, typer.Option(help="server to upload the public key to")] = None,
        code: Annotated[
            str | None, typer.Option(help="committee access code for the upload")
        ] = None,
        token: Annotated[str | None, typer.Option(help="committee token instead of a code")] = None,
    ) -> None:
        """Make the sealing key offline, split it k-of-n, write the trustee shares, upload the
        public key only."""
        public, files = make_ceremony(election, k, n, out)
        console.print(f"[green]sealing key made[/], public key {b64e(public)}")
        for f in files:
            console.print(f"  wrote {f}")
        console.print(
            f"Give each trustee one share (both files of one number). Any {k} of the {n} "
            "shares decrypt the ballots after voting closes; fewer reveal nothing."
        )
        if url:
            with httpx.Client(timeout=30.0) as http:
                if token is None:
                    if code is None:
                        code = typer.prompt("committee access code", hide_input=True)
                    token = _login(http, url.rstrip("/"), election, code)
                out_body = upload_public_key(http, url.rstrip("/"), election, token, public, k, n)
            console.print(f"[green]public key uploaded[/]: keys entry {out_body.get('index')}")
        else:
            console.print("not uploaded (no --url): upload the public key with k and n yourself")

    @trustee_app.command("submit")
    def trustee_submit(
        share_file: Annotated[Path, typer.Argument(help="your share file (.json or .txt)")],
        url: Annotated[str, typer.Option(help="the Stembus server")],
        election: Annotated[
            str | None, typer.Option(help="election id (default: from share)")
        ] = None,
        code: Annotated[str | None, typer.Option(help="your trustee access code")] = None,
    ) -> None:
        """Hand in your share after voting has closed."""
        text = read_share(share_file)
        share = shamir.Share.from_text(text)
        eid = election or share.election_id
        if code is None:
            code = typer.prompt("trustee access code", hide_input=True)
        with httpx.Client(timeout=120.0) as http:
            token = _login(http, url.rstrip("/"), eid, code)
            try:
                st = submit_share(http, url.rstrip("/"), eid, token, text)
            except RuntimeError as exc:
                console.print(f"[red]{exc}[/]")
                raise typer.Exit(1) from None
        console.print(f"share {share.index} handed in: {st['received']} of {st['k']} received")
        if st.get("message"):
            console.print(st["message"])
        for bad in st.get("bad_shares") or []:
            console.print(f"[yellow]share {bad['index']}: {bad['reason']}[/]")
        if st["status"] == "tallied":
            console.print("[green]the election is tallied[/]")
