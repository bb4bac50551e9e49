"""`stembus mail deliver`: deliver the queued invitations once (api.roll.outbox).

For operators without a long-lived server (or with STEMBUS_MAIL_WORKER=false, e.g. from cron):
claims every mail that is due now, sends it, records each outcome, and exits. Safe beside a
running service and other runs: each batch is claimed (api.roll.outbox). Exit codes: 0 done,
2 no mail server configured.
"""

from __future__ import annotations

import typer
from rich.console import Console

console = Console(stderr=True)


def run_deliver() -> int:
    from api.db import make_engine
    from api.roll import outbox
    from api.settings import Settings

    settings = Settings()
    if not settings.smtp_host:
        console.print("no mail server configured: set STEMBUS_SMTP_HOST (and port, sender)")
        return 2
    engine = make_engine(settings.sqlalchemy_url)
    try:
        counts = outbox.deliver_all(engine, settings)
    finally:
        engine.dispose()
    print(
        f"mail: {counts['sent']} sent, {counts['retrying']} to retry later, "
        f"{counts['failed']} failed"
    )
    return 0


def register(app: typer.Typer) -> None:
    mail_app = typer.Typer(help="Invitations by e-mail.", no_args_is_help=True)

    @mail_app.command("deliver")
    def deliver() -> None:
        """Send every queued invitation that is due now, then exit."""
        raise typer.Exit(run_deliver())

    app.add_typer(mail_app, name="mail")
