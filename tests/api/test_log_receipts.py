"""POST …/log/receipts/check (api/log/receipts.py): a ballot's receipt, as the cast answered it
or tampered with. A receipt that is not this log's (another entry, another election, a
checkpoint not signed by this log's key, a broken encoding) is a 422 `invalid-receipt` (or a
`validation-error` when the body breaks the schema); a receipt signed by the log key for a tree
the log never had (a split view) checks out as signed but not consistent."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlmodel import Session

from api.log import atrest
from api.log.tree_models import LogKey
from cli.client import StembusClient
from crypto import merkle, note
from tests.api.test_voting_support import close_voting, receipts_of, voting_election

JSON_FIELDS = ("entry_hash", "index", "checkpoint", "inclusion_proof")


def _check(client, election_id: str, body: dict[str, Any]):
    return client.post(f"/api/v1/elections/{election_id}/log/receipts/check", json=body)


def _problem(r, status: int, slug: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["type"] == f"/problems/{slug}", r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def _invalid(client, election_id: str, body: dict[str, Any]) -> None:
    _problem(_check(client, election_id, body), 422, "invalid-receipt")


def _json_form(receipt: dict[str, Any], **change: Any) -> dict[str, Any]:
    return {**{k: receipt[k] for k in JSON_FIELDS}, **change}


def _tlog_form(receipt: dict[str, Any], **change: Any) -> dict[str, Any]:
    return {"entry_hash": receipt["entry_hash"], "tlog_proof": receipt["tlog_proof"], **change}


def _leaves(ve) -> list[bytes]:
    out: list[bytes] = []
    start: int | None = 0
    while start is not None:
        page = ve.e.client.get(ve.e.url("/log/entries"), params={"start": start}).json()
        out.extend(bytes.fromhex(e["leaf_hash"]) for e in page["entries"])
        start = page["next"]
    return out


@pytest.fixture()
def voted(app, client, make_election):
    """An election in which two voters cast (one re-votes), then voting closed (which flushes
    the pools): (election, sdk, the first ballot's receipt)."""
    ve = voting_election(app, make_election, n_voters=3)
    sdk = StembusClient(http=client)
    codes = list(ve.codes.values())
    cred, _ = sdk.vote(ve.id, codes[0], {"q1": ["yes"]})
    sdk.vote(ve.id, codes[1], {"q1": ["no"]})
    sdk.revote(cred, {"q1": ["abstain"]})
    close_voting(ve)
    return ve, sdk, receipts_of(sdk, cred)[0]


def test_a_receipt_checks_in_each_form_and_stays_consistent(client, voted):
    ve, sdk, receipt = voted
    latest = client.get(ve.e.url("/log/checkpoint")).json()
    assert latest["size"] > receipt["index"] + 1  # the log grew after this ballot
    for body in (receipt, _json_form(receipt), _tlog_form(receipt)):
        r = _check(client, ve.id, body)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["signature_valid"] and out["proof_valid"]
        assert out["in_log"] and out["consistent"]
        assert out["index"] == receipt["index"]
        # the receipt's checkpoint is the one signed after the flush that appended the ballot
        assert (
            out["receipt_size"]
            == note.Checkpoint.from_text(note.parse_note(receipt["checkpoint"])[0]).size
        )
        assert out["receipt_size"] > receipt["index"]
        assert out["kind"] == "receipt" and out["status"] == "included"
        assert out["latest_size"] == latest["size"]
        assert out["latest_checkpoint"] == latest["note"]
        # the consistency proof verifies with our own Merkle code, between the two roots
        v = sdk.log_verifier(ve.id)
        old = note.open_checkpoint(receipt["checkpoint"], v, v.name)
        merkle.verify_consistency(
            old.size,
            latest["size"],
            old.root_hash,
            bytes.fromhex(latest["root"]),
            [bytes.fromhex(h) for h in out["consistency_proof"]],
        )


def test_a_receipt_with_another_leaf_hash_is_refused(client, voted):
    ve, _, receipt = voted
    leaves = _leaves(ve)
    mine = bytes.fromhex(receipt["entry_hash"])
    assert leaves[receipt["index"]] == mine
    flipped = bytearray(mine)
    flipped[31] ^= 1
    others = [
        leaves[receipt["index"] - 1].hex(),  # the entry just before it, a real leaf of this log
        leaves[-1].hex(),  # a later ballot of the same credential
        bytes(flipped).hex(),
        "00" * 32,
    ]
    for other in others:
        _invalid(client, ve.id, _json_form(receipt, entry_hash=other))
        _invalid(client, ve.id, _tlog_form(receipt, entry_hash=other))
    # and the right hash with the index of another entry
    _invalid(client, ve.id, _json_form(receipt, index=receipt["index"] - 1))


def test_a_whole_receipt_whose_two_forms_disagree_is_refused(client, voted):
    ve, sdk, receipt = voted
    if len(receipt["inclusion_proof"]) < 2:
        # A proof of one hash reversed is itself: take another ballot's receipt of the log
        # whose proof is longer.
        page = client.get(ve.e.url("/log/entries"), params={"limit": 1000}).json()
        for e in page["entries"]:
            if e["entry"]["type"] != "ballot":
                continue
            got = sdk.receipt_status(ve.id, bytes.fromhex(e["leaf_hash"]))
            if got and len(got["receipt"]["inclusion_proof"]) >= 2:
                receipt = got["receipt"]
                break
    later = client.get(ve.e.url("/log/checkpoint")).json()["note"]
    assert later != receipt["checkpoint"]
    assert list(reversed(receipt["inclusion_proof"])) != receipt["inclusion_proof"]
    # Each JSON field that differs from the tlog-proof text, alone: the check cannot say
    # which of the two it vouches for.
    _invalid(client, ve.id, {**receipt, "index": receipt["index"] - 1})
    _invalid(client, ve.id, {**receipt, "checkpoint": later})
    _invalid(
        client, ve.id, {**receipt, "inclusion_proof": list(reversed(receipt["inclusion_proof"]))}
    )
    _invalid(client, ve.id, {**receipt, "inclusion_proof": ["zz" * 32]})
    # The tlog-proof text with only some JSON fields, all agreeing: checked.
    assert _check(client, ve.id, _tlog_form(receipt, index=receipt["index"])).status_code == 200


def _replace_line(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1
    return text.replace(old, new)


def test_a_receipt_with_a_broken_encoding_is_refused(app, client, voted):
    ve, _, receipt = voted
    path = receipt["inclusion_proof"]
    assert path, "a receipt with an empty path would test nothing here"
    # entry_hash: the schema asks for 64 lower-case hex digits
    for bad in ("zz" * 32, receipt["entry_hash"].upper(), receipt["entry_hash"][:-1], ""):
        _problem(
            _check(client, ve.id, _json_form(receipt, entry_hash=bad)), 422, "validation-error"
        )
    # inclusion proof hashes: not hex, or hex of the wrong length
    for bad in ("zz" * 32, path[0][:-2], path[0] + "00", path[0][1:]):
        _invalid(client, ve.id, _json_form(receipt, inclusion_proof=[bad, *path[1:]]))
    _invalid(client, ve.id, _json_form(receipt, inclusion_proof=path[:-1]))
    _invalid(client, ve.id, _json_form(receipt, inclusion_proof=[*path, path[0]]))
    # tlog-proof: a hash line that is not (canonical) base64, another header, no checkpoint
    tp = receipt["tlog_proof"]
    first = base64.b64encode(bytes.fromhex(path[0])).decode()
    for bad in (
        _replace_line(tp, first + "\n", "!" + first[1:] + "\n"),
        _replace_line(tp, first + "\n", first.rstrip("=") + "\n"),
        _replace_line(
            tp, first + "\n", base64.b64encode(bytes.fromhex(path[0])[:31]).decode() + "\n"
        ),
        tp.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2", 1),
        tp[: tp.index("\n\n") + 2],
    ):
        _invalid(client, ve.id, _tlog_form(receipt, tlog_proof=bad))
    # checkpoint: a signature that is not base64 or too short to hold a key id; a root line
    # that is not base64 (signed by the real log key, so that only the encoding is wrong)
    cp = receipt["checkpoint"]
    text, sig_line = cp.split("\n\n")
    origin, size, root = text.split("\n")[:3]
    sig = sig_line.rstrip("\n").rsplit(" ", 1)[1]
    log_key = _log_signer(app, ve.id)
    for bad in (
        cp.replace(sig, sig[:-4] + "@@@@"),
        cp.replace(sig, base64.b64encode(b"sig").decode()),
        note.sign_note(f"{origin}\n{size}\n{root[:-2]}!=\n", log_key),
        note.sign_note(f"{origin}\n{size}\n{root.rstrip('=')}\n", log_key),
        note.sign_note(f"{origin}\n0{size}\n{root}\n", log_key),
    ):
        assert bad != cp
        _invalid(client, ve.id, _json_form(receipt, checkpoint=bad))
        _invalid(client, ve.id, _tlog_form(receipt, tlog_proof=tp.replace(cp, bad)))
    # the JSON form without its checkpoint (and no tlog_proof)
    body = _json_form(receipt)
    del body["checkpoint"]
    _invalid(client, ve.id, body)


def test_another_elections_receipt_is_refused(app, client, make_election, voted):
    ve, sdk, receipt = voted
    other = voting_election(app, make_election, n_voters=1)
    other_cred, _ = sdk.vote(other.id, next(iter(other.codes.values())), {"q1": ["yes"]})
    close_voting(other)
    other_receipt = receipts_of(sdk, other_cred)[0]
    for body in (other_receipt, _json_form(other_receipt), _tlog_form(other_receipt)):
        _invalid(client, ve.id, body)
    for body in (receipt, _json_form(receipt), _tlog_form(receipt)):
        _invalid(client, other.id, body)
    # each is good at its own election
    assert _check(client, other.id, other_receipt).json()["in_log"] is True
    assert _check(client, ve.id, receipt).json()["in_log"] is True


def _log_signer(app, election_id: str) -> note.Signer:
    """The election's real log key, decrypted with the deployment secret (as a server that
    shows one voter a forked log could sign with it)."""
    with Session(app.state.engine) as s:
        row = s.get(LogKey, election_id)
        assert row is not None
        seed = atrest.decrypt(
            app.state.settings, bytes(row.private_key_enc), f"log-key/{election_id}"
        )
        return note.Signer(row.origin, seed)


def _receipt_for(tree: merkle.MerkleLog, index: int, size: int, signer: note.Signer) -> dict:
    cp = note.Checkpoint(signer.name, size, tree.root(size)).sign(signer)
    proof = tree.inclusion_proof(index, size)
    return {
        "entry_hash": tree.leaf(index).hex(),
        "index": index,
        "checkpoint": cp,
        "inclusion_proof": [h.hex() for h in proof],
        "tlog_proof": note.TlogProof(index, tuple(proof), cp).to_text(),
    }


def test_a_receipt_whose_checkpoint_is_not_the_logs_is_refused(app, client, voted):
    ve, _, receipt = voted
    leaves = _leaves(ve)
    size = note.Checkpoint.from_text(note.parse_note(receipt["checkpoint"])[0]).size
    idx = receipt["index"]
    assert size < len(leaves)  # the log grew after the receipt's checkpoint
    real = merkle.MerkleLog()
    real.append_many(leaves)
    log_key = _log_signer(app, ve.id)
    # Sanity: the same receipt rebuilt with the real key checks, so what follows is refused
    # only for what was changed.
    rebuilt = _receipt_for(real, idx, size, log_key)
    assert rebuilt["checkpoint"] == receipt["checkpoint"]
    assert _check(client, ve.id, rebuilt).json()["consistent"] is True

    # The same checkpoint text and tree, signed by a key with the log's name that is not its key.
    impostor = note.Signer.generate(log_key.name)
    assert impostor.verifier_key != log_key.verifier_key
    forged = _receipt_for(real, idx, size, impostor)
    for body in (forged, _json_form(forged), _tlog_form(forged)):
        _invalid(client, ve.id, body)
    # The real checkpoint with another size or root under its real signature.
    cp = receipt["checkpoint"]
    origin, n, root = cp.split("\n")[:3]
    other_root = base64.b64encode(real.root(size + 1)).decode()
    for bad in (
        cp.replace(f"\n{n}\n", f"\n{int(n) + 1}\n", 1),
        cp.replace(f"\n{root}\n", f"\n{other_root}\n", 1),
    ):
        _invalid(client, ve.id, _json_form(receipt, checkpoint=bad))
        _invalid(
            client, ve.id, _tlog_form(receipt, tlog_proof=receipt["tlog_proof"].replace(cp, bad))
        )
    # A checkpoint of this origin, signed by the log key of another election: not this key.
    other_key = note.Signer.generate("stembus.test/elections/someone-else")
    _invalid(client, ve.id, _receipt_for(real, idx, size, other_key))


def test_a_receipt_signed_by_the_log_key_for_a_forked_tree_is_not_consistent(app, client, voted):
    """A server that signs a checkpoint of a tree the log never had (a split view shown to one
    voter) passes the signature and inclusion checks, and the check says `consistent: false`."""
    ve, _, receipt = voted
    leaves = _leaves(ve)
    idx = receipt["index"]
    log_key = _log_signer(app, ve.id)
    # The voter's ballot at its own index, an earlier entry rewritten.
    fork = merkle.MerkleLog()
    fork.append_many([merkle.leaf_hash(b"rewritten"), *leaves[1:]])
    forked = _receipt_for(fork, idx, idx + 1, log_key)
    assert forked["entry_hash"] == receipt["entry_hash"]
    assert forked["checkpoint"] != receipt["checkpoint"]
    for body in (forked, _json_form(forked), _tlog_form(forked)):
        r = _check(client, ve.id, body)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["signature_valid"] and out["proof_valid"]
        assert out["in_log"] is True  # the log does hold this entry at this index…
        assert out["consistent"] is False  # …but not under this checkpoint
    # A fork that put another entry at the ballot's index: not in the log either.
    fork = merkle.MerkleLog()
    fork.append_many([*leaves[:idx], merkle.leaf_hash(b"another ballot"), *leaves[idx + 1 :]])
    out = _check(client, ve.id, _receipt_for(fork, idx, len(leaves), log_key)).json()
    assert (out["in_log"], out["consistent"]) == (False, False)
    # A fork longer than the log, the receipt's entry beyond its end.
    fork = merkle.MerkleLog()
    fork.append_many([*leaves, merkle.leaf_hash(b"extra 1"), merkle.leaf_hash(b"extra 2")])
    out = _check(client, ve.id, _receipt_for(fork, len(leaves) + 1, len(leaves) + 2, log_key))
    assert out.status_code == 200, out.text
    out = out.json()
    assert (out["in_log"], out["consistent"]) == (False, False)
    assert out["receipt_size"] == len(leaves) + 2 and out["latest_size"] == len(leaves)
