"""RSA blind signatures, RFC 9474 (RSABSSA), all four SHA-384 variants.

Stembus issues anonymous ballot credentials with RSABSSA-SHA384-PSS-Randomized (docs/protocol.md,
"Issuance"); the other three variants are implemented so that every RFC 9474 test vector can be
checked.

Client side (the voter's device):

* :func:`prepare` — RFC 9474 §4.1 Prepare: randomized variants prepend 32 random bytes
  (``msg_prefix``); deterministic variants use the message unchanged.
* :func:`emsa_pss_encode` — RFC 8017 §9.1.1 EMSA-PSS-ENCODE with MGF1 (RFC 8017 §B.2.1).
* :func:`blind` — RFC 9474 §4.2 Blind: encode, check that m is coprime with n, pick r, output
  ``blinded_msg = m · r^e mod n`` and ``inv = r^-1 mod n`` (both I2OSP'd, RFC 8017 §4.1).
* :func:`finalize` — RFC 9474 §4.4 Finalize: ``sig = blind_sig · inv mod n`` and *always* verify
  it with RSASSA-PSS-VERIFY (RFC 8017 §8.1.2), here ``cryptography``'s standard PSS verifier.
* :func:`verify` — RFC 9474 §4.5: a finalized signature is a plain RSASSA-PSS signature over
  ``input_msg`` (SHA-384, MGF1-SHA-384, salt length 48 or 0).

Server side (the issuer):

* :class:`BlindSigner` / :func:`blind_sign` — RFC 9474 §4.3 BlindSign: RSASP1 (RFC 8017 §5.2.1)
  on one of two backends. By default the system's OpenSSL 3 ``libcrypto`` through ctypes
  (:mod:`crypto._libcrypto`: ``cryptography`` offers no unpadded RSA private operation), which
  blinds the private operation itself and uses constant-time CRT exponentiation. Without a usable
  libcrypto 3.x the fallback is CRT with GMP (gmpy2; pure-Python ``pow`` is about 20x slower than
  OpenSSL for RSA-2048), blinded here with a fresh random ``r`` (``c·r^e`` in, ``·r^-1`` out) so
  its timing does not depend on the attacker-chosen input, and with GMP's side-channel-hardened
  ``mpz_powm_sec``. Either way the input is range-checked (m < n) and the result is checked with
  RSAVP1 (``s^e = m``) before it leaves, as RFC 9474 §4.3 step 3 requires — this also stops CRT
  fault attacks from leaking a factor of n.

Keys: :func:`generate_private_key` (2048-bit, e = 65537, via ``cryptography``), JWK import/export of
public keys (RFC 7517 / RFC 7518 §6.3.1, ``alg: PS384``), RFC 7638 thumbprints, and PKCS#8 PEM
for private keys at rest (encryption at rest is the caller's job).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple

import gmpy2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from crypto import _libcrypto
from crypto.canonical import EncodingError, b64url_d, b64url_e, canonical_json

__all__ = [
    "PREFIX_LEN",
    "RSABSSA_SHA384_PSS_DETERMINISTIC",
    "RSABSSA_SHA384_PSS_RANDOMIZED",
    "RSABSSA_SHA384_PSSZERO_DETERMINISTIC",
    "RSABSSA_SHA384_PSSZERO_RANDOMIZED",
    "VARIANTS",
    "BackendUnavailableError",
    "BlindRSAError",
    "BlindSigner",
    "BlindingResult",
    "InvalidInputError",
    "SigningError",
    "Variant",
    "VerificationError",
    "blind",
    "blind_sign",
    "emsa_pss_encode",
    "finalize",
    "generate_private_key",
    "jwk_thumbprint",
    "modulus_len",
    "prepare",
    "private_key_from_pem",
    "private_key_to_pem",
    "public_key_from_jwk",
    "public_key_to_jwk",
    "public_keys_equal",
    "verify",
]

PREFIX_LEN = 32  # RFC 9474 §4.1: msg_prefix is 32 random bytes for the randomized variants.
_JWK_ALG = "PS384"


class BlindRSAError(ValueError):
    """Base class of every error raised by this module."""


class InvalidInputError(BlindRSAError):
    """Input of the wrong length or out of range (RFC 9474 "invalid input" / size errors)."""


class SigningError(BlindRSAError):
    """The private operation produced a value that does not verify (s^e != m)."""


class BackendUnavailableError(RuntimeError):
    """``BlindSigner(..., backend="openssl")`` but libcrypto 3.x or the key cannot be used."""


class VerificationError(BlindRSAError):
    """A finalized signature did not verify (RFC 9474 §4.4 "invalid signature")."""


@dataclass(frozen=True)
class Variant:
    """An RFC 9474 §5 variant: hash SHA-384, MGF1-SHA-384, salt length, prepare type."""

    name: str
    salt_len: int
    randomized: bool
    hash_name: str = "sha384"

    def _pss(self) -> padding.PSS:
        return padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=self.salt_len)


# RFC 9474 §5: the four named variants. The salt length of the PSS variants equals the hash
# length (48 for SHA-384); PSSZERO uses an empty salt, so the signature is deterministic.
RSABSSA_SHA384_PSS_RANDOMIZED = Variant("RSABSSA-SHA384-PSS-Randomized", 48, True)
RSABSSA_SHA384_PSSZERO_RANDOMIZED = Variant("RSABSSA-SHA384-PSSZERO-Randomized", 0, True)
RSABSSA_SHA384_PSS_DETERMINISTIC = Variant("RSABSSA-SHA384-PSS-Deterministic", 48, False)
RSABSSA_SHA384_PSSZERO_DETERMINISTIC = Variant("RSABSSA-SHA384-PSSZERO-Deterministic", 0, False)
VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        RSABSSA_SHA384_PSS_RANDOMIZED,
        RSABSSA_SHA384_PSSZERO_RANDOMIZED,
        RSABSSA_SHA384_PSS_DETERMINISTIC,
        RSABSSA_SHA384_PSSZERO_DETERMINISTIC,
    )
}
DEFAULT_VARIANT = RSABSSA_SHA384_PSS_RANDOMIZED  # the protocol's choice (docs/protocol.md)


class BlindingResult(NamedTuple):
    """Output of :func:`blind`: both values are modulus-length byte strings."""

    blinded_msg: bytes
    inv: bytes


# --- integer/octet conversions (RFC 8017 §4.1 I2OSP, §4.2 OS2IP) -------------------------------


def _i2osp(x: int, length: int) -> bytes:
    if x < 0 or x >= 1 << (8 * length):
        raise InvalidInputError("integer too large")
    return int(x).to_bytes(length, "big")


def _os2ip(data: bytes) -> int:
    return int.from_bytes(data, "big")


def modulus_len(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> int:
    """The byte length k of the modulus (RFC 8017 §2 "k")."""
    return (key.key_size + 7) // 8


def _public_numbers(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> rsa.RSAPublicNumbers:
    if isinstance(key, rsa.RSAPrivateKey):
        key = key.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise TypeError("expected an RSA key")
    return key.public_numbers()


# --- RFC 8017 §9.1.1 EMSA-PSS-ENCODE ------------------------------------------------------------


def _mgf1(seed: bytes, length: int, hash_name: str) -> bytes:
    """MGF1 (RFC 8017 §B.2.1): concatenate Hash(seed ‖ I2OSP(counter, 4))."""
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.new(hash_name, seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:length])


def emsa_pss_encode(msg: bytes, em_bits: int, salt: bytes, hash_name: str = "sha384") -> bytes:
    """EMSA-PSS-ENCODE(M, emBits) per RFC 8017 §9.1.1 with an explicit salt.

    The salt is a parameter (not drawn here) so that the encoding is a pure function that test
    vectors can check; :func:`blind` draws it. MGF is MGF1 with the same hash.
    """
    m_hash = hashlib.new(hash_name, msg).digest()  # step 2
    h_len = len(m_hash)
    s_len = len(salt)
    em_len = (em_bits + 7) // 8
    if em_len < h_len + s_len + 2:  # step 3
        raise InvalidInputError("encoding error: modulus too small for hash and salt")
    m_prime = b"\x00" * 8 + m_hash + salt  # step 5: eight zero octets ‖ mHash ‖ salt
    h = hashlib.new(hash_name, m_prime).digest()  # step 6
    ps = b"\x00" * (em_len - s_len - h_len - 2)  # step 7
    db = ps + b"\x01" + salt  # step 8
    db_mask = _mgf1(h, em_len - h_len - 1, hash_name)  # step 9
    masked_db = bytearray(a ^ b for a, b in zip(db, db_mask, strict=True))  # step 10
    # step 11: clear the leftmost 8·emLen − emBits bits so the integer is < 2^emBits.
    masked_db[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked_db) + h + b"\xbc"  # step 12


# --- client side --------------------------------------------------------------------------------


def prepare(
    msg: bytes, variant: Variant = DEFAULT_VARIANT, *, prefix: bytes | None = None
) -> bytes:
    """RFC 9474 §4.1 Prepare: return ``input_msg``.

    Randomized variants: ``msg_prefix ‖ msg`` with a fresh 32-byte ``msg_prefix`` (the first
    :data:`PREFIX_LEN` bytes of the result). ``prefix`` may be given for test vectors only.
    Deterministic variants return ``msg`` unchanged.
    """
    msg = bytes(msg)
    if not variant.randomized:
        if prefix:
            raise InvalidInputError("deterministic variants take no prefix")
        return msg
    if prefix is None:
        prefix = secrets.token_bytes(PREFIX_LEN)
    if len(prefix) != PREFIX_LEN:
        raise InvalidInputError(f"msg_prefix must be {PREFIX_LEN} bytes")
    return bytes(prefix) + msg


def blind(
    public_key: rsa.RSAPublicKey,
    input_msg: bytes,
    variant: Variant = DEFAULT_VARIANT,
    *,
    salt: bytes | None = None,
    r: int | None = None,
) -> BlindingResult:
    """RFC 9474 §4.2 Blind. Returns ``(blinded_msg, inv)``; keep ``inv`` secret for finalize.

    ``salt`` and ``r`` exist only so tests can replay the RFC vectors; production callers must
    leave them ``None`` (fresh randomness from :mod:`secrets`).
    """
    pub = _public_numbers(public_key)
    n, e = pub.n, pub.e
    k = modulus_len(public_key)
    if salt is None:
        salt = secrets.token_bytes(variant.salt_len)
    if len(salt) != variant.salt_len:
        raise InvalidInputError(f"salt must be {variant.salt_len} bytes for {variant.name}")
    # Step 1: emBits = modBits − 1, exactly as RSASSA-PSS-SIGN (RFC 8017 §8.1.1) does, so that the
    # finalized signature verifies with an unmodified RSASSA-PSS verifier.
    encoded = emsa_pss_encode(input_msg, n.bit_length() - 1, salt, variant.hash_name)
    m = _os2ip(encoded)  # step 3
    if gmpy2.gcd(m, n) != 1:  # step 4: a non-unit m would reveal a factor / not be blindable
        raise InvalidInputError("invalid input: encoded message not coprime with n")
    if r is None:
        while True:  # step 5: r uniform in [1, n) and invertible (fails only with ~2^-1000 prob.)
            r = secrets.randbelow(n - 1) + 1
            if gmpy2.gcd(r, n) == 1:
                break
    if not 1 <= r < n:
        raise InvalidInputError("r out of range")
    try:
        inv = int(gmpy2.invert(r, n))  # step 6
    except ZeroDivisionError as exc:
        raise InvalidInputError("r is not invertible mod n") from exc
    x = int(gmpy2.powmod(r, e, n))  # step 7: RSAVP1(pk, r)
    z = (m * x) % n  # step 8
    return BlindingResult(_i2osp(z, k), _i2osp(inv, k))  # steps 9–10


def finalize(
    public_key: rsa.RSAPublicKey,
    input_msg: bytes,
    blind_sig: bytes,
    inv: bytes,
    variant: Variant = DEFAULT_VARIANT,
) -> bytes:
    """RFC 9474 §4.4 Finalize: unblind and verify; return the RSASSA-PSS signature ``sig``.

    Raises :class:`InvalidInputError` for wrongly sized input and :class:`VerificationError` if the
    server's answer does not yield a valid signature (a misbehaving or tampering issuer).
    """
    pub = _public_numbers(public_key)
    n = pub.n
    k = modulus_len(public_key)
    if len(blind_sig) != k:  # step 1
        raise InvalidInputError(f"blind_sig must be {k} bytes")
    if len(inv) != k:
        raise InvalidInputError(f"inv must be {k} bytes")
    z = _os2ip(blind_sig)  # step 2
    inv_int = _os2ip(inv)
    if z >= n or inv_int >= n:
        raise InvalidInputError("blind_sig or inv not less than the modulus")
    s = (z * inv_int) % n  # step 3
    sig = _i2osp(s, k)  # step 4
    if not verify(public_key, input_msg, sig, variant):  # steps 5–6
        raise VerificationError("invalid signature")
    return sig


def verify(
    public_key: rsa.RSAPublicKey,
    msg: bytes,
    sig: bytes,
    variant: Variant = DEFAULT_VARIANT,
) -> bool:
    """RFC 9474 §4.5: RSASSA-PSS-VERIFY (RFC 8017 §8.1.2) of ``sig`` over ``msg``.

    ``msg`` is the prepared ``input_msg`` (``msg_prefix ‖ msg`` for randomized variants). Uses
    ``cryptography``'s standard verifier with SHA-384, MGF1-SHA-384 and the variant's exact salt
    length, so any RFC 9474 client library produces signatures this accepts and vice versa.
    """
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise TypeError("expected an RSA public key")
    sig = bytes(sig)
    # RFC 8017 §8.1.2 step 1: the signature must be exactly k octets.
    if len(sig) != modulus_len(public_key):
        return False
    try:
        public_key.verify(sig, bytes(msg), variant._pss(), hashes.SHA384())
    except InvalidSignature:
        return False
    return True


# --- server side --------------------------------------------------------------------------------


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="blindrsa")
        return _POOL


def _powmod_sec_nogil(base: Any, exponent: Any, modulus: Any) -> Any:
    # gmpy2 contexts are per thread: the worker must opt in to releasing the GIL itself.
    with gmpy2.context(allow_release_gil=True):
        return gmpy2.powmod_sec(base, exponent, modulus)


_BACKENDS = ("openssl", "gmpy2")
_log = logging.getLogger(__name__)


class BlindSigner:
    """RFC 9474 §4.3 BlindSign with the private key loaded once into a fast RSA backend.

    Construct once per issuer key and reuse: loading the key costs more than a signature.
    Instances are immutable and safe to share between threads.

    Two backends compute RSASP1; :attr:`backend` says which one an instance uses:

    * ``"openssl"`` — the system's OpenSSL 3 ``libcrypto`` (see :mod:`crypto._libcrypto`), about
      three times faster than gmpy2. The key lives in libcrypto as an ``EVP_PKEY``; OpenSSL
      blinds the private operation itself (on by default, and checked when the key is loaded)
      and uses constant-time CRT exponentiation.
    * ``"gmpy2"`` — CRT with GMP's side-channel-hardened ``mpz_powm_sec`` and our own RSA
      blinding with a fresh random ``r`` (``c·r^e`` in, ``·r^-1`` out).

    ``backend=None`` (the default) picks ``"openssl"`` when libcrypto 3.x loads, accepts the key
    and produces a self-test signature that verifies, and ``"gmpy2"`` otherwise; naming a
    backend forces it (``"openssl"`` raises :class:`BackendUnavailableError` if it cannot be
    used). Either way the input must be less than n (RFC 8017 §5.2.1 step 1) and every result
    is checked with the public key (``s^e = m``, RFC 9474 §4.3 step 3) before it is returned.

    Both backends run the exponentiations with the GIL released, so other threads (e.g. a web
    server's request handlers) keep running while a signature is computed. ``parallel`` applies
    to the gmpy2 backend only (the OpenSSL backend ignores it): with ``parallel=True`` the two
    CRT halves run on two threads at once, about half the latency on an idle multi-core machine
    but no gain in throughput when several signatures are being made concurrently anyway.
    """

    __slots__ = (
        "_crt",
        "_e",
        "_k",
        "_n",
        "_ossl",
        "_parallel",
        "backend",
        "public_key",
    )

    def __init__(
        self,
        private_key: rsa.RSAPrivateKey,
        *,
        backend: str | None = None,
        parallel: bool = False,
    ) -> None:
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise TypeError("expected an RSA private key")
        if backend is not None and backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {_BACKENDS} or None, not {backend!r}")
        pub = private_key.public_key().public_numbers()
        self.public_key = private_key.public_key()
        self._n = gmpy2.mpz(pub.n)
        self._e = gmpy2.mpz(pub.e)
        self._k = modulus_len(private_key)
        self._parallel = parallel
        self._ossl: _libcrypto.RSAPrivateOp | None = None
        # (p, q, dP, dQ, qInv) as mpz for the gmpy2 backend (RFC 8017 §3.2); None with OpenSSL.
        self._crt: tuple[Any, Any, Any, Any, Any] | None = None
        if backend in (None, "openssl"):
            try:
                self._ossl = self._openssl_op(private_key)
            except _libcrypto.LibcryptoError as exc:
                if backend == "openssl":
                    raise BackendUnavailableError(f"OpenSSL backend unavailable: {exc}") from exc
                _log.warning("BlindSigner falls back to gmpy2 (about 3x slower): %s", exc)
        if self._ossl is None:
            priv = private_key.private_numbers()
            self._crt = (
                gmpy2.mpz(priv.p),
                gmpy2.mpz(priv.q),
                gmpy2.mpz(priv.dmp1),
                gmpy2.mpz(priv.dmq1),
                gmpy2.mpz(priv.iqmp),  # q^-1 mod p (RFC 8017 §3.2 "qInv")
            )
        self.backend: str = "openssl" if self._ossl is not None else "gmpy2"

    def _openssl_op(self, private_key: rsa.RSAPrivateKey) -> _libcrypto.RSAPrivateOp:
        """Load the key into libcrypto and check one signature on a random input."""
        op = _libcrypto.RSAPrivateOp(private_key)
        m = gmpy2.mpz(secrets.randbelow(int(self._n) - 2) + 2)
        s = gmpy2.mpz(_os2ip(op.rsasp1(_i2osp(int(m), self._k))))
        if gmpy2.powmod(s, self._e, self._n) != m:
            raise _libcrypto.LibcryptoError("self-test signature does not verify")
        return op

    @property
    def modulus_len(self) -> int:
        return self._k

    def _rsasp1_crt(self, c: Any) -> Any:
        """RSASP1 via CRT (RFC 8017 §5.2.1 step 2.b, two-prime case), gmpy2 backend.

        ``powmod_sec`` is GMP's mpz_powm_sec: its memory access pattern and timing do not depend
        on the (secret) exponent.
        """
        assert self._crt is not None
        p, q, dp, dq, qinv = self._crt
        with gmpy2.context(allow_release_gil=True):
            if self._parallel:
                future = _pool().submit(_powmod_sec_nogil, c % q, dq, q)
                s1 = gmpy2.powmod_sec(c % p, dp, p)
                s2 = future.result()
            else:
                s1 = gmpy2.powmod_sec(c % p, dp, p)
                s2 = gmpy2.powmod_sec(c % q, dq, q)
        h = ((s1 - s2) * qinv) % p
        return s2 + q * h

    def _rsasp1_blinded_gmpy2(self, m: Any) -> Any:
        """RSASP1 with RSA blinding of the private operation (independent of the client's).

        Sign ``c = m·r^e`` and multiply by ``r^-1``, so the exponentiations never see the
        attacker-chosen input.
        """
        n = self._n
        while True:
            r = gmpy2.mpz(secrets.randbelow(int(n) - 2) + 2)
            try:
                r_inv = gmpy2.invert(r, n)
            except ZeroDivisionError:  # r shares a factor with n: astronomically unlikely
                continue
            break
        c = (m * gmpy2.powmod(r, self._e, n)) % n
        return (self._rsasp1_crt(c) * r_inv) % n

    def _rsasp1(self, blinded_msg: bytes, m: Any) -> Any:
        """``s = RSASP1(sk, m)`` as an mpz, on this instance's backend (not yet checked)."""
        if self._ossl is None:
            return self._rsasp1_blinded_gmpy2(m)
        try:
            # OpenSSL blinds the operation itself (see crypto._libcrypto.RSAPrivateOp).
            out = self._ossl.rsasp1(blinded_msg)
        except _libcrypto.LibcryptoError as exc:
            raise SigningError(f"signing failure: {exc}") from exc
        return gmpy2.mpz(_os2ip(out))

    def sign(self, blinded_msg: bytes) -> bytes:
        """Return ``blind_sig`` for a client's ``blinded_msg`` (RFC 9474 §4.3)."""
        blinded_msg = bytes(blinded_msg)
        if len(blinded_msg) != self._k:
            raise InvalidInputError(f"blinded_msg must be exactly {self._k} bytes")
        m = gmpy2.mpz(_os2ip(blinded_msg))  # step 1
        if m >= self._n:  # RSASP1 step 1: "message representative out of range"
            raise InvalidInputError("blinded_msg is not less than the modulus")
        s = self._rsasp1(blinded_msg, m)  # step 2: s = RSASP1(sk, m)
        # Step 3: RSAVP1(pk, s) must give back m; a fault (hardware glitch, bug) in the CRT
        # computation would otherwise hand out a value that factors n. With e = 65537 this
        # costs a few percent of the signature.
        if gmpy2.powmod(s, self._e, self._n) != m:
            raise SigningError("signing failure")
        return _i2osp(int(s), self._k)  # step 4


def blind_sign(private_key: rsa.RSAPrivateKey | BlindSigner, blinded_msg: bytes) -> bytes:
    """RFC 9474 §4.3 BlindSign. Pass a :class:`BlindSigner` to avoid per-call key setup."""
    signer = private_key if isinstance(private_key, BlindSigner) else BlindSigner(private_key)
    return signer.sign(blinded_msg)


# --- keys ---------------------------------------------------------------------------------------


def generate_private_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """A fresh issuer key: ``bits``-bit modulus, e = 65537 (docs/protocol.md: 2048-bit)."""
    if bits < 2048:
        raise InvalidInputError("RSA keys below 2048 bits are not allowed")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_key_to_jwk(public_key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> dict[str, str]:
    """RFC 7517 JWK of the public key: ``kty``, ``n``, ``e`` (RFC 7518 §6.3.1), ``alg: PS384``."""
    pub = _public_numbers(public_key)
    # RFC 7518 §6.3.1.1/2: unsigned big-endian, minimal length, base64url without padding.
    n = pub.n.to_bytes((pub.n.bit_length() + 7) // 8, "big")
    e = pub.e.to_bytes((pub.e.bit_length() + 7) // 8, "big")
    return {"kty": "RSA", "alg": _JWK_ALG, "n": b64url_e(n), "e": b64url_e(e)}


def public_key_from_jwk(jwk: dict[str, Any], *, min_bits: int = 2048) -> rsa.RSAPublicKey:
    """Import a public JWK, rejecting anything but a well-formed RSA ``PS384`` public key."""
    if not isinstance(jwk, dict):
        raise InvalidInputError("JWK must be an object")
    if jwk.get("kty") != "RSA":
        raise InvalidInputError("JWK kty must be RSA")
    if "alg" in jwk and jwk["alg"] != _JWK_ALG:
        raise InvalidInputError(f"JWK alg must be {_JWK_ALG}")
    if any(member in jwk for member in ("d", "p", "q", "dp", "dq", "qi", "oth")):
        # Refuse to treat private key material as a public key (it should never be published).
        raise InvalidInputError("JWK contains private key members")
    try:
        n_raw = b64url_d(jwk["n"])
        e_raw = b64url_d(jwk["e"])
    except (KeyError, EncodingError) as exc:
        raise InvalidInputError("JWK n/e missing or not base64url") from exc
    if not n_raw or not e_raw or n_raw[0] == 0 or e_raw[0] == 0:
        raise InvalidInputError("JWK n/e must be minimal-length unsigned integers")
    n, e = _os2ip(n_raw), _os2ip(e_raw)
    if n.bit_length() < min_bits:
        raise InvalidInputError(f"RSA modulus below {min_bits} bits")
    if n % 2 == 0 or e < 3 or e % 2 == 0 or e >= n:
        raise InvalidInputError("invalid RSA public numbers")
    return rsa.RSAPublicNumbers(e, n).public_key()


def jwk_thumbprint(public_key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) — a stable key identifier.

    RFC 7638 §3.2 hashes the required members (``e``, ``kty``, ``n``) in lexicographic order
    without whitespace, which for these ASCII values is exactly their RFC 8785 encoding.
    """
    jwk = public_key_to_jwk(public_key)
    members = {"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}
    return b64url_e(hashlib.sha256(canonical_json(members)).digest())


def private_key_to_pem(private_key: rsa.RSAPrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted: the caller encrypts it under the deployment secret."""
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def private_key_from_pem(pem: bytes, password: bytes | None = None) -> rsa.RSAPrivateKey:
    """Load an RSA private key from PEM; raise :class:`InvalidInputError` for other key types."""
    key = serialization.load_pem_private_key(pem, password=password)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidInputError("PEM does not hold an RSA private key")
    return key


def public_keys_equal(a: rsa.RSAPublicKey, b: rsa.RSAPublicKey) -> bool:
    """Compare two RSA public keys by their numbers (public data: no constant time needed)."""
    return _public_numbers(a) == _public_numbers(b)
