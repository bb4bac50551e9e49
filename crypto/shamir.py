"""Shamir k-of-n secret sharing of the 32-byte sealing key over GF(2^521 − 1).

docs/protocol.md, "Keys of an election" and "Tally": the X25519 sealing private key exists only as
k-of-n trustee shares until the tally.

* Scheme: Shamir, "How to share a secret" (CACM 22(11), 1979). The secret (a 32-byte string read
  as a big-endian integer < 2^256) is the constant term of a random polynomial of degree k − 1
  over the prime field p = 2^521 − 1 (a Mersenne prime, comfortably larger than 2^256, so the
  secret embeds without reduction). The other k − 1 coefficients are uniform in [0, p) from
  :mod:`secrets`, which makes any k − 1 shares independent of the secret. Share i is (i, f(i))
  for i = 1..n; reconstruction is Lagrange interpolation at x = 0.
* Because p ≫ 2^256, a share set with a random error (a wrong or mixed share) interpolates to
  a value ≥ 2^256 with probability 1 − 2^-265, which :func:`combine` reports instead of returning
  garbage. A deliberately small change can stay below 2^256, so the real test is the one
  :func:`recover_matching` makes against the published public key.
* A :class:`Share` carries election id, index, threshold k and n, and a checksum (the first 8
  bytes of SHA-256 over the rest of its text form) that catches transcription errors. Text form
  (one line; all whitespace is ignored when parsing, so wrapped or indented copies still load)::

      stembus-share-v1:<election>:<k>-of-<n>:<index>:<132 hex digits of f(index)>:<16 hex checksum>

* :func:`recover_matching` tries k-subsets until the reconstructed key passes a caller-supplied
  check (in Stembus: the X25519 public key derived from it equals the published sealing key),
  then names the shares that are inconsistent with it — by position and index, never by value.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_SHARES",
    "PRIME",
    "SECRET_LEN",
    "TEXT_PREFIX",
    "BadShare",
    "Recovery",
    "RecoveryError",
    "Share",
    "ShareError",
    "combine",
    "recover_matching",
    "split",
]

PRIME = (1 << 521) - 1  # Mersenne prime M521
SECRET_LEN = 32
MAX_SHARES = 255
TEXT_PREFIX = "stembus-share-v1"
_VALUE_HEX = 132  # 66 bytes: enough for any element of GF(2^521 − 1)
_CHECKSUM_HEX = 16  # 8 bytes of SHA-256


class ShareError(ValueError):
    """A malformed share, or a share set that cannot be combined."""


class RecoveryError(ShareError):
    """No k-subset reconstructs a secret that passes the check."""

    def __init__(self, message: str, bad: list[BadShare] | None = None) -> None:
        super().__init__(message)
        self.bad = bad or []


def _check_params(k: int, n: int) -> None:
    if not (isinstance(k, int) and isinstance(n, int)) or isinstance(k, bool):
        raise ShareError("k and n must be integers")
    if not 2 <= k <= n <= MAX_SHARES:
        raise ShareError(f"need 2 <= k <= n <= {MAX_SHARES}, got k={k}, n={n}")


def _check_election(election_id: str) -> None:
    # The text form drops all whitespace when parsing, so an id with whitespace would not
    # round-trip; requiring printable ASCII keeps the share printable on paper.
    if not isinstance(election_id, str) or not election_id:
        raise ShareError("election id must be a non-empty string")
    if not all(33 <= ord(c) <= 126 for c in election_id):
        raise ShareError("election id must be printable ASCII without whitespace")


@dataclass(frozen=True)
class Share:
    """One trustee's share. ``value`` is secret and kept out of ``repr``."""

    election_id: str
    index: int
    threshold: int
    total: int
    value: int = field(repr=False)
    checksum: str = ""

    def __post_init__(self) -> None:
        _check_election(self.election_id)
        _check_params(self.threshold, self.total)
        if not isinstance(self.index, int) or not 1 <= self.index <= self.total:
            raise ShareError(f"share index must be in 1..{self.total}")
        if not isinstance(self.value, int) or not 0 <= self.value < PRIME:
            raise ShareError("share value out of range")
        if not self.checksum:
            object.__setattr__(self, "checksum", self.expected_checksum())
        if not isinstance(self.checksum, str) or len(self.checksum) != _CHECKSUM_HEX:
            raise ShareError("share checksum must be 16 hex digits")

    # The checksum covers every other field, so a typo anywhere in a copied share is caught.
    def _body(self) -> str:
        return (
            f"{TEXT_PREFIX}:{self.election_id}:{self.threshold}-of-{self.total}:"
            f"{self.index}:{self.value:0{_VALUE_HEX}x}"
        )

    def expected_checksum(self) -> str:
        return hashlib.sha256(self._body().encode("ascii")).digest()[:8].hex()

    @property
    def checksum_ok(self) -> bool:
        return hmac.compare_digest(self.checksum, self.expected_checksum())

    def to_text(self) -> str:
        return f"{self._body()}:{self.checksum}"

    @classmethod
    def from_text(cls, text: str, *, verify: bool = True) -> Share:
        """Parse the text form (whitespace anywhere is ignored; hex is case-insensitive)."""
        if not isinstance(text, str):
            raise ShareError("share text must be a str")
        compact = "".join(text.split())
        head = TEXT_PREFIX + ":"
        if not compact.startswith(head):
            raise ShareError(f"share text must start with {head!r}")
        # rsplit: the four trailing fields never contain ':', the election id might.
        parts = compact[len(head) :].rsplit(":", 4)
        if len(parts) != 5:
            raise ShareError("share text has the wrong number of fields")
        election, k_of_n, index, value, checksum = parts
        k_str, sep, n_str = k_of_n.partition("-of-")
        fields = {"k": k_str, "n": n_str, "index": index}
        if not sep or not all(s.isascii() and s.isdigit() and len(s) <= 3 for s in fields.values()):
            raise ShareError("share text has a malformed k-of-n or index field")
        share = cls(
            election_id=election,
            index=int(index),
            threshold=int(k_str),
            total=int(n_str),
            value=_parse_hex(value, _VALUE_HEX, "value"),
            checksum=_hex_field(checksum, _CHECKSUM_HEX, "checksum"),
        )
        if verify and not share.checksum_ok:
            raise ShareError("share checksum mismatch (mistyped or altered share)")
        return share

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": TEXT_PREFIX,
            "election": self.election_id,
            "index": self.index,
            "threshold": self.threshold,
            "shares": self.total,
            "value": f"{self.value:0{_VALUE_HEX}x}",
            "checksum": self.checksum,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, verify: bool = True) -> Share:
        expected = {"format", "election", "index", "threshold", "shares", "value", "checksum"}
        if not isinstance(data, dict) or set(data) != expected:
            raise ShareError(f"share object must have exactly the members {sorted(expected)}")
        if data["format"] != TEXT_PREFIX:
            raise ShareError("unknown share format")
        for key in ("index", "threshold", "shares"):
            if type(data[key]) is not int:
                raise ShareError(f"share {key} must be an integer")
        if not isinstance(data["value"], str) or not isinstance(data["checksum"], str):
            raise ShareError("share value and checksum must be hex strings")
        share = cls(
            election_id=data["election"],
            index=data["index"],
            threshold=data["threshold"],
            total=data["shares"],
            value=_parse_hex(data["value"], _VALUE_HEX, "value"),
            checksum=_hex_field(data["checksum"], _CHECKSUM_HEX, "checksum"),
        )
        if verify and not share.checksum_ok:
            raise ShareError("share checksum mismatch (mistyped or altered share)")
        return share


def _hex_field(text: str, length: int, what: str) -> str:
    if len(text) != length or not all(c in "0123456789abcdefABCDEF" for c in text):
        raise ShareError(f"share {what} must be {length} hex digits")
    return text.lower()


def _parse_hex(text: str, length: int, what: str) -> int:
    return int(_hex_field(text, length, what), 16)


# --- field arithmetic ---------------------------------------------------------------------------


def _eval(coeffs: Sequence[int], x: int) -> int:
    """Horner evaluation of sum(coeffs[i]·x^i) mod p."""
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * x + c) % PRIME
    return acc


def _interpolate(points: Sequence[tuple[int, int]], x: int) -> int:
    """Lagrange interpolation through ``points`` evaluated at ``x`` (all mod p)."""
    total = 0
    for j, (xj, yj) in enumerate(points):
        num, den = 1, 1
        for m, (xm, _) in enumerate(points):
            if m != j:
                num = num * (x - xm) % PRIME
                den = den * (xj - xm) % PRIME
        total = (total + yj * num * pow(den, -1, PRIME)) % PRIME
    return total


# --- API ----------------------------------------------------------------------------------------


def split(secret: bytes, k: int, n: int, election_id: str) -> list[Share]:
    """Split a 32-byte secret into ``n`` shares, any ``k`` of which reconstruct it."""
    if not isinstance(secret, bytes | bytearray) or len(secret) != SECRET_LEN:
        raise ShareError(f"secret must be {SECRET_LEN} bytes")
    _check_params(k, n)
    _check_election(election_id)
    coeffs = [int.from_bytes(secret, "big")] + [secrets.randbelow(PRIME) for _ in range(k - 1)]
    shares = [Share(election_id, i, k, n, _eval(coeffs, i)) for i in range(1, n + 1)]
    coeffs.clear()  # best effort only: Python cannot reliably wipe integers
    return shares


def _to_secret(value: int) -> bytes | None:
    if value >> (8 * SECRET_LEN):
        return None  # not a 32-byte value: the share set is inconsistent
    return value.to_bytes(SECRET_LEN, "big")


def combine(shares: Iterable[Share]) -> bytes:
    """Reconstruct the secret from at least k valid, consistent shares of one election.

    Checks: checksums, one election/threshold/n, no conflicting duplicate indices, at least k
    shares; any shares beyond k must lie on the same polynomial; the result must fit 32 bytes.
    """
    shares = list(shares)
    if not shares:
        raise ShareError("no shares given")
    if not all(isinstance(s, Share) for s in shares):
        raise TypeError("combine expects Share objects")
    bad = [s.index for s in shares if not s.checksum_ok]
    if bad:
        raise ShareError(f"checksum mismatch in share(s) with index {sorted(bad)}")
    first = shares[0]
    for s in shares[1:]:
        if s.election_id != first.election_id:
            raise ShareError("shares belong to different elections")
        if (s.threshold, s.total) != (first.threshold, first.total):
            raise ShareError("shares have different k-of-n parameters")
    by_index: dict[int, int] = {}
    for s in shares:
        if by_index.setdefault(s.index, s.value) != s.value:
            raise ShareError(f"two different shares with index {s.index}")
    k = first.threshold
    if len(by_index) < k:
        raise ShareError(f"need at least {k} distinct shares, got {len(by_index)}")
    points = sorted(by_index.items())
    base, extra = points[:k], points[k:]
    for x, y in extra:
        if _interpolate(base, x) != y:
            raise ShareError("shares are inconsistent (at least one is wrong)")
    secret = _to_secret(_interpolate(base, 0))
    if secret is None:
        raise ShareError("shares are inconsistent (result is not a 32-byte secret)")
    return secret


@dataclass(frozen=True)
class BadShare:
    """A share that was not used: its position in the input, its index, and why."""

    position: int
    index: int
    reason: str


@dataclass(frozen=True)
class Recovery:
    """Result of :func:`recover_matching`. ``secret`` is kept out of ``repr``."""

    secret: bytes = field(repr=False)
    used_indices: tuple[int, ...]
    bad: tuple[BadShare, ...]
    subsets_tried: int


def recover_matching(
    shares: Sequence[Share],
    check: Callable[[bytes], bool],
    *,
    election_id: str | None = None,
    max_subsets: int = 100_000,
) -> Recovery:
    """Find a k-subset of ``shares`` whose secret passes ``check``; report the bad shares.

    Shares with a bad checksum, or another election / k-of-n than the rest (or than
    ``election_id`` if given), are set aside first. Then k-subsets of the remaining shares are
    tried in order; the first secret that fits 32 bytes and passes ``check`` wins, and every other
    share is tested against the recovered polynomial. Error messages and :class:`BadShare`
    entries name positions and indices only, never share values or candidate secrets.
    """
    shares = list(shares)
    if not all(isinstance(s, Share) for s in shares):
        raise TypeError("recover_matching expects Share objects")
    bad: list[BadShare] = []
    usable: list[tuple[int, Share]] = []
    for pos, s in enumerate(shares):
        if not s.checksum_ok:
            bad.append(BadShare(pos, s.index, "checksum mismatch"))
        else:
            usable.append((pos, s))
    if not usable:
        raise RecoveryError("no share with a valid checksum", bad)
    params = Counter(
        (s.election_id, s.threshold, s.total)
        for _, s in usable
        if election_id is None or s.election_id == election_id
    )
    if not params:
        raise RecoveryError("no share belongs to this election", bad)
    chosen = params.most_common(1)[0][0]
    pool: list[tuple[int, Share]] = []
    for pos, s in usable:
        if (s.election_id, s.threshold, s.total) == chosen:
            pool.append((pos, s))
        else:
            bad.append(BadShare(pos, s.index, "different election or k-of-n parameters"))
    k = chosen[1]
    if len({s.index for _, s in pool}) < k:
        raise RecoveryError(f"need at least {k} shares with distinct indices", bad)
    pool.sort(key=lambda item: (item[1].index, item[0]))
    tried = 0
    for subset in itertools.combinations(pool, k):
        if len({s.index for _, s in subset}) < k:
            continue  # two candidates for one index cannot both be in a polynomial's point set
        if tried >= max_subsets:
            raise RecoveryError(f"gave up after {tried} subsets", bad)
        tried += 1
        points = [(s.index, s.value) for _, s in subset]
        secret = _to_secret(_interpolate(points, 0))
        if secret is None or not check(secret):
            continue
        used = {pos for pos, _ in subset}
        for pos, s in pool:
            if pos not in used and _interpolate(points, s.index) != s.value:
                bad.append(BadShare(pos, s.index, "inconsistent with the recovered key"))
        bad.sort(key=lambda b: b.position)
        return Recovery(
            secret=secret,
            used_indices=tuple(s.index for _, s in subset),
            bad=tuple(bad),
            subsets_tried=tried,
        )
    raise RecoveryError(
        f"no {k}-subset of the {len(pool)} usable shares passes the check ({tried} subsets tried)",
        bad,
    )
