"""docs/client-protocol.md is checked against the implementation: every value of the worked
example, and every voting/log route and problem type the guide must name.

The worked example fixes all of a client's randomness (credential key, ``msg_prefix``, PSS salt,
blinding factor r, HPKE ephemeral key), so a third-party client can be compared with it byte for
byte. ``crypto.sealing`` cannot seal with a given ephemeral key (``cryptography``'s HPKE draws it
itself), so the example's ciphertext is recomputed here with a small RFC 9180 base-mode sender
built from ``cryptography`` primitives, first checked against RFC 9180 Appendix A.1.1; the
implementation must then open that ciphertext to the example's padded ballot.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from api.problems import REGISTRY
from api.voting.schemas import BallotIn
from cli.client import ProtocolError, verify_promise
from crypto import blindrsa, credential, merkle, note, sealing
from crypto.canonical import b64d, b64e, canonical_json

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "client-protocol.md"
DATA = ROOT / "tests" / "data"

# Every member of the example's blocks is checked below; a new member must get a check.
INPUT_KEYS = {
    "sk_c_hex",
    "msg_prefix_hex",
    "issuer_jwk",
    "pss_salt_hex",
    "r_hex",
    "sealing_ikm_hex",
    "ephemeral_ikm_hex",
    "election",
    "group",
    "ballot_size",
    "selections",
    "seq",
}
OUTPUT_KEYS = {
    "credential",
    "input_msg_hex",
    "blinded_msg",
    "blind_sig",
    "sealing_key",
    "plaintext_jcs",
    "plaintext_len",
    "padded_len",
    "padded_sha256",
    "hpke_info",
    "hpke_enc_hex",
    "hpke_shared_secret_hex",
    "hpke_key_hex",
    "hpke_base_nonce_hex",
    "ciphertext_len",
    "signed_bytes_len",
    "signed_bytes_sha256",
    "entry_leaf_hash",
}
ENTRY_KEYS = set(BallotIn.model_fields)


def _block(name: str) -> Any:
    text = DOC.read_text()
    m = re.search(rf"<!-- example:{name} -->\s*```json\n(.*?)```", text, re.S)
    assert m, f"example block {name} missing"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def example() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    i, o, entry = _block("inputs"), _block("outputs"), _block("entry")
    assert set(i) == INPUT_KEYS
    assert set(o) == OUTPUT_KEYS
    assert set(entry) == ENTRY_KEYS
    return i, o, entry


# --- RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM (test only) -------

_KEM_SUITE = b"KEM\x00\x20"  # §4.1: "KEM" ‖ I2OSP(kem_id 0x0020, 2)
_HPKE_SUITE = b"HPKE\x00\x20\x00\x01\x00\x01"  # §5.1: kem_id, kdf_id 0x0001, aead_id 0x0001


def _extract(salt: bytes, ikm: bytes) -> bytes:  # RFC 5869 §2.2; empty salt = HashLen zeros
    return hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()


def _expand(prk: bytes, info: bytes, length: int) -> bytes:  # RFC 5869 §2.3
    out, t = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        t = hmac.new(prk, t + info + bytes([counter]), hashlib.sha256).digest()
        out += t
    return out[:length]


def _labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:  # §4
    return _extract(salt, b"HPKE-v1" + suite + label + ikm)


def _labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return _expand(prk, length.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info, length)


def _derive_key_pair(ikm: bytes) -> tuple[bytes, bytes]:
    """§7.1.3 DeriveKeyPair for X25519: raw ``(sk, pk)``."""
    dkp_prk = _labeled_extract(_KEM_SUITE, b"", b"dkp_prk", ikm)
    sk = _labeled_expand(_KEM_SUITE, dkp_prk, b"sk", b"", 32)
    return sk, sealing.public_key_from_private(sk)


def _seal_base(
    pk_r: bytes, info: bytes, pt: bytes, ikm_e: bytes, aad: bytes = b""
) -> dict[str, bytes]:
    """§5.1.1 SetupBaseS with the ephemeral key DeriveKeyPair(ikm_e), then Seal at seq 0."""
    sk_e, enc = _derive_key_pair(ikm_e)
    dh = x25519.X25519PrivateKey.from_private_bytes(sk_e).exchange(
        x25519.X25519PublicKey.from_public_bytes(pk_r)
    )
    eae_prk = _labeled_extract(_KEM_SUITE, b"", b"eae_prk", dh)  # §4.1 ExtractAndExpand
    shared = _labeled_expand(_KEM_SUITE, eae_prk, b"shared_secret", enc + pk_r, 32)
    context = (
        b"\x00"  # mode_base
        + _labeled_extract(_HPKE_SUITE, b"", b"psk_id_hash", b"")
        + _labeled_extract(_HPKE_SUITE, b"", b"info_hash", info)
    )
    secret = _labeled_extract(_HPKE_SUITE, shared, b"secret", b"")
    key = _labeled_expand(_HPKE_SUITE, secret, b"key", context, 16)
    nonce = _labeled_expand(_HPKE_SUITE, secret, b"base_nonce", context, 12)
    ct = AESGCM(key).encrypt(nonce, pt, aad)
    return {"enc": enc, "shared_secret": shared, "key": key, "base_nonce": nonce, "ct": ct}


def test_reference_hpke_reproduces_rfc9180_a_1_1():
    """RFC 9180 Appendix A.1.1 (this suite, base mode): keys, key schedule, first encryption."""
    h = bytes.fromhex
    sk_r, pk_r = _derive_key_pair(
        h("6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037")
    )
    assert sk_r == h("4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8")
    assert pk_r == h("3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d")
    out = _seal_base(
        pk_r,
        h("4f6465206f6e2061204772656369616e2055726e"),  # "Ode on a Grecian Urn"
        h("4265617574792069732074727574682c20747275746820626561757479"),
        h("7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234"),
        aad=h("436f756e742d30"),  # "Count-0"
    )
    assert out["enc"] == h("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431")
    assert out["shared_secret"] == h(
        "fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc"
    )
    assert out["key"] == h("4531685d41d65f03dc48f6b8302c05b0")
    assert out["base_nonce"] == h("56d890e5accaaf011cff4b7d")
    assert out["ct"].hex() == (
        "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a9"
        + "6d8770ac83d07bea87e13c512a"
    )


# --- the worked example -------------------------------------------------------------------------


def _issuer_private_key() -> rsa.RSAPrivateKey:
    k = json.loads((DATA / "client_protocol_issuer_key.json").read_text())
    n, e, p, q, d = (int(k[name], 16) for name in ("n", "e", "p", "q", "d"))
    return rsa.RSAPrivateNumbers(
        p,
        q,
        d,
        rsa.rsa_crt_dmp1(d, p),
        rsa.rsa_crt_dmq1(d, q),
        rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(e, n),
    ).private_key()


def _plaintext(i: dict[str, Any]) -> dict[str, Any]:
    return {"election": i["election"], "group": i["group"], "selections": i["selections"]}


def test_example_credential(example):
    """RFC 9474 RSABSSA-SHA384-PSS-Randomized: prepare, blind, the issuer's BlindSign, finalize."""
    i, o, entry = example
    sk_c = credential.load_private_key(bytes.fromhex(i["sk_c_hex"]))
    pk_c = credential.public_key_bytes(sk_c)
    assert b64e(pk_c) == o["credential"] == entry["credential"]

    issuer = _issuer_private_key()
    assert i["issuer_jwk"] == blindrsa.public_key_to_jwk(issuer)
    pub = blindrsa.public_key_from_jwk(i["issuer_jwk"])
    assert pub.key_size == 2048 and pub.public_numbers().e == 65537

    prefix = bytes.fromhex(i["msg_prefix_hex"])
    input_msg = blindrsa.prepare(pk_c, prefix=prefix)
    assert input_msg == credential.ballot_input_msg(prefix, pk_c)
    assert input_msg.hex() == o["input_msg_hex"]
    assert b64e(prefix) == entry["prefix"]

    # The salt is RFC 9474 Appendix A's (RSABSSA-SHA384-PSS-Randomized vector).
    rfc9474 = json.loads((DATA / "rfc9474" / "test_vectors_rfc9474.json").read_text())
    (vector,) = [v for v in rfc9474 if v["name"] == "RSABSSA-SHA384-PSS-Randomized"]
    salt = bytes.fromhex(i["pss_salt_hex"])
    assert salt == bytes.fromhex(vector["salt"]) and len(salt) == 48

    r_bytes = bytes.fromhex(i["r_hex"])
    r = int.from_bytes(r_bytes, "big")
    assert len(r_bytes) == 256 and 1 <= r < pub.public_numbers().n  # blindrsa-ts draws 256 bytes
    blinded_msg, inv = blindrsa.blind(pub, input_msg, salt=salt, r=r)
    assert b64e(blinded_msg) == o["blinded_msg"] and len(blinded_msg) == 256

    blind_sig = blindrsa.BlindSigner(issuer).sign(blinded_msg)
    assert b64e(blind_sig) == o["blind_sig"]

    issuer_sig = blindrsa.finalize(pub, input_msg, blind_sig, inv)  # verifies (RFC 9474 §4.4)
    assert b64e(issuer_sig) == entry["issuer_sig"]


def test_example_ciphertext(example):
    """Padding, info and HPKE ``enc ‖ ct``: recomputed exactly, and opened by crypto.sealing."""
    i, o, entry = example
    sk_r, pk_r = _derive_key_pair(bytes.fromhex(i["sealing_ikm_hex"]))
    assert b64e(pk_r) == o["sealing_key"]

    plaintext = _plaintext(i)
    jcs = canonical_json(plaintext)
    assert jcs.decode() == o["plaintext_jcs"] and len(jcs) == o["plaintext_len"]
    padded = sealing.encode_ballot(plaintext, i["ballot_size"])
    assert len(padded) == o["padded_len"] == i["ballot_size"]
    assert padded == jcs + b"\x80" + bytes(i["ballot_size"] - len(jcs) - 1)
    assert hashlib.sha256(padded).hexdigest() == o["padded_sha256"]
    info = sealing.info_for(i["election"], i["group"])
    assert info.decode() == o["hpke_info"]

    out = _seal_base(pk_r, info, padded, bytes.fromhex(i["ephemeral_ikm_hex"]))
    assert out["enc"].hex() == o["hpke_enc_hex"]
    assert out["shared_secret"].hex() == o["hpke_shared_secret_hex"]
    assert out["key"].hex() == o["hpke_key_hex"]
    assert out["base_nonce"].hex() == o["hpke_base_nonce_hex"]
    ciphertext = b64d(entry["ciphertext"])
    assert ciphertext == out["enc"] + out["ct"]
    assert len(ciphertext) == o["ciphertext_len"] == sealing.ciphertext_length(i["ballot_size"])

    opened = sealing.open_ballot(
        sk_r, ciphertext, i["election"], i["group"], ballot_size=i["ballot_size"]
    )
    assert opened == padded
    assert sealing.decode_ballot(opened, i["ballot_size"]) == plaintext


def test_example_entry(example):
    """The ballot entry: the POST body as the server parses it, its signature and leaf hash."""
    i, o, entry = example
    assert BallotIn.model_validate(entry).model_dump() == entry
    assert (entry["type"], entry["election"], entry["group"], entry["seq"]) == (
        "ballot",
        i["election"],
        i["group"],
        i["seq"],
    )
    signed = credential.entry_signing_bytes(entry)
    assert len(signed) == o["signed_bytes_len"]
    assert hashlib.sha256(signed).hexdigest() == o["signed_bytes_sha256"]
    sk_c = credential.load_private_key(bytes.fromhex(i["sk_c_hex"]))
    assert credential.sign_entry(sk_c, entry) == entry["signature"]  # Ed25519 is deterministic
    assert credential.verify_entry(credential.public_key_bytes(sk_c), entry)
    assert merkle.leaf_hash(canonical_json(entry)).hex() == o["entry_leaf_hash"]


def test_example_promise(example):
    """The promise the cast answers for the example entry, under the example log key: recomputed
    byte for byte (Ed25519 is deterministic), opened by the SDK's check, refused as a
    checkpoint, and its signature bound to the entry hash."""
    _, o, entry = example
    promise = _block("promise")
    origin = "stembus.example/elections/k7m3example2"
    signer = note.Signer(origin, bytes(range(0x40, 0x60)))
    assert signer.verifier_key in DOC.read_text()
    leaf = merkle.leaf_hash(canonical_json(entry))
    assert promise["entry_hash"] == leaf.hex() == o["entry_leaf_hash"]
    assert note.sign_promise(note.BallotPromise(origin, leaf), signer) == promise["promise"]
    opened = verify_promise(promise, leaf, note.Verifier(origin, signer.public_key))
    assert opened.origin == origin and opened.entry_hash == leaf
    with pytest.raises(note.NoteError):  # a promise is no checkpoint
        note.open_checkpoint(promise["promise"], note.Verifier(origin, signer.public_key))
    other = note.Signer(origin, bytes(32))
    with pytest.raises(ProtocolError):  # another key's promise
        verify_promise(promise, leaf, note.Verifier(origin, other.public_key))
    with pytest.raises(ProtocolError):  # for another entry
        verify_promise(promise, bytes(32), note.Verifier(origin, signer.public_key))


def test_guide_names_every_voting_route_and_problem(app):
    text = DOC.read_text()
    paths = [
        p.removeprefix("/api/v1").replace("{election_id}", "{e}")
        for p in app.openapi()["paths"]
        if "/voting/" in p or "/log/" in p or p.endswith("/ballots") or "/receipts/" in p
    ]
    for p in paths:
        if p.endswith("/voting/turnout"):  # the committee's, not a voter's
            continue
        bare = p.split("{size}")[0]
        assert bare in text, f"{p} is not in docs/client-protocol.md"
    from api.log import receipts
    from api.voting import casting, endpoints, issuance

    for module in (issuance, casting, receipts, endpoints):
        for value in vars(module).values():
            if getattr(value, "slug", None) in REGISTRY and value is REGISTRY[value.slug]:
                assert f"/problems/{value.slug}" in text, value.slug
