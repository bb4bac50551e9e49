"""Every text cell of every table, reflected from the database itself (so a table no model
knows is read too): what the "nothing left at rest" tests search."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import LargeBinary, MetaData, String, Text, select


def text_cells(engine: Any) -> Iterator[tuple[str, str, Any]]:
    """(table, column, value) of every non-null string, text or binary cell."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, String | Text | LargeBinary)]
            if not cols:
                continue
            for row in conn.execute(select(*cols)):
                for col, value in zip(cols, row, strict=True):
                    if value is not None:
                        yield table.name, col.name, value
