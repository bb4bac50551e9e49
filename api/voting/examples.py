# ruff: noqa: E501 (base64 values of the worked example, verbatim)
"""Examples of the bodies a voter sends, for the contract: the worked example of
docs/client-protocol.md (its fixed inputs; `tests/api/test_client_protocol.py` recomputes it and
`tests/api/test_contract_types.py` checks these are the same bytes)."""

from __future__ import annotations

from typing import Any

CREDENTIAL_EXAMPLE: dict[str, Any] = {
    "blinded_msg": "bWbaSrH8Pop2uHND2WqQyGTBsKxH4+UyXFebWkSeo23rOABfjRGtFwyhxEW20ktXkDjFNw1MzYaec6++tDymTw7S2G46RRhtRezM33zDxI0cPOWrVjZG1Lk+vEIjiRLFFHyKZfq6hYziYuW1i8a5l2sp/W8CAiwrLmV9kEo9hudB5sRWVHhuyUEyl/9qw4ZUuBzfkdVy6YbNK+lRVTcvICLB1iz+AKsXriXR4iBoY1dQ/6q8Kq1nN/fXa5mRRsSpeq3g/CXgef9OGulox5tHP52THgNujYfO3qYRP2ZArwGyJfYcBQYCtmzVVdDLoE0HZclYYgZ0ygZPvG40+Rl3ag=="
}

BALLOT_EXAMPLE: dict[str, Any] = {
    "ciphertext": "N/2jVnvb1ijohmjDyNfpfR0SU7bU6m1EwVD3QfG/RDGq2x5gv/6wINoDiM/txrlqIT7FBB3BkKWQzztE4quul11kT0L5Ov7T3atqV+oLOafp2LlUuvXWy56y3YboSvFVz0yulkr3paxd02yMcLad5qC9ZsASZhQ8aNGkcD8jZk63WJ5quctEiPA4gjrlyqNhae8ZfmWBFXcEIy0W+wP014uik8mwrEkmyVjgJl9jhPZdKxDMKuvoPRzjRX3zObjNiM7EjMBxWC5wkiaLDOSt3QGPYLSWX85Z9Sq9ATajEwFVNPqnasHNga+zSup3y+at",
    "credential": "ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=",
    "election": "k7m3example2",
    "group": "all",
    "issuer_sig": "ch7Ny7PVnOPEKhdEV4TmDTtmwLO5fA7XbOpThdY7ybmNIdSLVREKwW6B+V8Gb5ytCwWOuueePXFVMfPoj3jH/Ec1rvP275f0G8dRHhvXtSj3ENCbHqNxjTD29g4Yx/deuQtVAHpQ4N0KjoJdaGzntsBvM8ZKXVc6OJXfpt0MbycUBynh25IjpYLDuET6Nbm7SUhWw1aCRQFDWXomvHVsIFclsLswLFVMX5y/m1bVIn7oQl5HcUQjxw76g/fHew07Xzmc/MGKNs/LNgP3+NYN+CwXoVENEPJIHw/6QWSJhLQaDKts72QIdSPDtmwkNAjJNmDit7nuCPcFW6j8EI/5Xg==",
    "prefix": "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=",
    "seq": 1,
    "type": "ballot",
    "signature": "FXrFcUFHANAs6WuQFV61qVlKZeL0eYv0RJ3rOH0olcY7KTQ383J2ICg92NE8gLjksnyg+BwZv2AazGE+Yc1KBg==",
}
