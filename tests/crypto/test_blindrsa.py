"""RFC 9474 blind RSA: the four standard vectors, EMSA-PSS vectors, properties, negative cases.

Every BlindSigner test runs on both RSA backends: OpenSSL's libcrypto and gmpy2.
"""

from __future__ import annotations

import gc
import secrets
import threading

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto import _libcrypto, blindrsa
from crypto.blindrsa import (
    VARIANTS,
    BackendUnavailableError,
    BlindRSAError,
    BlindSigner,
    InvalidInputError,
    SigningError,
    VerificationError,
)
from crypto.canonical import b64url_e

from ._vectors import hexbytes, hexint, load_emsa_pss_vectors, load_rfc9474_vectors

RSA_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
RFC9474 = load_rfc9474_vectors()
BACKENDS = ["openssl", "gmpy2"]


def _vector_key(v: dict[str, str]) -> rsa.RSAPrivateKey:
    p, q, d = hexint(v["p"]), hexint(v["q"]), hexint(v["d"])
    pub = rsa.RSAPublicNumbers(hexint(v["e"]), hexint(v["n"]))
    return rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), pub
    ).private_key()


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return blindrsa.generate_private_key()


@pytest.fixture(scope="module", params=BACKENDS)
def signer(request: pytest.FixtureRequest, key: rsa.RSAPrivateKey) -> BlindSigner:
    s = BlindSigner(key, backend=request.param)
    assert s.backend == request.param
    return s


def test_vector_file_has_the_four_variants() -> None:
    assert sorted(v["name"] for v in RFC9474) == sorted(VARIANTS)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("v", RFC9474, ids=lambda v: v["name"])
def test_rfc9474_vector(v: dict[str, str], backend: str) -> None:
    sk = _vector_key(v)
    pk = sk.public_key()
    variant = VARIANTS[v["name"]]
    assert variant.salt_len == hexint(v["sLen"])
    assert variant.randomized == bool(hexint(v["is_randomized"]))
    msg = hexbytes(v["msg"])

    input_msg = blindrsa.prepare(
        msg, variant, prefix=hexbytes(v["msg_prefix"]) if variant.randomized else None
    )
    assert input_msg == hexbytes(v["input_msg"])
    salt = hexbytes(v["salt"])
    if "encoded_msg" in v:
        encoded = blindrsa.emsa_pss_encode(input_msg, pk.key_size - 1, salt)
        assert encoded == hexbytes(v["encoded_msg"])

    inv = hexint(v["inv"])
    r = pow(inv, -1, pk.public_numbers().n)  # the vectors publish inv = r^-1 mod n
    blinded_msg, inv_bytes = blindrsa.blind(pk, input_msg, variant, salt=salt, r=r)
    assert blinded_msg == hexbytes(v["blinded_msg"])
    assert int.from_bytes(inv_bytes, "big") == inv

    blind_sig = blindrsa.blind_sign(sk, blinded_msg)
    assert blind_sig == hexbytes(v["blind_sig"])
    assert BlindSigner(sk, backend=backend).sign(blinded_msg) == blind_sig
    assert BlindSigner(sk, backend=backend, parallel=True).sign(blinded_msg) == blind_sig

    sig = blindrsa.finalize(pk, input_msg, blind_sig, inv_bytes, variant)
    assert sig == hexbytes(v["sig"])
    assert blindrsa.verify(pk, input_msg, sig, variant)
    assert not blindrsa.verify(pk, msg + b"x", sig, variant)


@pytest.mark.parametrize("v", load_emsa_pss_vectors())
def test_emsa_pss_vector(v: dict[str, str]) -> None:
    # SHA-1, 20-byte salt, 1024-bit modulus (emBits = modBits - 1 = 1023).
    encoded = blindrsa.emsa_pss_encode(hexbytes(v["msg"]), 1023, hexbytes(v["salt"]), "sha1")
    assert encoded == hexbytes(v["expected"])


def test_emsa_pss_encoding_error() -> None:
    with pytest.raises(InvalidInputError):
        blindrsa.emsa_pss_encode(b"m", 8 * (48 + 48 + 1), b"s" * 48)


@pytest.mark.parametrize("variant", list(VARIANTS.values()), ids=lambda v: v.name)
@RSA_SETTINGS
@given(msg=st.binary(max_size=64))
def test_round_trip_every_variant(key, signer, variant, msg) -> None:  # type: ignore[no-untyped-def]
    pk = key.public_key()
    input_msg = blindrsa.prepare(msg, variant)
    assert len(input_msg) == len(msg) + (32 if variant.randomized else 0)
    blinded, inv = blindrsa.blind(pk, input_msg, variant)
    assert len(blinded) == len(inv) == 256
    sig = blindrsa.finalize(pk, input_msg, signer.sign(blinded), inv, variant)
    # Standard RSASSA-PSS verification (RFC 9474 §4.5) straight through cryptography.
    pk.verify(
        sig,
        input_msg,
        padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=variant.salt_len),
        hashes.SHA384(),
    )


@RSA_SETTINGS
@given(m=st.integers(min_value=0))
def test_blind_signer_equals_textbook_rsa(key, signer, m) -> None:  # type: ignore[no-untyped-def]
    n = key.public_key().public_numbers().n
    d = key.private_numbers().d
    m %= n
    assert signer.sign(m.to_bytes(256, "big")) == pow(m, d, n).to_bytes(256, "big")


@RSA_SETTINGS
@given(position=st.integers(0, 255), mask=st.integers(1, 255), msg=st.binary(max_size=32))
def test_flipped_byte_in_blind_sig_is_detected(key, signer, position, mask, msg) -> None:  # type: ignore[no-untyped-def]
    pk = key.public_key()
    input_msg = blindrsa.prepare(msg)
    blinded, inv = blindrsa.blind(pk, input_msg)
    blind_sig = bytearray(signer.sign(blinded))
    blind_sig[position] ^= mask
    with pytest.raises(BlindRSAError):  # VerificationError, or InvalidInputError if now >= n
        blindrsa.finalize(pk, input_msg, bytes(blind_sig), inv)


@RSA_SETTINGS
@given(position=st.integers(0, 255), mask=st.integers(1, 255))
def test_flipped_byte_in_signature_or_message_is_detected(key, signer, position, mask) -> None:  # type: ignore[no-untyped-def]
    pk = key.public_key()
    input_msg = blindrsa.prepare(b"credential public key")
    blinded, inv = blindrsa.blind(pk, input_msg)
    sig = blindrsa.finalize(pk, input_msg, signer.sign(blinded), inv)
    bad_sig = bytearray(sig)
    bad_sig[position] ^= mask
    assert not blindrsa.verify(pk, input_msg, bytes(bad_sig))
    bad_msg = bytearray(input_msg)
    bad_msg[position % len(input_msg)] ^= mask
    assert not blindrsa.verify(pk, bytes(bad_msg), sig)


def test_blind_sign_rejects_wrong_lengths_and_out_of_range(key, signer) -> None:  # type: ignore[no-untyped-def]
    n = key.public_key().public_numbers().n
    for bad in (b"", b"\x01" * 255, b"\x01" * 257):
        with pytest.raises(InvalidInputError):
            signer.sign(bad)
    for value in (n, n + 1, (1 << 2048) - 1):
        with pytest.raises(InvalidInputError):
            signer.sign(value.to_bytes(256, "big"))
    with pytest.raises(InvalidInputError):
        blindrsa.blind_sign(key, n.to_bytes(256, "big"))


def test_blind_sign_refuses_faulty_result(monkeypatch, key) -> None:  # type: ignore[no-untyped-def]
    # Simulate a CRT fault: the RFC 9474 §4.3 s^e = m check must stop the value leaving.
    signer = BlindSigner(key, backend="gmpy2")
    original = BlindSigner._rsasp1_crt
    monkeypatch.setattr(BlindSigner, "_rsasp1_crt", lambda self, c: original(self, c) + 1)
    with pytest.raises(SigningError):
        signer.sign((12345).to_bytes(256, "big"))


def test_blind_sign_refuses_faulty_openssl_result(monkeypatch, key) -> None:  # type: ignore[no-untyped-def]
    # The same for a fault inside libcrypto: one flipped bit in its genuine output.
    signer = BlindSigner(key, backend="openssl")
    original = _libcrypto.RSAPrivateOp.rsasp1

    def faulty(self: _libcrypto.RSAPrivateOp, representative: bytes) -> bytes:
        out = bytearray(original(self, representative))
        out[-1] ^= 1
        return bytes(out)

    monkeypatch.setattr(_libcrypto.RSAPrivateOp, "rsasp1", faulty)
    with pytest.raises(SigningError):
        signer.sign((12345).to_bytes(256, "big"))


def test_openssl_errors_are_drained_into_the_exception(key) -> None:  # type: ignore[no-untyped-def]
    # Below BlindSigner's own range check: libcrypto refuses m >= n itself, and the error it
    # queues ends up in the exception, leaving this thread's OpenSSL error queue empty.
    op = BlindSigner(key, backend="openssl")._ossl
    assert op is not None
    n = key.public_key().public_numbers().n
    with pytest.raises(_libcrypto.LibcryptoError, match="data too large for modulus"):
        op.rsasp1(n.to_bytes(256, "big"))
    assert _libcrypto.load().ERR_get_error() == 0
    with pytest.raises(ValueError):
        op.rsasp1(b"\x01" * 255)


def test_automatic_backend_is_openssl_here(key) -> None:  # type: ignore[no-untyped-def]
    try:
        version = _libcrypto.version_text()
    except _libcrypto.LibcryptoError as exc:
        pytest.skip(f"no OpenSSL 3 libcrypto on this machine: {exc}")
    assert version.startswith("OpenSSL 3.")
    assert BlindSigner(key).backend == "openssl"
    # parallel=True concerns the gmpy2 backend only: it does not change the automatic choice.
    assert BlindSigner(key, parallel=True).backend == "openssl"
    assert BlindSigner(key, backend="gmpy2").backend == "gmpy2"


def test_backend_selection_without_libcrypto(monkeypatch, caplog, key) -> None:  # type: ignore[no-untyped-def]
    def unavailable() -> None:
        raise _libcrypto.LibcryptoError("no libcrypto found")

    monkeypatch.setattr(_libcrypto, "load", unavailable)
    signer = BlindSigner(key)
    assert signer.backend == "gmpy2"
    assert "falls back to gmpy2" in caplog.text  # a slower issuer should not go unnoticed
    n, d = key.public_key().public_numbers().n, key.private_numbers().d
    assert signer.sign((7).to_bytes(256, "big")) == pow(7, d, n).to_bytes(256, "big")
    with pytest.raises(BackendUnavailableError, match="no libcrypto found"):
        BlindSigner(key, backend="openssl")
    with pytest.raises(ValueError):
        BlindSigner(key, backend="gmp")


def test_openssl_key_is_freed_with_the_signer(key) -> None:  # type: ignore[no-untyped-def]
    signer = BlindSigner(key, backend="openssl")
    assert signer._ossl is not None
    finalizer = signer._ossl._finalizer
    assert finalizer.alive
    del signer
    gc.collect()
    assert not finalizer.alive


def test_finalize_rejects_bad_input(key, signer) -> None:  # type: ignore[no-untyped-def]
    pk = key.public_key()
    n = pk.public_numbers().n
    input_msg = blindrsa.prepare(b"m")
    blinded, inv = blindrsa.blind(pk, input_msg)
    blind_sig = signer.sign(blinded)
    with pytest.raises(InvalidInputError):
        blindrsa.finalize(pk, input_msg, blind_sig[1:], inv)
    with pytest.raises(InvalidInputError):
        blindrsa.finalize(pk, input_msg, blind_sig, inv + b"\x00")
    with pytest.raises(InvalidInputError):
        blindrsa.finalize(pk, input_msg, n.to_bytes(256, "big"), inv)
    with pytest.raises(VerificationError):
        blindrsa.finalize(pk, input_msg + b"x", blind_sig, inv)
    # The issuer's answer to another blinded message does not unblind to a valid signature.
    other_blinded, _ = blindrsa.blind(pk, input_msg)
    with pytest.raises(VerificationError):
        blindrsa.finalize(pk, input_msg, signer.sign(other_blinded), inv)


def test_prepare_and_blind_parameter_checks(key) -> None:  # type: ignore[no-untyped-def]
    pk = key.public_key()
    pss = blindrsa.RSABSSA_SHA384_PSS_RANDOMIZED
    det = blindrsa.RSABSSA_SHA384_PSS_DETERMINISTIC
    with pytest.raises(InvalidInputError):
        blindrsa.prepare(b"m", pss, prefix=b"short")
    with pytest.raises(InvalidInputError):
        blindrsa.prepare(b"m", det, prefix=b"x" * 32)
    assert blindrsa.prepare(b"m", det) == b"m"
    with pytest.raises(InvalidInputError):
        blindrsa.blind(pk, b"m", pss, salt=b"x" * 47)
    with pytest.raises(InvalidInputError):
        blindrsa.blind(pk, b"m", pss, r=0)
    with pytest.raises(InvalidInputError):
        blindrsa.blind(pk, b"m", pss, r=pk.public_numbers().n)
    assert not blindrsa.verify(pk, b"m", b"\x00" * 255)


def test_key_generation_and_serialisation(key) -> None:  # type: ignore[no-untyped-def]
    assert key.key_size == 2048
    assert key.public_key().public_numbers().e == 65537
    with pytest.raises(InvalidInputError):
        blindrsa.generate_private_key(1024)
    pem = blindrsa.private_key_to_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    again = blindrsa.private_key_from_pem(pem)
    assert again.private_numbers() == key.private_numbers()


def test_jwk_round_trip(key) -> None:  # type: ignore[no-untyped-def]
    jwk = blindrsa.public_key_to_jwk(key.public_key())
    assert set(jwk) == {"kty", "n", "e", "alg"}
    assert jwk["kty"] == "RSA" and jwk["alg"] == "PS384" and jwk["e"] == "AQAB"
    pk = blindrsa.public_key_from_jwk(jwk)
    assert blindrsa.public_keys_equal(pk, key.public_key())
    assert blindrsa.jwk_thumbprint(pk) == blindrsa.jwk_thumbprint(key)
    assert len(blindrsa.jwk_thumbprint(pk)) == 43


@pytest.mark.parametrize(
    "change",
    [
        {"kty": "EC"},
        {"alg": "RS256"},
        {"d": "AQAB"},
        {"e": "AQAB="},
        {"e": "AAEAAQ"},
        {"n": None},
        {"e": "Ag"},
    ],
)
def test_jwk_import_rejects(key, change) -> None:  # type: ignore[no-untyped-def]
    jwk = {**blindrsa.public_key_to_jwk(key.public_key()), **change}
    jwk = {k: v for k, v in jwk.items() if v is not None}
    with pytest.raises(InvalidInputError):
        blindrsa.public_key_from_jwk(jwk)


def test_jwk_import_rejects_leading_zero_and_small_modulus(key) -> None:  # type: ignore[no-untyped-def]
    n = key.public_key().public_numbers().n
    jwk = blindrsa.public_key_to_jwk(key.public_key())
    with pytest.raises(InvalidInputError):
        blindrsa.public_key_from_jwk({**jwk, "n": b64url_e(b"\x00" + n.to_bytes(256, "big"))})
    with pytest.raises(InvalidInputError):
        blindrsa.public_key_from_jwk(jwk, min_bits=4096)
    # The RFC vectors' 4096-bit key is accepted.
    big = blindrsa.public_key_to_jwk(_vector_key(RFC9474[0]))
    assert blindrsa.public_key_from_jwk(big, min_bits=4096).key_size == 4096


def test_parallel_signer_under_concurrency(key) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    n, d = key.public_key().public_numbers().n, key.private_numbers().d
    signer = BlindSigner(key, backend="gmpy2", parallel=True)
    messages = [(i * 0x1234567 + 99) % n for i in range(1, 17)]
    with ThreadPoolExecutor(4) as pool:
        sigs = list(pool.map(lambda m: signer.sign(m.to_bytes(256, "big")), messages))
    assert sigs == [pow(m, d, n).to_bytes(256, "big") for m in messages]


def test_one_signer_shared_by_eight_threads(signer) -> None:  # type: ignore[no-untyped-def]
    # 8 threads x 50 full issuances (blind, sign, finalize with PSS verification) on one signer.
    pk = signer.public_key
    failures: list[BaseException] = []
    counts = [0] * 8
    start = threading.Barrier(8)

    def client(index: int) -> None:
        try:
            start.wait()
            for _ in range(50):
                input_msg = blindrsa.prepare(secrets.token_bytes(32))
                blinded, inv = blindrsa.blind(pk, input_msg)
                sig = blindrsa.finalize(pk, input_msg, signer.sign(blinded), inv)
                assert blindrsa.verify(pk, input_msg, sig)
                counts[index] += 1
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    assert counts == [50] * 8
