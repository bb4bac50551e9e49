"""`stembus proces-verbaal`: download the official record of the result (PDF) to print and sign.

Exit codes as `stembus ceremony` (cli.ceremony): 0 written, 2 usage, 3 the service refused (its
problem type is printed, e.g. not tallied yet), 4 the service could not be reached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import ceremony
from cli.ceremony import (
    API,
    EXIT_OK,
    EXIT_USAGE,
    CommandFailed,
    _fail,
    _login,
    _request,
    console,
)


def run_proces_verbaal(
    election: str, url: str, lang: str, out: Path | None, code: str | None, token: str | None
) -> int:
    if lang not in ("nl", "en"):
        raise CommandFailed("--lang is nl or en; what to do: choose one of them", EXIT_USAGE)
    target = out or Path(f"proces-verbaal-{election}-{lang}.pdf")
    base = url.rstrip("/")
    with ceremony.http_client(60.0) as http:
        if token is None:
            if code is None:
                code = typer.prompt("committee access code", hide_input=True)
            token = _login(http, base, election, code)
        r = _request(
            http,
            "GET",
            f"{base}{API}/elections/{election}/results/proces-verbaal",
            params={"lang": lang},
            headers={"Authorization": f"Bearer {token}"},
        )
    try:
        target.write_bytes(r.content)
    except OSError as exc:
        raise CommandFailed(
            f"cannot write {target} ({exc.strerror or exc}); what to do: choose another -o",
            EXIT_USAGE,
        ) from None
    console.print(f"[green]proces-verbaal written[/]: {target} ({len(r.content)} bytes)")
    console.print("Print it, check the figures against the results page, and sign it.")
    return EXIT_OK


def register(app: typer.Typer) -> None:
    @app.command("proces-verbaal")
    def proces_verbaal(
        election: Annotated[str, typer.Option(help="election id")],
        url: Annotated[str, typer.Option(help="the Stembus server")],
        lang: Annotated[str, typer.Option(help="nl (Dutch) or en (English)")] = "nl",
        out: Annotated[
            Path | None,
            typer.Option("-o", "--out", help="PDF file; default proces-verbaal-<id>-<lang>.pdf"),
        ] = None,
        code: Annotated[str | None, typer.Option(help="committee access code")] = None,
        token: Annotated[str | None, typer.Option(help="committee token instead of a code")] = None,
    ) -> None:
        """Download the proces-verbaal (official record of the result, PDF) of a tallied
        election (committee).

        Exit codes: 0 written, 2 usage, 3 the service refused (its problem type is printed),
        4 the service could not be reached.
        """
        try:
            raise typer.Exit(run_proces_verbaal(election, url, lang, out, code, token))
        except CommandFailed as exc:
            raise _fail(exc, "proces-verbaal") from None
