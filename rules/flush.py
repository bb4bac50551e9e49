"""Publication in shuffled batches (docs/protocol.md v1.1, "Publication in shuffled batches").

Accepted `issuance` and `ballot` entries wait in their kiesgroep's pool. A flush appends all of
the group's pooled issuances, then all but B of its pooled ballots (B = the election setting
`batch_size`; the B kept back chosen uniformly at random), each of the two runs sorted by leaf
hash, then one signed checkpoint. A group is flushed when its pool holds at least 2·B ballots,
and every pool whole when voting closes. So every run of ballots holds at least B ballots of one
kiesgroep (or all of that group's ballots where it has fewer), and within a run the order is a
function of content alone: the log's order says nothing about who cast what when.

This module is the rule itself, pure: :func:`plan_flush` is what the server (api.log.pool) and
the synthetic election generator run; :class:`FlushChecker` is what the verifier
(rules.record, check 2) runs over a record.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["FlushChecker", "FlushPlan", "plan_flush", "due"]


class _Pooled(Protocol):
    @property
    def leaf_hash(self) -> bytes: ...


P = TypeVar("P", bound=_Pooled)


@dataclass(frozen=True)
class FlushPlan(Generic[P]):
    """What one flush of one kiesgroep appends (in this order) and keeps back."""

    issuances: list[P]
    ballots: list[P]
    kept: list[P]


def due(pooled_ballots: int, batch_size: int) -> bool:
    """A group is flushed while voting once its pool holds at least 2·B ballots."""
    return pooled_ballots >= 2 * batch_size


def plan_flush(
    issuances: Sequence[P],
    ballots: Sequence[P],
    batch_size: int,
    *,
    whole: bool,
    rng: random.Random | None = None,
) -> FlushPlan[P]:
    """The flush of one group's pool: every issuance, and every ballot but B kept back at random
    (none kept back when ``whole``: the flush at close). Each run sorted by leaf hash.

    The choice of the kept-back ballots must be unpredictable to whoever watches arrivals (else
    they would know which ballots wait for the next flush), hence the system's CSPRNG by default.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    pool = list(ballots)
    if whole:
        kept: list[P] = []
        out = pool
    else:
        if not due(len(pool), batch_size):
            raise ValueError(f"a flush needs 2·{batch_size} pooled ballots, not {len(pool)}")
        r = rng or secrets.SystemRandom()
        kept_at = set(r.sample(range(len(pool)), batch_size))
        kept = [b for i, b in enumerate(pool) if i in kept_at]
        out = [b for i, b in enumerate(pool) if i not in kept_at]

    def by_hash(items: Sequence[P]) -> list[P]:
        return sorted(items, key=lambda x: bytes(x.leaf_hash))

    return FlushPlan(by_hash(issuances), by_hash(out), by_hash(kept))


@dataclass
class _Run:
    group: str
    issuances: int = 0
    ballots: int = 0
    first: int = 0  # index of the run's first entry
    last_leaf: bytes | None = None
    last_type: str | None = None


@dataclass
class FlushChecker:
    """Check 2's flush rules over the entries of a record, in order (docs/protocol.md "What a
    verifier checks" 2): issuance and ballot entries come only in flushes, a flush being a run
    of such entries that a checkpoint of exactly its end closes; within a flush, one kiesgroep,
    its issuances before its ballots, each run strictly ascending by leaf hash; and every ballot
    run of a group at least `batch_size` long unless the group has fewer ballots in all.

    Feed entries with :meth:`entry`, checkpoints with :meth:`checkpoint`; :meth:`finish` returns
    the failures that need the whole record (run lengths). Each failure is (index, message)."""

    batch_size: int = 20
    current: _Run | None = None
    runs: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # group -> (first, n)
    failures: list[tuple[int, str]] = field(default_factory=list)

    def entry(self, index: int, type_: Any, group: str, leaf: bytes) -> bool:
        """One entry of the log; True if it broke no flush rule."""
        if type_ not in ("issuance", "ballot"):
            if self.current is not None:
                self._close(index, unsigned=True)
            return True
        run = self.current
        if run is None:
            run = self.current = _Run(group=group, first=index)
        before = len(self.failures)
        if group != run.group:
            self.failures.append(
                (
                    index,
                    f"a {type_} of group {group} in a flush of group {run.group} (the group of "
                    f"its first entry, entry {run.first})",
                )
            )
        elif type_ == "issuance" and run.last_type == "ballot":
            self.failures.append((index, "an issuance after the ballots of its flush"))
        elif run.last_type == type_ and run.last_leaf is not None and leaf <= run.last_leaf:
            self.failures.append(
                (index, f"the {type_} run of this flush is not sorted by leaf hash here")
            )
        if type_ == "issuance":
            run.issuances += 1
        else:
            run.ballots += 1
        run.last_leaf, run.last_type = leaf, type_
        return len(self.failures) == before

    def checkpoint(self, size: int) -> None:
        """A signed checkpoint of tree size `size`, placed after entry size - 1."""
        if self.current is not None:
            self._close(size, unsigned=False)

    def _close(self, index: int, *, unsigned: bool) -> None:
        run = self.current
        assert run is not None
        self.current = None
        if unsigned:
            self.failures.append(
                (index, "a flush of issuance and ballot entries not closed by its own checkpoint")
            )
        if run.ballots:
            self.runs.setdefault(run.group, []).append((run.first + run.issuances, run.ballots))

    def finish(self) -> list[tuple[int, str]]:
        """The run-length rule, once every group's total is known."""
        out: list[tuple[int, str]] = []
        if self.current is not None:
            out.append((self.current.first, "a flush at the end of the record without checkpoint"))
            self._close(self.current.first, unsigned=False)
        for group, runs in self.runs.items():
            total = sum(n for _, n in runs)
            need = min(self.batch_size, total)
            for first, n in runs:
                if n < need:
                    out.append(
                        (
                            first,
                            f"a run of {n} ballots of group {group}: runs must hold at least "
                            f"batch_size = {self.batch_size} (the group has {total} ballots)",
                        )
                    )
        return out
