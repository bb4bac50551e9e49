"""The election log's Merkle tree and signed checkpoints (RFC 9162, C2SP tlog-checkpoint).

Every entry of every phase is a leaf. `after_append` runs inside the appending transaction, after
the rows are flushed and while the election's row lock (the atomic `log_size` UPDATE in
api.log.service) serialises appends: it adds the leaves to the tree of perfect subtrees
(crypto.merkle.MerkleLog over `SqlNodeStore`) and signs a checkpoint of the new size with the
election's log key: one checkpoint per append, so for a flush of issuance and ballot entries
(api.log.pool) one after the whole flush, and a receipt's checkpoint is the first that covers its
entry (api.log.receipts).

The log key (Ed25519) is made on the first append (`election_created`); its private half is
stored only encrypted (api.log.atrest). Origin and key name: `<public base URL host>/elections/<id>`
(docs/protocol.md). The deployment settings come with the session (`session.info["settings"]`, set
by api.deps.get_session); code that appends outside a request must put them there too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import bindparam, insert, tuple_
from sqlmodel import Session, col, select

from api.log import atrest
from api.log.models import LogEntry
from api.log.tree_models import LogCheckpoint, LogKey, LogNode
from api.settings import Settings
from crypto import merkle, note

# Decrypted log signers per process: a log key never changes once committed, and decrypting it
# for every append would cost a query and an AES-GCM open. Filled only from committed rows.
_SIGNERS: dict[tuple[str, str], note.Signer] = {}
_SIGNERS_LOCK = threading.Lock()


def origin_for(settings: Settings, election_id: str) -> str:
    return f"{settings.log_origin_prefix}/elections/{election_id}"


def settings_of_session(session: Session) -> Settings:
    settings = session.info.get("settings")
    if not isinstance(settings, Settings):
        raise RuntimeError(
            "appending to the log needs the deployment settings in session.info['settings']"
        )
    return settings


_NODE = LogNode.__table__  # type: ignore[attr-defined]
_CHECKPOINT = LogCheckpoint.__table__  # type: ignore[attr-defined]
# Built once (see api.db on hot-path statements); `keys` expands to the (level, idx) pairs.
_NODES_READ = select(_NODE.c.level, _NODE.c.idx, _NODE.c.hash).where(
    _NODE.c.election_id == bindparam("e"),
    tuple_(_NODE.c.level, _NODE.c.idx).in_(bindparam("keys", expanding=True)),
)
_INSERT_NODES = insert(_NODE)
_INSERT_CHECKPOINTS = insert(_CHECKPOINT)


class SqlNodeStore:
    """crypto.merkle.NodeStore over the `log_node` table of one election, one query per batch.

    Nodes read or written through this store are remembered, so the root after an append is
    computed without another round trip (`prime` fetches the right edge once, up front).
    """

    def __init__(self, session: Session, election_id: str) -> None:
        self.session = session
        self.election_id = election_id
        self.cache: dict[merkle.NodeKey, bytes] = {}

    def prime(self, keys: Iterable[merkle.NodeKey]) -> None:
        self.get_many(keys)

    def get_many(self, keys: Iterable[merkle.NodeKey]) -> Mapping[merkle.NodeKey, bytes]:
        wanted = set(keys)
        missing = [k for k in wanted if k not in self.cache]
        if missing:
            rows = self.session.execute(_NODES_READ, {"e": self.election_id, "keys": missing}).all()
            for level, idx, h in rows:
                self.cache[(level, idx)] = bytes(h)
        return {k: self.cache[k] for k in wanted if k in self.cache}

    def put_many(self, items: Iterable[tuple[merkle.NodeKey, bytes]]) -> None:
        items = list(items)
        if not items:
            return
        self.session.execute(
            _INSERT_NODES,  # Core: no ORM bulk step
            [
                {"election_id": self.election_id, "level": lv, "idx": i, "hash": h}
                for (lv, i), h in items
            ],
        )
        self.cache.update(items)


def compact_range(size: int) -> list[merkle.NodeKey]:
    """The perfect subtrees covering [0, size), left to right (one per set bit of size)."""
    out: list[merkle.NodeKey] = []
    pos = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size & (1 << level):
            out.append((level, pos >> level))
            pos += 1 << level
    return out


# ------------------------------------------------------------------------------ the log key


def _new_log_key(session: Session, settings: Settings, election_id: str) -> note.Signer:
    origin = origin_for(settings, election_id)
    signer = note.Signer.generate(origin)
    session.add(
        LogKey(
            election_id=election_id,
            origin=origin,
            public_key=signer.public_key,
            private_key_enc=atrest.encrypt(
                settings, signer.private_key_bytes(), f"log-key/{election_id}"
            ),
        )
    )
    session.flush()
    return signer


def log_signer(
    session: Session, settings: Settings, election_id: str, *, create: bool = False
) -> note.Signer | None:
    cache_key = (settings.sqlalchemy_url, election_id)
    signer = _SIGNERS.get(cache_key)
    if signer is not None:
        return signer
    row = session.get(LogKey, election_id)
    if row is None:
        return _new_log_key(session, settings, election_id) if create else None
    seed = atrest.decrypt(settings, bytes(row.private_key_enc), f"log-key/{election_id}")
    signer = note.Signer(row.origin, seed)
    with _SIGNERS_LOCK:
        _SIGNERS[cache_key] = signer
    return signer


def log_verifier(session: Session, election_id: str) -> note.Verifier | None:
    row = session.get(LogKey, election_id)
    if row is None:
        return None
    return note.Verifier(row.origin, bytes(row.public_key))


# ------------------------------------------------------------------------------ appending


def after_append(
    session: Session, settings: Settings, election_id: str, rows: Sequence[LogEntry]
) -> LogCheckpoint:
    """Add the appended rows as leaves and sign a checkpoint of the new size."""
    first = rows[0].idx
    end = first + len(rows)
    store = SqlNodeStore(session, election_id)
    # One SELECT for the whole right edge: append_many merges with part of it, and the new root
    # folds the rest, so both are answered from the cache.
    store.prime(compact_range(first))
    tree = merkle.MerkleLog(store, size=first)
    tree.append_many([bytes(r.leaf_hash) for r in rows])
    signer = log_signer(session, settings, election_id, create=first == 0)
    if signer is None:
        raise RuntimeError(f"election {election_id} has entries but no log key")
    # Every perfect subtree of [0, end) is on the old right edge (primed) or was written by this
    # append (cached): no query for the root.
    root = tree.root(end)
    text = note.sign_checkpoint(note.Checkpoint(signer.name, end, root), signer)
    cp = LogCheckpoint(election_id=election_id, size=end, root=root, note=text)
    session.execute(
        _INSERT_CHECKPOINTS,
        [{"election_id": election_id, "size": cp.size, "root": cp.root, "note": cp.note}],
    )
    return cp


# ------------------------------------------------------------------------------ reading


def tree_of(session: Session, election_id: str, size: int) -> merkle.MerkleLog:
    return merkle.MerkleLog(SqlNodeStore(session, election_id), size=size)


def latest_checkpoint(session: Session, election_id: str) -> LogCheckpoint | None:
    return session.exec(
        select(LogCheckpoint)
        .where(LogCheckpoint.election_id == election_id)
        .order_by(col(LogCheckpoint.size).desc())
        .limit(1)
    ).first()


def first_checkpoint_covering(
    session: Session, election_id: str, index: int
) -> LogCheckpoint | None:
    """The smallest checkpoint whose tree holds entry `index` (size > index)."""
    return session.exec(
        select(LogCheckpoint)
        .where(LogCheckpoint.election_id == election_id, col(LogCheckpoint.size) > index)
        .order_by(col(LogCheckpoint.size))
        .limit(1)
    ).first()


def checkpoint_at(session: Session, election_id: str, size: int) -> LogCheckpoint | None:
    return session.get(LogCheckpoint, (election_id, size))


def index_of(session: Session, election_id: str, leaf_hash: bytes) -> int | None:
    idx = session.exec(
        select(col(LogEntry.idx))
        .where(LogEntry.election_id == election_id, LogEntry.leaf_hash == leaf_hash)
        .order_by(col(LogEntry.idx))
        .limit(1)
    ).first()
    return None if idx is None else int(idx)


def leaf_at(session: Session, election_id: str, index: int) -> bytes | None:
    h = session.exec(
        select(col(LogEntry.leaf_hash)).where(
            LogEntry.election_id == election_id, LogEntry.idx == index
        )
    ).first()
    return None if h is None else bytes(h)


def inclusion_proof(
    session: Session, election_id: str, index: int, size: int
) -> tuple[bytes, list[bytes]]:
    """(root, audit path) of leaf `index` in the tree of `size` leaves, one query."""
    return tree_of(session, election_id, size).root_and_inclusion_proof(index, size)


def consistency_proof(
    session: Session, election_id: str, old_size: int, new_size: int
) -> list[bytes]:
    return tree_of(session, election_id, new_size).consistency_proof(old_size, new_size)
