"""Tests for crypto.merkle: RFC 9162 vectors (transparency-dev/merkle testdata) and properties."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto.merkle import (
    EMPTY_ROOT,
    MemoryNodeStore,
    MerkleLog,
    ProofError,
    RootBuilder,
    compute_root,
    consistency_proof_ranges,
    inclusion_path_ranges,
    leaf_hash,
    naive_root,
    node_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "merkle"
INCLUSION_FILES = sorted((DATA / "inclusion").rglob("*.json"))
CONSISTENCY_FILES = sorted((DATA / "consistency").rglob("*.json"))

PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _b64(s: str | None) -> bytes:
    return base64.b64decode(s or "")


def _proof(p: list[str] | None) -> list[bytes]:
    return [_b64(x) for x in (p or [])]


def _id(path: Path) -> str:
    return str(path.relative_to(DATA))


# --------------------------------------------------------------------------------------------
# Standard vectors: one pytest case per file
# --------------------------------------------------------------------------------------------


def test_vector_files_present() -> None:
    # Guards against the parametrised tests silently collecting nothing.
    assert len(INCLUSION_FILES) > 50
    assert len(CONSISTENCY_FILES) > 50
    assert any("additional" in str(p) for p in INCLUSION_FILES)
    assert any("additional" in str(p) for p in CONSISTENCY_FILES)


@pytest.mark.parametrize("path", INCLUSION_FILES, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    args = (_b64(v["leafHash"]), v["leafIdx"], v["treeSize"], _proof(v["proof"]), _b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", CONSISTENCY_FILES, ids=_id)
def test_consistency_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    args = (v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]), _proof(v["proof"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def _rfc_leaves() -> list[bytes]:
    # The eight leaves of the RFC 6962 / transparency-dev reference tree.
    raw = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]
    raw.append("606162636465666768696a6b6c6d6e6f")
    return [leaf_hash(bytes.fromhex(x)) for x in raw]


def test_happy_path_vectors_are_reproduced_by_merkle_log() -> None:
    # The happy-path files use the reference 8-leaf tree; our generator must
    # produce exactly the same proofs, not just verifiable ones.
    log = MerkleLog()
    log.append_many(_rfc_leaves())
    for path in INCLUSION_FILES:
        v = json.loads(path.read_text())
        if path.name == "happy-path.json":
            assert log.root(v["treeSize"]) == _b64(v["root"])
            assert log.inclusion_proof(v["leafIdx"], v["treeSize"]) == _proof(v["proof"])
    for path in CONSISTENCY_FILES:
        v = json.loads(path.read_text())
        if path.name == "happy-path.json":
            assert log.root(v["size2"]) == _b64(v["root2"])
            assert log.consistency_proof(v["size1"], v["size2"]) == _proof(v["proof"])


def test_known_roots() -> None:
    assert EMPTY_ROOT == hashlib.sha256(b"").digest()
    leaves = _rfc_leaves()
    # RFC 6962 reference root of the 8-leaf tree (transparency-dev testdata).
    want = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert compute_root(leaves).hex() == want
    assert naive_root(leaves).hex() == want
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


# --------------------------------------------------------------------------------------------
# Unit behaviour
# --------------------------------------------------------------------------------------------


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_empty_log() -> None:
    log = MerkleLog()
    assert log.root() == EMPTY_ROOT
    assert compute_root([]) == EMPTY_ROOT
    with pytest.raises(ValueError):
        log.inclusion_proof(0, 0)


def test_one_round_trip_per_read_and_append() -> None:
    store = MemoryNodeStore()
    log = MerkleLog(store)
    log.append_many(_leaves(1000))
    for op in (
        lambda: log.root(777),
        lambda: log.inclusion_proof(500, 999),
        lambda: log.consistency_proof(123, 1000),
        lambda: log.root_and_inclusion_proof(5, 600),
    ):
        before = store.get_calls
        op()
        assert store.get_calls - before == 1
    before_get, before_put = store.get_calls, store.put_calls
    log.append(leaf_hash(b"x"))
    assert store.get_calls - before_get <= 1
    assert store.put_calls - before_put == 1


def test_append_reads_only_merged_nodes_and_writes_perfect_subtrees() -> None:
    class Spy(MemoryNodeStore):
        def __init__(self) -> None:
            super().__init__()
            self.last_get: list = []
            self.last_put: list = []

        def get_many(self, keys):  # type: ignore[no-untyped-def]
            self.last_get = list(keys)
            return super().get_many(self.last_get)

        def put_many(self, items):  # type: ignore[no-untyped-def]
            self.last_put = list(items)
            super().put_many(self.last_put)

    store = Spy()
    log = MerkleLog(store)
    log.append_many(_leaves(7))  # size 7 = 4 + 2 + 1
    log.append(leaf_hash(b"eighth"))  # completes (1,3), (2,1), (3,0)
    assert sorted(store.last_get) == [(0, 6), (1, 2), (2, 0)]
    assert [k for k, _ in store.last_put] == [(0, 7), (1, 3), (2, 1), (3, 0)]
    store.last_get = []
    log.append(leaf_hash(b"ninth"))  # index 8: nothing to merge, nothing to read
    assert store.last_get == []
    assert [k for k, _ in store.last_put] == [(0, 8)]
    # Number of stored nodes for n leaves is 2n - popcount(n).
    assert len(store) == 2 * 9 - bin(9).count("1")


def test_resume_from_existing_store() -> None:
    leaves = _leaves(300)
    store = MemoryNodeStore()
    MerkleLog(store).append_many(leaves[:123])
    log = MerkleLog(store, size=123)  # e.g. a new process after a restart
    for h in leaves[123:]:
        log.append(h)
    assert log.root() == naive_root(leaves)


def test_missing_node_is_reported() -> None:
    store = MemoryNodeStore()
    log = MerkleLog(store)
    log.append_many(_leaves(5))
    del store.nodes[(2, 0)]
    with pytest.raises(LookupError):
        log.root()


def test_bad_arguments() -> None:
    log = MerkleLog()
    log.append_many(_leaves(4))
    with pytest.raises(ValueError):
        log.append(b"short")
    with pytest.raises(ValueError):
        log.root(5)
    with pytest.raises(ValueError):
        log.inclusion_proof(4, 4)
    with pytest.raises(ValueError):
        log.consistency_proof(3, 2)
    with pytest.raises(ValueError):
        log.consistency_proof(0, 2)
    assert log.consistency_proof(4, 4) == []


def test_proof_lengths_are_logarithmic() -> None:
    assert len(inclusion_path_ranges(0, 100_000)) == 17
    assert len(consistency_proof_ranges(99_999, 100_000)) <= 2 * 17


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

_LOG_CACHE: dict[int, tuple[MerkleLog, list[bytes]]] = {}


def _log(n: int) -> tuple[MerkleLog, list[bytes]]:
    if n not in _LOG_CACHE:
        leaves = _leaves(n)
        log = MerkleLog()
        # Mix single appends and batches so both paths are exercised.
        i = 0
        step = 1
        while i < n:
            log.append_many(leaves[i : i + step])
            i += step
            step = step % 7 + 1
        _LOG_CACHE[n] = (log, leaves)
    return _LOG_CACHE[n]


sizes = st.integers(min_value=1, max_value=300)


@PROPS
@given(sizes, st.data())
def test_inclusion_proofs_verify(n: int, data: st.DataObject) -> None:
    log, leaves = _log(n)
    size = data.draw(st.integers(1, n))
    index = data.draw(st.integers(0, size - 1))
    proof = log.inclusion_proof(index, size)
    root = log.root(size)
    verify_inclusion(leaves[index], index, size, proof, root)
    assert root_from_inclusion_proof(leaves[index], index, size, proof) == root


@PROPS
@given(sizes, st.data())
def test_consistency_proofs_verify(n: int, data: st.DataObject) -> None:
    log, _ = _log(n)
    new = data.draw(st.integers(1, n))
    old = data.draw(st.integers(1, new))
    proof = log.consistency_proof(old, new)
    verify_consistency(old, new, log.root(old), log.root(new), proof)


@PROPS
@given(st.integers(min_value=0, max_value=300))
def test_store_roots_equal_naive_and_builder(n: int) -> None:
    leaves = _leaves(n)
    log = MerkleLog()
    log.append_many(leaves)
    builder = RootBuilder()
    assert builder.root() == EMPTY_ROOT
    for size in range(1, n + 1):
        builder.add(leaves[size - 1])
        assert builder.size == size
        assert builder.root() == log.root(size)
    assert log.root() == naive_root(leaves) == compute_root(leaves)


def _flip(b: bytes, pos: int, bit: int) -> bytes:
    ba = bytearray(b)
    ba[pos] ^= 1 << bit
    return bytes(ba)


@PROPS
@given(st.integers(2, 200), st.data())
def test_flipped_bytes_break_inclusion(n: int, data: st.DataObject) -> None:
    log, leaves = _log(n)
    size = data.draw(st.integers(2, n))
    index = data.draw(st.integers(0, size - 1))
    proof = log.inclusion_proof(index, size)
    root = log.root(size)
    leaf = leaves[index]
    target = data.draw(st.sampled_from(["leaf", "root", "proof"]))
    pos = data.draw(st.integers(0, 31))
    bit = data.draw(st.integers(0, 7))
    if target == "leaf":
        leaf = _flip(leaf, pos, bit)
    elif target == "root":
        root = _flip(root, pos, bit)
    else:
        i = data.draw(st.integers(0, len(proof) - 1))
        proof[i] = _flip(proof[i], pos, bit)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, root)


@PROPS
@given(st.integers(2, 200), st.data())
def test_flipped_bytes_break_consistency(n: int, data: st.DataObject) -> None:
    log, _ = _log(n)
    new = data.draw(st.integers(2, n))
    old = data.draw(st.integers(1, new - 1))
    proof = log.consistency_proof(old, new)
    r1, r2 = log.root(old), log.root(new)
    target = data.draw(st.sampled_from(["old", "new", "proof"]))
    pos = data.draw(st.integers(0, 31))
    bit = data.draw(st.integers(0, 7))
    if target == "old":
        r1 = _flip(r1, pos, bit)
    elif target == "new":
        r2 = _flip(r2, pos, bit)
    else:
        i = data.draw(st.integers(0, len(proof) - 1))
        proof[i] = _flip(proof[i], pos, bit)
    with pytest.raises(ProofError):
        verify_consistency(old, new, r1, r2, proof)


@PROPS
@given(st.integers(2, 200), st.data())
def test_wrong_index_size_or_length_fails(n: int, data: st.DataObject) -> None:
    log, leaves = _log(n)
    size = data.draw(st.integers(2, n))
    index = data.draw(st.integers(0, size - 1))
    proof = log.inclusion_proof(index, size)
    root = log.root(size)
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
    with pytest.raises(ProofError):
        verify_inclusion(leaves[index], other, size, proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[index], index, size, [*proof, proof[0]], root)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[index], index, size, proof[:-1], root)
