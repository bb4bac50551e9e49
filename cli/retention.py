"""`stembus purge`: delete the personal data of ended elections (api.retention).

Run by the operator on the server, against the deployment's database (as `stembus migrate`);
the same as `POST /api/v1/elections/{id}/retention/purge`. Exit codes: 0 done (or nothing due),
2 usage, 3 refused — the line names the problem type (election-not-ended, retention-not-over,
already-purged, not-found) and what to do.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

EXIT_OK, EXIT_USAGE, EXIT_REFUSED = 0, 2, 3
console = Console(stderr=True)


def run_purge(elections: list[str], due: bool, force: bool, dry_run: bool) -> int:
    from api.db import make_engine, session_scope
    from api.elections.service import get_election
    from api.problems import ProblemError
    from api.retention import service
    from api.settings import Settings

    if bool(elections) == due:
        console.print("name the elections to purge, or --due for every one whose time has come")
        return EXIT_USAGE
    settings = Settings()
    engine = make_engine(settings.sqlalchemy_url)
    code = EXIT_OK
    try:
        if due:
            for s in session_scope(engine, {"settings": settings}):
                elections = [e.id for e in service.due_elections(s)]
            if not elections:
                console.print("no election is due for purging")
        for eid in elections:
            try:
                for s in session_scope(engine, {"settings": settings}):
                    election = get_election(s, eid, for_update=True)
                    st = service.state_of(s, election)
                    if dry_run:
                        until = (
                            st.retain_until.isoformat(timespec="seconds")
                            if st.retain_until
                            else "-"
                        )
                        print(f"{eid}\t{st.status}\tkept until {until}")
                        continue
                    index, counts = service.purge(s, election, by="operator", force=force)
            except ProblemError as exc:
                console.print(
                    f"[red]{eid}: refused[/] ({exc.ptype.uri}): {exc}"
                    + (
                        " — what to do: wait, or pass --force"
                        if exc.ptype is service.RETENTION_NOT_OVER
                        else ""
                    )
                )
                code = EXIT_REFUSED
                continue
            if not dry_run:
                figures = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())
                print(f"{eid}: purged (log entry {index}): {figures}")
    finally:
        engine.dispose()
    return code


def register(app: typer.Typer) -> None:
    @app.command("purge")
    def purge(
        elections: Annotated[
            list[str] | None, typer.Argument(help="election ids (or --due)", show_default=False)
        ] = None,
        due: Annotated[
            bool, typer.Option("--due", help="every ended election whose retention is over")
        ] = False,
        force: Annotated[
            bool, typer.Option("--force", help="purge before the retention period is over")
        ] = False,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="only list the elections and their dates")
        ] = False,
    ) -> None:
        """Delete the personal data of ended elections; the log, record and results stay."""
        raise typer.Exit(run_purge(list(elections or []), due, force, dry_run))
