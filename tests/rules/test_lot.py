import hashlib
from collections import Counter

import pytest

from rules.lot import Lot

ROOT = bytes(range(32))


def test_seed_layout() -> None:
    lot = Lot(ROOT)
    assert lot.seed == hashlib.sha256(b"stembus/lot/v1" + ROOT).digest()


def test_first_word_is_counter_mode_block_zero() -> None:
    lot = Lot(ROOT)
    block0 = hashlib.sha256(lot.seed + (0).to_bytes(8, "big")).digest()
    x = int.from_bytes(block0[:8], "big")
    assert x < 2**64 - (2**64 % 7)  # no rejection for this seed
    assert lot.below(7) == x % 7


def test_deterministic_and_recorded() -> None:
    a, b = Lot(ROOT), Lot(ROOT)
    opts = ["l1", "l2", "l3", "l4"]
    assert a.choose(opts, 2, "seat 3") == b.choose(opts, 2, "seat 3")
    assert a.shuffle(opts) == b.shuffle(opts)
    assert [d.to_dict() for d in a.draws] == [d.to_dict() for d in b.draws]
    d = a.draws[0].to_dict()
    assert d["purpose"] == "seat 3" and d["options"] == opts and len(d["chosen"]) == 2
    assert a.to_dict()["seed"] == a.seed.hex()
    assert sorted(a.draws[1].chosen) == sorted(opts)


def test_other_root_other_draws() -> None:
    opts = [str(i) for i in range(20)]
    assert Lot(ROOT).shuffle(opts) != Lot(bytes(32)).shuffle(opts)


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        Lot(b"short")
    lot = Lot(ROOT)
    with pytest.raises(ValueError):
        lot.choose(["a", "a"], 1)
    with pytest.raises(ValueError):
        lot.choose(["a"], 2)


def test_roughly_uniform() -> None:
    lot = Lot(ROOT)
    counts = Counter(lot.choose(["a", "b", "c"], 1)[0] for _ in range(3000))
    assert all(900 < counts[k] < 1100 for k in "abc")
