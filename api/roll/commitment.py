"""The commitment to a frozen roll, published in the `roll_frozen` entry (no personal data).

Encoding (v1), which anyone holding the roll can recompute:

    rows = [[employee_number, name, kiesgroep, employment_start (YYYY-MM-DD), agency_worker,
             may_vote, may_stand], ...]   for every voter on the roll,
           sorted by employee_number (Unicode code points, as Python sorts str)
    commitment = hex SHA-256( RFC 8785 bytes of
                              {"election": <id>, "roll": rows, "version": "stembus/roll/v1"} )

E-mail addresses are left out: they do not decide who may vote. Only the hash reaches the log,
so the committee can later show which roll the election ran on without publishing it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

from crypto.canonical import canonical_json

VERSION = "stembus/roll/v1"

Row = tuple[str, str, str, date, bool, bool, bool]


def roll_commitment(election_id: str, rows: Iterable[Row]) -> str:
    ordered = sorted(rows, key=lambda r: r[0])
    doc = {
        "election": election_id,
        "roll": [[n, nm, g, s.isoformat(), a, v, st] for (n, nm, g, s, a, v, st) in ordered],
        "version": VERSION,
    }
    return hashlib.sha256(canonical_json(doc)).hexdigest()
