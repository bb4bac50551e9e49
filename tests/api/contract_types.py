"""Every entry of a real election record validates against the typed contract of the log
(api.log.entry_schemas), members and formats exactly; used by the end-to-end tests of every
election shape, so the contract cannot drift from what the log holds."""

from __future__ import annotations

import json
from collections import Counter

from pydantic import TypeAdapter

from api.log.entry_schemas import LogEntry

_ENTRY = TypeAdapter(LogEntry)


def assert_record_is_typed(record: bytes) -> Counter[str]:
    """Validate each entry of a downloaded record (JSON lines); the count per type."""
    seen: Counter[str] = Counter()
    for line in record.splitlines():
        obj = json.loads(line)
        entry = obj.get("entry")
        if entry is None:
            continue
        _ENTRY.validate_python(entry)
        seen[entry["type"]] += 1
    assert seen, "no entries in the record"
    return seen
