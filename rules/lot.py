"""The verifiable lot (docs/protocol.md "Tally"): ties are decided by a deterministic generator that
anyone can rerun from the public log.

Byte layout (v1), the contract a verifier reimplements:

* ``seed = SHA-256(b"stembus/lot/v1" || root)``: the 14 ASCII bytes ``stembus/lot/v1``
  immediately followed by the 32 raw bytes (not hex) of the RFC 9162 root hash of the checkpoint
  that contains the ``voting closed`` entry. No separator, no length prefix.
* Byte stream: ``block_i = SHA-256(seed || uint64_be(i))`` for ``i = 0, 1, 2, …``, concatenated.
  Bytes are consumed in order and never reused, across all draws of one :class:`Lot`.
* ``below(n)`` (uniform integer in ``[0, n)``): read 8 bytes as an unsigned big-endian integer
  ``x``; with ``limit = 2**64 - (2**64 % n)``, return ``x % n`` if ``x < limit``, otherwise read
  the next 8 bytes and try again (rejection sampling, so no modulo bias). ``n = 1`` reads nothing.
* ``choose(options, k)``: partial Fisher–Yates on a copy of ``options`` in the given order: for
  ``i = 0 … k-1``: ``j = i + below(len - i)``, swap positions ``i`` and ``j``; the chosen are the
  first ``k`` entries, in that order. ``shuffle`` is ``choose`` with ``k = len(options)``.

Every draw is recorded (purpose, options in the given order, k, chosen) in :attr:`Lot.draws`, in
the order made; the result entry publishes them and the verifier recomputes them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

DOMAIN_TAG = b"stembus/lot/v1"
_WORD = 8
_SPACE = 1 << (8 * _WORD)


@dataclass(frozen=True)
class Draw:
    """One recorded draw of the lot."""

    number: int
    purpose: str
    options: tuple[str, ...]
    k: int
    chosen: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "purpose": self.purpose,
            "options": list(self.options),
            "k": self.k,
            "chosen": list(self.chosen),
        }


class Lot:
    """Deterministic, unbiased lot seeded from the log's root hash."""

    def __init__(self, seed_root: bytes) -> None:
        if not isinstance(seed_root, bytes | bytearray) or len(seed_root) != 32:
            raise ValueError("seed_root must be the 32-byte root hash")
        self.root = bytes(seed_root)
        self.seed = hashlib.sha256(DOMAIN_TAG + self.root).digest()
        self._counter = 0
        self._buffer = b""
        self.draws: list[Draw] = []

    def _read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            block = hashlib.sha256(self.seed + self._counter.to_bytes(8, "big")).digest()
            self._buffer += block
            self._counter += 1
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def below(self, n: int) -> int:
        """Uniform integer in ``[0, n)`` (not recorded by itself; use :meth:`choose`)."""
        if n < 1 or n > _SPACE:
            raise ValueError("n out of range")
        if n == 1:
            return 0
        limit = _SPACE - (_SPACE % n)
        while True:
            x = int.from_bytes(self._read(_WORD), "big")
            if x < limit:
                return x % n

    def choose(self, options: list[str], k: int, purpose: str = "") -> list[str]:
        """Choose ``k`` distinct options uniformly at random; records the draw."""
        opts = list(options)
        if len(set(opts)) != len(opts):
            raise ValueError("options must be distinct")
        if not 0 <= k <= len(opts):
            raise ValueError("k must be between 0 and the number of options")
        pool = list(opts)
        for i in range(k):
            j = i + self.below(len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
        chosen = pool[:k]
        self.draws.append(
            Draw(
                number=len(self.draws) + 1,
                purpose=purpose,
                options=tuple(opts),
                k=k,
                chosen=tuple(chosen),
            )
        )
        return chosen

    def shuffle(self, options: list[str], purpose: str = "") -> list[str]:
        """A uniformly random order of ``options``; records the draw."""
        return self.choose(options, len(options), purpose)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": "stembus/lot/v1",
            "root": self.root.hex(),
            "seed": self.seed.hex(),
            "draws": [d.to_dict() for d in self.draws],
        }
