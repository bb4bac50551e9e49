"""The `stembus` command line: committee, trustees, voters and auditors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from api.settings import Settings

app = typer.Typer(
    help="Stembus: verifiable online elections for works councils.",
    no_args_is_help=True,
    add_completion=False,
)
operator_app = typer.Typer(help="Deployment operator tasks.", no_args_is_help=True)
app.add_typer(operator_app, name="operator")
console = Console(stderr=True)


def _settings() -> Settings:
    """The deployment settings, or a clear message and exit 2 (no traceback) when they are
    refused, e.g. production mode with a weak STEMBUS_SECRET."""
    from pydantic import ValidationError

    from api.settings import get_settings

    try:
        return get_settings()
    except ValidationError as e:
        for err in e.errors():
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
            where = ".".join(str(p) for p in err.get("loc", ()))
            prefix = f"{where}: " if where else ""
            console.print(f"[red]stembus: refusing to start:[/] {prefix}{msg}", soft_wrap=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    migrate: Annotated[bool, typer.Option(help="apply database migrations first")] = True,
) -> None:
    """Run the API server (migrations applied first)."""
    import uvicorn

    from api.migrate import upgrade
    from api.settings import origin_mismatch

    settings = _settings()
    mismatch = origin_mismatch(settings.public_base_url, host, port)
    if mismatch:
        # The base URL is the issuer of every token, every link, and the permanent origin of
        # each new election's log (in every checkpoint and receipt): docs/protocol.md "Keys".
        console.print(
            f"[yellow]warning[/]: {mismatch}. Every link and the log origin of each new "
            "election name the public base URL, permanently. Right behind a reverse proxy that "
            "serves that URL; otherwise set STEMBUS_PUBLIC_BASE_URL to the address voters use."
        )
    if migrate:
        upgrade(settings.sqlalchemy_url)
        console.print(f"[green]database ready[/] ({settings.sqlalchemy_url.split('@')[-1]})")
    if workers > 1:
        _metrics_dir_for_workers()
    console.print(
        f"Stembus API on http://{host}:{port}  —  interactive docs: "
        f"[bold]http://{host}:{port}/docs[/]"
    )
    uvicorn.run(
        "api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        # Not uvicorn's proxy headers: they would let any loopback peer name the client with
        # X-Forwarded-For (malformed or not) before the login throttle sees it. The app reads
        # the header itself, from STEMBUS_TRUSTED_PROXIES only (api.auth.clients).
        proxy_headers=False,
    )


def _metrics_dir_for_workers() -> None:
    """prometheus-client's multiprocess mode for several workers (api.health): each worker
    writes its metrics to files in one folder and /metrics adds them up. The folder must be
    empty at the start (the client's rule); one of our own, unless the operator names one."""
    import os
    import tempfile

    from api.health import MULTIPROC_ENV

    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for old in Path(folder).glob("*.db"):
            old.unlink()
    else:
        folder = tempfile.mkdtemp(prefix="stembus-metrics-")
        os.environ[MULTIPROC_ENV] = folder  # the workers inherit it
    console.print(f"metrics of all workers added up in {folder}")


@app.command()
def migrate() -> None:
    """Apply the database migrations (Alembic) and exit."""
    from api.migrate import upgrade

    upgrade(_settings().sqlalchemy_url)
    console.print("[green]migrations applied[/]")


@app.command()
def openapi(
    output: Annotated[Path | None, typer.Option("-o", help="file to write; default stdout")] = None,
) -> None:
    """Export the OpenAPI contract (sorted keys), as committed in openapi/openapi.json."""
    from api.openapi_export import export

    text = export()
    if output:
        output.write_text(text)
    else:
        sys.stdout.write(text)


@operator_app.command("token")
def operator_token(
    minutes: Annotated[int | None, typer.Option(help="lifetime; default from settings")] = None,
) -> None:
    """Print an operator token (bootstrap: create elections, appoint committees)."""
    from api.auth.tokens import issue_token

    settings = _settings()
    token, exp = issue_token(
        settings,
        subject="operator",
        roles={"operator"},
        election_id=None,
        minutes=minutes or settings.operator_token_minutes,
    )
    console.print(f"operator token, valid until {exp.isoformat(timespec='seconds')}")
    print(token)


def _register_optional() -> None:
    """Sub-commands that live in their own modules."""
    import importlib

    for mod in (
        "cli.ceremony",
        "cli.results",
        "cli.retention",
        "cli.mail",
        "cli.vote",
        "cli.verify",
        "cli.booth",
        "cli.demo",
        "cli.bench",
    ):
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise
            continue
        module.register(app)


_register_optional()
