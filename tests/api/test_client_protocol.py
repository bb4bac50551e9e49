"""docs/client-protocol.md is checked against the implementation: the worked example's values,
and every voting/log route and problem type the guide must name."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from api.problems import REGISTRY
from crypto import credential, merkle, sealing
from crypto.canonical import b64e, canonical_json

DOC = Path(__file__).resolve().parents[2] / "docs" / "client-protocol.md"


def _block(name: str) -> dict:
    text = DOC.read_text()
    m = re.search(rf"<!-- example:{name} -->\s*```json\n(.*?)```", text, re.S)
    assert m, f"example block {name} missing"
    return json.loads(m.group(1))


def test_worked_example_matches_the_implementation():
    i, o = _block("inputs"), _block("outputs")
    sk = credential.load_private_key(bytes.fromhex(i["sk_c_hex"]))
    pk = credential.public_key_bytes(sk)
    assert b64e(pk) == o["credential"]
    plaintext = {"election": i["election"], "group": i["group"], "selections": i["selections"]}
    jcs = canonical_json(plaintext)
    assert jcs.decode() == o["plaintext_jcs"] and len(jcs) == o["plaintext_len"]
    padded = sealing.encode_ballot(plaintext, i["ballot_size"])
    assert len(padded) == o["padded_len"]
    assert padded[len(jcs) : len(jcs) + 3].hex() == o["padded_tail_hex_from_92"]
    assert sealing.info_for(i["election"], i["group"]).decode() == o["hpke_info"]
    assert sealing.ciphertext_length(i["ballot_size"]) == o["ciphertext_len"]
    entry = {
        "type": "ballot",
        "election": i["election"],
        "group": i["group"],
        "credential": b64e(pk),
        "prefix": b64e(bytes.fromhex(i["msg_prefix_hex"])),
        "issuer_sig": b64e(b"\x11" * 256),
        "seq": i["seq"],
        "ciphertext": b64e(b"\x22" * o["ciphertext_len"]),
    }
    signed = credential.entry_signing_bytes(entry)
    assert len(signed) == o["signed_bytes_len"]
    assert hashlib.sha256(signed).hexdigest() == o["signed_bytes_sha256"]
    assert signed.startswith(b'{"ciphertext":"IiIi')
    entry["signature"] = credential.sign_entry(sk, entry)
    assert entry["signature"] == o["signature"]
    assert credential.verify_entry(pk, entry)
    assert merkle.leaf_hash(canonical_json(entry)).hex() == o["entry_leaf_hash"]


def test_guide_names_every_voting_route_and_problem(app):
    text = DOC.read_text()
    paths = [
        p.removeprefix("/api/v1").replace("{election_id}", "{e}")
        for p in app.openapi()["paths"]
        if "/voting/" in p or "/log/" in p or p.endswith("/ballots")
    ]
    for p in paths:
        if p.endswith("/voting/turnout"):  # the committee's, not a voter's
            continue
        bare = p.split("{size}")[0]
        assert bare in text, f"{p} is not in docs/client-protocol.md"
    from api.log import receipts
    from api.voting import casting, issuance

    for module in (issuance, casting, receipts):
        for value in vars(module).values():
            if getattr(value, "slug", None) in REGISTRY and value is REGISTRY[value.slug]:
                assert f"/problems/{value.slug}" in text, value.slug
