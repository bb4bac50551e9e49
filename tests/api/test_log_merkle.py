"""The public Merkle log: every append is a leaf with a signed checkpoint; proofs verify with
crypto.merkle and crypto.note alone, exactly as an outside verifier would check them."""

from __future__ import annotations

import base64
import hashlib

import pytest
from sqlmodel import Session

from api.log.tree_models import LogKey
from crypto import merkle, note
from crypto.canonical import canonical_json


def _grow(election, n: int = 5) -> None:
    """Append entries through the public API (settings updates are log entries)."""
    for i in range(n):
        r = election.client.put(
            election.url("/settings"),
            json={"settings": {"seats": 9, "min_months_to_vote": i}},
            headers=election.committee,
        )
        assert r.status_code == 200, r.text


def _verifier(election) -> note.Verifier:
    key = election.client.get(election.url("/log/key")).json()
    v = note.Verifier.from_key_string(key["verifier_key"])
    assert key["origin"] == v.name == f"stembus.test/elections/{election.id}"
    assert base64.b64decode(key["public_key"]) == v.public_key
    return v


def test_every_size_has_a_signed_checkpoint_matching_the_entries(election):
    _grow(election, 6)
    v = _verifier(election)
    page = election.client.get(election.url("/log/entries")).json()
    leaves = []
    for e in page["entries"]:
        body = canonical_json(e["entry"])
        assert e["leaf_hash"] == hashlib.sha256(b"\x00" + body).hexdigest()
        leaves.append(bytes.fromhex(e["leaf_hash"]))
    assert len(leaves) == page["size"] == 7  # election_created + 6 settings_updated
    builder = merkle.RootBuilder()
    for size, leaf in enumerate(leaves, start=1):
        builder.add(leaf)
        r = election.client.get(election.url(f"/log/checkpoints/{size}"))
        assert r.status_code == 200, r.text
        cp = note.open_checkpoint(r.json()["note"], v, origin=v.name)
        assert cp.size == size and cp.root_hash == builder.root()
        assert r.json()["root"] == builder.root().hex()
    latest = election.client.get(election.url("/log/checkpoint")).json()
    assert latest["size"] == len(leaves)
    text = election.client.get(election.url("/log/checkpoint.txt"))
    assert text.text == latest["note"] and text.headers["content-type"].startswith("text/plain")


def test_inclusion_proofs_by_index_and_by_hash_at_every_size(election):
    _grow(election, 4)
    v = _verifier(election)
    entries = election.client.get(election.url("/log/entries")).json()["entries"]
    n = len(entries)
    for size in range(1, n + 1):
        for e in entries[:size]:
            r = election.client.get(
                election.url("/log/proofs/inclusion"), params={"index": e["index"], "size": size}
            )
            assert r.status_code == 200, r.text
            body = r.json()
            cp = note.open_checkpoint(body["checkpoint"], v, origin=v.name)
            merkle.verify_inclusion(
                bytes.fromhex(e["leaf_hash"]),
                e["index"],
                size,
                [bytes.fromhex(h) for h in body["proof"]],
                cp.root_hash,
            )
    # by hash, default size = latest
    e = entries[2]
    r = election.client.get(
        election.url("/log/proofs/inclusion"), params={"entry_hash": e["leaf_hash"]}
    ).json()
    assert r["index"] == 2 and r["size"] == n and r["leaf_hash"] == e["leaf_hash"]


def test_consistency_proofs_between_every_pair(election):
    _grow(election, 5)
    entries = election.client.get(election.url("/log/entries")).json()["entries"]
    n = len(entries)
    roots = {}
    for size in range(1, n + 1):
        roots[size] = bytes.fromhex(
            election.client.get(election.url(f"/log/checkpoints/{size}")).json()["root"]
        )
    for old in range(1, n + 1):
        for new in range(old, n + 1):
            r = election.client.get(
                election.url("/log/proofs/consistency"), params={"from": old, "to": new}
            )
            assert r.status_code == 200, r.text
            proof = [bytes.fromhex(h) for h in r.json()["proof"]]
            merkle.verify_consistency(old, new, roots[old], roots[new], proof)


@pytest.mark.parametrize(
    ("path", "params", "status", "ptype"),
    [
        ("/log/checkpoints/999", {}, 404, "/problems/no-checkpoint"),
        ("/log/proofs/inclusion", {"index": 0, "size": 999}, 422, "/problems/invalid-tree-size"),
        ("/log/proofs/inclusion", {"index": 50}, 422, "/problems/invalid-tree-size"),
        ("/log/proofs/inclusion", {}, 422, "/problems/invalid-tree-size"),
        ("/log/proofs/inclusion", {"entry_hash": "00" * 32}, 404, "/problems/unknown-entry"),
        ("/log/proofs/consistency", {"from": 5, "to": 2}, 422, "/problems/invalid-tree-size"),
        ("/log/proofs/consistency", {"from": 1, "to": 999}, 422, "/problems/invalid-tree-size"),
        ("/log/proofs/consistency", {"from": 0}, 422, "/problems/validation-error"),
    ],
)
def test_bad_proof_requests_are_problems(election, path, params, status, ptype):
    _grow(election, 2)
    r = election.client.get(election.url(path), params=params)
    assert r.status_code == status, r.text
    assert r.json()["type"] == ptype
    assert r.headers["content-type"].startswith("application/problem+json")


def test_unknown_election_log_is_not_found(client):
    for path in ("/log/checkpoint", "/log/key", "/log/checkpoints/1"):
        r = client.get(f"/api/v1/elections/nosuchelection{path}")
        assert r.status_code == 404 and r.json()["type"] == "/problems/not-found"


def test_log_key_is_encrypted_at_rest(app, election):
    v = _verifier(election)
    with Session(app.state.engine) as s:
        row = s.get(LogKey, election.id)
        assert row is not None and bytes(row.public_key) == v.public_key
        blob = bytes(row.private_key_enc)
    # 12-byte nonce + 32-byte seed + 16-byte tag, and no 32-byte window that is the seed:
    # the only way to sign is through the deployment secret.
    assert len(blob) == 60
    from api.log import atrest

    seed = atrest.decrypt(app.state.settings, blob, f"log-key/{election.id}")
    assert note.Signer(v.name, seed).public_key == v.public_key
    assert seed not in blob
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        atrest.decrypt(app.state.settings, blob, "log-key/another-election")
