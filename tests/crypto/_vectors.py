"""Thin loaders for the test-vector files in tests/data (in the style of pyca's vector loaders).

Origins: ``rfc9474/test_vectors_rfc9474.json`` is RFC 9474 Appendix A (the four RSABSSA-SHA384
variants); ``rfc9474/emsa_pss_vectors.json`` is the EMSA-PSS vector of the RFC 9474 reference
implementation (SHA-1, 1024-bit modulus, 20-byte salt); ``sealing_kat.json`` was generated once by
this project (see its ``generated_by`` member).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data"


def load_json(relative: str) -> Any:
    with open(DATA / relative, encoding="utf-8") as fh:
        return json.load(fh)


def hexbytes(value: str) -> bytes:
    """Vector fields are hex without prefix ("" for empty)."""
    return bytes.fromhex(value)


def hexint(value: str) -> int:
    """Vector integers are "0x..." hex."""
    return int(value, 16)


def load_rfc9474_vectors() -> list[dict[str, Any]]:
    return load_json("rfc9474/test_vectors_rfc9474.json")


def load_emsa_pss_vectors() -> list[dict[str, Any]]:
    data = load_json("rfc9474/emsa_pss_vectors.json")
    return data if isinstance(data, list) else [data]
