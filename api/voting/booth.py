"""The booth's code pinned in the public log (docs/protocol.md "The booth's code").

As voting opens, a ``booth_published`` entry records the SHA-256 of every asset of the voter's
pages — the HTML shell in each language, the script and the stylesheet (api.web.assets) — with
the paths they are served at. The shell loads the script and stylesheet with Subresource
Integrity, so a browser runs nothing but the scripts the shell names; and since the shell is
pinned too, an auditor (``stembus verify-booth``) can tell whether a server serves exactly the
booth the log names. What it cannot tell: whether some other voter, at some other moment, was
served something else — the check is of what the auditor is served (README "The booth's code").

The entry is written by the service, not a person: ``by`` is ``system``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlmodel import Session

from api.elections import lifecycle
from api.elections.models import Election
from api.log.service import append_entry


def booth_digests(election_id: str) -> dict[str, str]:
    """Path (with this election's id) → SHA-256 hex of the bytes served there."""
    from api.web.assets import booth_assets

    return {
        path.replace("{election}", election_id): hashlib.sha256(data).hexdigest()
        for path, data in sorted(booth_assets().items())
    }


def booth_entry(election_id: str) -> dict[str, Any]:
    return {
        "type": "booth_published",
        "election": election_id,
        "assets": booth_digests(election_id),
        "by": "system",
    }


@lifecycle.on_enter("voting")
def _pin_booth(session: Session, election: Election, ctx: Any) -> None:
    append_entry(session, election.id, booth_entry(election.id))
