"""The voter's pages: HTML, CSS and JavaScript served by the service itself at the address the
invitation names (api.roll.invitations.login_url), built only on the public /api/v1 API and
docs/client-protocol.md, like any third-party frontend (issue 16).

- :mod:`api.web.pages` — the routes (``/``, ``/elections/{id}``, ``/elections/{id}/{page}``,
  ``/assets/…``), one static HTML shell per language;
- :mod:`api.web.assets` — the exact bytes of every booth asset, with their SRI hashes;
- :mod:`api.web.errors` — an HTML error page for a browser, wherever it would get a problem;
- :mod:`api.web.catalogue` — the server's texts in Dutch and English (the script's own texts
  are in web/src/texts.js).
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from api.web import errors, pages

    app.include_router(pages.router)
    errors.install(app)
