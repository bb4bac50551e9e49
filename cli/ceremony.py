"""`stembus ceremony` and `stembus trustee submit` (docs/protocol.md "Keys of an election",
"Tally").

The key ceremony runs offline, on the committee's own computer: it makes the X25519 sealing key,
splits the private key k-of-n with Shamir (crypto.shamir), writes one share file per trustee —
JSON for `stembus trustee submit`, and a printable text form to keep on paper — and uploads only
the public key with k and n (POST /voting/keys, committee). The private key is never written
anywhere whole and never leaves the machine.
"""

from __future__ import annotations

import json
import shutil
import tempfile
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


# Exit codes of `stembus ceremony` and `stembus trustee submit` (README "Command line").
EXIT_OK = 0
EXIT_CHECK = 1  # a check failed: the share file does not check out, or the server found it wrong
EXIT_USAGE = 2  # wrong arguments or unreadable/existing files (also typer's own usage errors)
EXIT_SERVICE = 3  # the service refused (its problem type is printed)
EXIT_UNREACHABLE = 4  # the service could not be reached

# What to do, per problem type the two commands can meet (api/problems.py, GET /problems).
WHAT_TO_DO = {
    "/problems/invalid-access-code": "check the access code (the committee can make a new one)",
    "/problems/unauthenticated": "log in again with your access code",
    "/problems/rate-limited": "wait a few minutes, then try again",
    "/problems/forbidden": "use the access code of a committee member (ceremony) or trustee",
    "/problems/not-found": "check the election id and --url",
    "/problems/keys-wrong-phase": "publish the lists first (the election must be in "
    "lists_published)",
    "/problems/keys-already-prepared": "nothing to do: the keys exist; keep the shares of the "
    "ceremony that uploaded them",
    "/problems/no-vote-needed": "no ceremony: publish the result with POST .../transitions "
    '{"to": "tallied"}',
    "/problems/invalid-sealing-key": "run the ceremony again with 1 <= k <= n",
    "/problems/shares-not-accepted": "hand in your share after voting has closed, before the tally",
    "/problems/invalid-share": "use the share file of this election you received at the ceremony",
    "/problems/share-index-taken": "another trustee handed in this share number: check that you "
    "hold your own share file",
}


class CommandFailed(Exception):
    """One clear line for the user, and the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def http_client(timeout: float) -> Any:
    """The HTTP client of the two commands (a context manager; tests pass the app's client)."""
    return httpx.Client(timeout=timeout)


def _check(r: httpx.Response) -> None:
    """Turn a problem answer into one line: title, status, type, detail, what to do."""
    if r.status_code < 400:
        return
    try:
        body: Any = r.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise CommandFailed(
            f"the service answered HTTP {r.status_code} ({r.text[:120].strip() or 'no body'})"
            "; what to do: check --url",
            EXIT_SERVICE,
        )
    kind = str(body.get("type") or "about:blank")
    detail = body.get("detail")
    hint = WHAT_TO_DO.get(kind, f"see {kind} in GET /api/v1/problems")
    raise CommandFailed(
        f"{body.get('title') or 'refused'} (HTTP {r.status_code}, {kind})"
        + (f": {detail}" if detail else "")
        + f"; what to do: {hint}",
        EXIT_SERVICE,
    )


def _request(http: Any, method: str, url: str, **kw: Any) -> httpx.Response:
    try:
        r: httpx.Response = http.request(method, url, **kw)
    except httpx.HTTPError as exc:
        raise CommandFailed(
            f"cannot reach {url.split('/api/')[0]} ({exc.__class__.__name__}: {exc}); what to "
            "do: check --url and the network",
            EXIT_UNREACHABLE,
        ) from None
    _check(r)
    return r


def _login(http: Any, base: str, election_id: str, code: str) -> str:
    r = _request(http, "POST", f"{base}{API}/elections/{election_id}/login", json={"code": code})
    return str(r.json()["access_token"])


def upload_public_key(
    http: Any, base: str, election_id: str, token: str, public: bytes, k: int, n: int
) -> dict[str, Any]:
    """POST the sealing public key with k and n to the voting keys route (committee)."""
    r = _request(
        http,
        "POST",
        f"{base}{API}/elections/{election_id}/voting/keys",
        json={"sealing_key": b64e(public), "trustees": {"k": k, "n": n}},
        headers={"Authorization": f"Bearer {token}"},
    )
    return r.json()  # type: ignore[no-any-return]


def submit_share(
    http: Any, base: str, election_id: str, token: str, share_text: str
) -> dict[str, Any]:
    r = _request(
        http,
        "POST",
        f"{base}{API}/elections/{election_id}/tally/shares",
        json={"share": share_text},
        headers={"Authorization": f"Bearer {token}"},
    )
    return r.json()  # type: ignore[no-any-return]


def contested_groups(http: Any, base: str, election_id: str) -> list[str] | None:
    """The kiesgroepen that hold a vote (public status), or None before publication."""
    st = _request(http, "GET", f"{base}{API}/elections/{election_id}/status").json()
    if not st.get("lists_published"):
        return None
    return [g["id"] for g in st.get("groups") or [] if g.get("vote_held", True)]


def share_names(n: int) -> list[str]:
    return [f"trustee-{i}-of-{n}.{ext}" for i in range(1, n + 1) for ext in ("json", "txt")]


def run_ceremony(
    election: str,
    k: int,
    n: int,
    out: Path,
    url: str | None,
    code: str | None,
    token: str | None,
) -> int:
    """The ceremony; share files appear in ``out`` only once the upload succeeded (they are
    made in a staging folder next to it, removed on any failure)."""
    if not 1 <= k <= n:
        raise CommandFailed("need 1 <= k <= n; what to do: choose -k and -n again", EXIT_USAGE)
    existing = [out / name for name in share_names(n) if (out / name).exists()]
    if existing:
        raise CommandFailed(
            f"{existing[0]} exists already; what to do: choose another --out (share files of "
            "an earlier ceremony are never overwritten)",
            EXIT_USAGE,
        )
    if not url:
        public, files = make_ceremony(election, k, n, out)
        _report(public, files, k, n)
        console.print("not uploaded (no --url): upload the public key with k and n yourself")
        return EXIT_OK
    base = url.rstrip("/")
    with http_client(30.0) as http:
        groups = contested_groups(http, base, election)
        if groups == []:
            console.print(
                "[green]No ceremony is needed[/]: no kiesgroep has more candidates than seats, "
                "so every candidate is elected without a vote — no keys, no voting, no "
                f"trustees. Publish the result: POST /api/v1/elections/{election}/transitions "
                '{"to": "tallied"}.',
                soft_wrap=True,
            )
            return EXIT_OK
        if token is None:
            if code is None:
                code = typer.prompt("committee access code", hide_input=True)
            token = _login(http, base, election, code)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-staging-", dir=out.parent))
        try:
            public, staged = make_ceremony(election, k, n, staging)
            body = upload_public_key(http, base, election, token, public, k, n)
        except CommandFailed as exc:
            if exc.code != EXIT_UNREACHABLE:
                shutil.rmtree(staging, ignore_errors=True)  # refused: no orphan shares
                raise
            # The answer was lost: the upload may have landed. Keep the shares until the
            # committee has checked the keys entry against this public key.
            raise CommandFailed(
                f"{exc} — the upload may have reached the service; what to do: if the election's "
                f"`keys` entry (GET .../log/entries) holds the sealing key {b64e(public)}, the "
                f"shares in {staging} are the ones: move them to {out}; otherwise delete that "
                "folder and run the ceremony again",
                EXIT_UNREACHABLE,
            ) from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    # Uploaded: from here on the shares are the only way to the key, so never delete them.
    files = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for f in staged:
            target = out / f.name
            f.replace(target)
            files.append(target)
        staging.rmdir()
    except OSError as exc:
        raise CommandFailed(
            f"the public key is uploaded, but the share files could not be moved to {out} "
            f"({exc.strerror or exc}); what to do: they are in {staging} — move them yourself "
            "and give them to the trustees",
            EXIT_USAGE,
        ) from None
    _report(public, files, k, n)
    console.print(f"[green]public key uploaded[/]: keys entry {body.get('index')}")
    return EXIT_OK


def _report(public: bytes, files: list[Path], k: int, n: int) -> None:
    console.print(f"[green]sealing key made[/], public key {b64e(public)}")
    for f in files:
        console.print(f"  wrote {f}")
    console.print(
        f"Give each trustee one share (both files of one number). Any {k} of the {n} "
        "shares decrypt the ballots after voting closes; fewer reveal nothing."
    )


def run_trustee_submit(share_file: Path, url: str, election: str | None, code: str | None) -> int:
    try:
        text = read_share(share_file)
    except OSError as exc:
        raise CommandFailed(
            f"cannot read {share_file} ({exc.strerror or exc}); what to do: give the path of "
            "your share file (.json or .txt)",
            EXIT_USAGE,
        ) from None
    except ValueError as exc:
        raise CommandFailed(
            f"{exc}; what to do: give the share file you received at the ceremony", EXIT_CHECK
        ) from None
    try:
        share = shamir.Share.from_text(text)
    except shamir.ShareError as exc:
        raise CommandFailed(
            f"{share_file} fails its check ({exc}); what to do: use the file you received at "
            "the ceremony, or retype the printed share carefully",
            EXIT_CHECK,
        ) from None
    eid = election or share.election_id
    if code is None:
        code = typer.prompt("trustee access code", hide_input=True)
    base = url.rstrip("/")
    with http_client(120.0) as http:
        token = _login(http, base, eid, code)
        st = submit_share(http, base, eid, token, text)
    console.print(f"share {share.index} handed in: {st['received']} of {st['k']} received")
    if st.get("message"):
        console.print(st["message"])
    mine_bad = False
    for bad in st.get("bad_shares") or []:
        console.print(f"[yellow]share {bad['index']}: {bad['reason']}[/]")
        mine_bad = mine_bad or bad["index"] == share.index
    if st["status"] == "tallied":
        console.print("[green]the election is tallied[/]")
    if mine_bad:
        console.print(
            "[red]your share does not fit the published key[/]; what to do: check that it is "
            "the share of this election and hand in the right one"
        )
        return EXIT_CHECK
    return EXIT_OK


def _fail(exc: CommandFailed, command: str) -> typer.Exit:
    console.print(f"stembus {command}: error: {exc}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(exc.code)


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
        public key only. With --url the share files are written only after the upload
        succeeded; when no kiesgroep holds a vote it says that no ceremony is needed.

        Exit codes: 0 done, 2 usage (arguments, existing share files), 3 the service refused
        (its problem type is printed), 4 the service could not be reached.
        """
        try:
            raise typer.Exit(run_ceremony(election, k, n, out, url, code, token))
        except CommandFailed as exc:
            raise _fail(exc, "ceremony") from None

    @trustee_app.command("submit")
    def trustee_submit(
        share_file: Annotated[Path, typer.Argument(help="your share file (.json or .txt)")],
        url: Annotated[str, typer.Option(help="the Stembus server")],
        election: Annotated[
            str | None, typer.Option(help="election id (default: from share)")
        ] = None,
        code: Annotated[str | None, typer.Option(help="your trustee access code")] = None,
    ) -> None:
        """Hand in your share after voting has closed.

        Exit codes: 0 handed in, 1 the share fails its check (here, or against the published
        key), 2 usage (e.g. an unreadable file), 3 the service refused (its problem type is
        printed), 4 the service could not be reached.
        """
        try:
            raise typer.Exit(run_trustee_submit(share_file, url, election, code))
        except CommandFailed as exc:
            raise _fail(exc, "trustee submit") from None
