"""The committed contract: openapi/openapi.json is this function's output."""

from __future__ import annotations

import json
from pathlib import Path

from api.main import create_app
from api.settings import Settings

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def export() -> str:
    # Fixed settings: the schema must not depend on the machine's environment.
    app = create_app(Settings(database_url="sqlite://", secret="export-only-" + "x" * 32))
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
