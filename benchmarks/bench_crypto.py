"""Cost of each crypto/ primitive on this machine: ops/sec and ms/op.

Run: ``python benchmarks/bench_crypto.py [--seconds 0.5]``. A CLI can call :func:`run`, which
prints through ``print_fn`` and returns the measurements as a list of dicts.

The blind-signing section compares implementations of the RSA-2048 private operation:
``crypto.blindrsa.BlindSigner`` on each of its backends — the system's OpenSSL 3 libcrypto (the
automatic choice where it is available) and gmpy2 (CRT, our own RSA blinding), both with the
range check and the s^e = m check — a pure-Python CRT baseline with the built-in ``pow`` (no
blinding, no check — a lower bound for pure Python), and OpenSSL through ``cryptography`` (a full
RSASSA-PSS-SHA384 signature, as the reference).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

from crypto import blindrsa, credential, sealing, shamir  # noqa: E402


def _measure(fn: Callable[[], Any], seconds: float, min_runs: int = 3) -> tuple[int, float]:
    """Run ``fn`` for about ``seconds`` (at least ``min_runs`` times); return (runs, s/op)."""
    fn()  # warm-up: caches, lazy imports
    runs = 0
    start = time.perf_counter()
    deadline = start + seconds
    while runs < min_runs or time.perf_counter() < deadline:
        fn()
        runs += 1
    return runs, (time.perf_counter() - start) / runs


def run(print_fn: Callable[[str], Any] = print, *, seconds: float = 0.5) -> list[dict[str, Any]]:
    """Benchmark every primitive and print a table.

    Returns one dict per operation: ``name``, ``runs``, ``ops_per_sec``, ``ms_per_op``.
    """
    results: list[dict[str, Any]] = []

    def bench(name: str, fn: Callable[[], Any], min_runs: int = 3, budget: float = seconds) -> None:
        runs, per_op = _measure(fn, budget, min_runs)
        row = {"name": name, "runs": runs, "ops_per_sec": 1 / per_op, "ms_per_op": per_op * 1e3}
        results.append(row)
        print_fn(f"{name:<44} {row['ops_per_sec']:>10.1f} ops/s {row['ms_per_op']:>10.3f} ms/op")

    print_fn(f"{'operation':<44} {'throughput':>16} {'latency':>16}")

    # --- RSA blind signatures (RFC 9474) ---
    bench("RSA-2048 key generation", blindrsa.generate_private_key, budget=seconds * 2)
    key = blindrsa.generate_private_key()
    pk = key.public_key()
    signer = blindrsa.BlindSigner(key)
    input_msg = credential.ballot_input_msg(secrets.token_bytes(32), secrets.token_bytes(32))
    blinded, inv = blindrsa.blind(pk, input_msg)
    try:
        ossl_signer = blindrsa.BlindSigner(key, backend="openssl")
    except blindrsa.BackendUnavailableError as exc:
        print_fn(f"(blind_sign on OpenSSL skipped: {exc})")
    else:
        bench("blind_sign, openssl (libcrypto + check)", lambda: ossl_signer.sign(blinded))
    gmp_signer = blindrsa.BlindSigner(key, backend="gmpy2")
    bench("blind_sign, gmpy2 (CRT + blinding + check)", lambda: gmp_signer.sign(blinded))
    par_signer = blindrsa.BlindSigner(key, backend="gmpy2", parallel=True)
    bench("blind_sign, gmpy2 parallel=True (2 threads)", lambda: par_signer.sign(blinded))

    priv = key.private_numbers()
    m = int.from_bytes(blinded, "big")
    p, q, dp, dq, qinv = priv.p, priv.q, priv.dmp1, priv.dmq1, priv.iqmp

    def pure_python_crt() -> int:
        s1 = pow(m % p, dp, p)
        s2 = pow(m % q, dq, q)
        return s2 + q * (((s1 - s2) * qinv) % p)

    bench("RSA private op, pure-Python pow with CRT", pure_python_crt)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    bench("RSA-PSS sign, OpenSSL (reference)", lambda: key.sign(input_msg, pss, hashes.SHA384()))
    blind_sig = signer.sign(blinded)
    sig = blindrsa.finalize(pk, input_msg, blind_sig, inv)
    bench("blind (client: EMSA-PSS + r^e)", lambda: blindrsa.blind(pk, input_msg))
    bench(
        "finalize (client: unblind + PSS verify)",
        lambda: blindrsa.finalize(pk, input_msg, blind_sig, inv),
    )
    bench("RSA-PSS verify (issuer_sig)", lambda: blindrsa.verify(pk, input_msg, sig))

    # --- Ed25519 credentials ---
    ck = credential.generate_key()
    cpk = credential.public_key_bytes(ck)
    bench("Ed25519 sign (32 bytes)", lambda: ck.sign(input_msg))
    raw_sig = ck.sign(input_msg)
    epk = ck.public_key()
    bench("Ed25519 verify (32 bytes)", lambda: epk.verify(raw_sig, input_msg))
    entry = {
        "type": "ballot",
        "election": "e-1",
        "group": "g",
        "credential": "A" * 44,
        "prefix": "B" * 44,
        "issuer_sig": "C" * 344,
        "seq": 1,
        "ciphertext": "D" * 1440,
    }
    bench("sign_entry (RFC 8785 + Ed25519)", lambda: credential.sign_entry(ck, entry))
    signed = {**entry, "signature": credential.sign_entry(ck, entry)}
    bench("verify_entry (RFC 8785 + Ed25519)", lambda: credential.verify_entry(cpk, signed))

    # --- HPKE sealing, 1 KiB ballot ---
    sk, xpk = sealing.generate_keypair()
    padded = sealing.pad(b'{"selections":[1]}', 1024)
    bench(
        "seal 1 KiB ballot (HPKE X25519/AES-128-GCM)", lambda: sealing.seal(xpk, padded, "e", "g")
    )
    ct = sealing.seal(xpk, padded, "e", "g")
    bench("open 1 KiB ballot", lambda: sealing.open_ballot(sk, ct, "e", "g"))

    # --- Shamir ---
    bench("Shamir split 3-of-5", lambda: shamir.split(sk, 3, 5, "e"))
    shares = shamir.split(sk, 3, 5, "e")
    bench("Shamir combine 3-of-5", lambda: shamir.combine(shares[:3]))
    shares_big = shamir.split(sk, 7, 10, "e")
    bench("Shamir combine 7-of-10 (all 10, consistency)", lambda: shamir.combine(shares_big))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time budget per operation")
    args = parser.parse_args(argv)
    run(seconds=args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
