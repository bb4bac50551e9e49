"""The independent verifier (rules.record): an honest record passes every check of docs/protocol.md
"What a verifier checks"; each kind of tampering fails with the check and entry it concerns —
both an outsider editing the file (no log key) and a dishonest server that signs its lies."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from benchmarks.synthetic_election import Synthetic, build, receipt_from_record
from crypto import note
from rules.record import Receipt, Report, leaf_of, verify_record

VOTERS = {"productie": 40, "kantoor": 25}


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Synthetic:
    return build(tmp_path_factory.mktemp("rec") / "honest.jsonl", voters=VOTERS, seed=3)


def _lines(s: Synthetic) -> list[bytes]:
    return s.path.read_bytes().splitlines(keepends=True)


def _write(tmp_path: Path, lines: list[bytes]) -> Path:
    p = tmp_path / "tampered.jsonl"
    p.write_bytes(b"".join(lines))
    return p


def _entry_pos(lines: list[bytes], type_: str, nth: int = 0) -> tuple[int, int]:
    """(line number in the file, entry index) of the nth entry of a type."""
    seen = 0
    for pos, raw in enumerate(lines):
        obj = json.loads(raw)
        if "entry" in obj and obj["entry"]["type"] == type_:
            if seen == nth:
                return pos, obj["index"]
            seen += 1
    raise AssertionError(type_)


def _covering(lines: list[bytes], pos: int) -> tuple[int, int]:
    """(line number, last entry index) of the first checkpoint after line ``pos``: the one
    signed after the entry's flush, whose root a changed entry breaks."""
    for at in range(pos + 1, len(lines)):
        obj = json.loads(lines[at])
        if "checkpoint" in obj:
            text = note.parse_note(obj["checkpoint"])[0]
            return at, note.Checkpoint.from_text(text).size - 1
    raise AssertionError("no checkpoint after that line")


def _fails(report: Report, check: str, index: int | None = None) -> str:
    assert not report.ok
    f = report.first(check)
    assert f is not None, [str(x) for x in report.failures]
    if index is not None:
        assert f.index == index, str(f)
    return f.message


def test_honest_record_passes_every_check(honest: Synthetic) -> None:
    calls: list[tuple[str, int, int | None]] = []
    receipts = [
        Receipt.parse(receipt_from_record(honest.path, r["index"])) for r in honest.receipts
    ]
    report = verify_record(
        honest.path, log_key=honest.log_key, receipts=receipts, progress=lambda *a: calls.append(a)
    )
    assert report.ok, [str(f) for f in report.failures]
    assert report.entries == honest.size and report.checkpoints == honest.checkpoints
    for check in (
        "flush",
        "checkpoint-signature",
        "merkle-root",
        "checkpoint-consistency",
        "entry-order",
        "ballot-issuer-signature",
        "ballot-signature",
        "ballot-seq",
        "ballot-ciphertext-length",
        "issuance-bound",
        "decryption-key",
        "result",
        "receipt",
    ):
        assert report.passed[check] >= 1, check
    assert report.passed["ballot-signature"] == report.ballots
    assert report.receipts_checked == 3 and report.result_checked
    assert calls and calls[-1][1] == calls[-1][2]


@pytest.mark.parametrize("type_", ["ballot", "lists_published", "issuance", "keys"])
def test_a_changed_byte_in_an_entry_is_found(honest: Synthetic, tmp_path: Path, type_: str) -> None:
    lines = _lines(honest)
    pos, index = _entry_pos(lines, type_)
    raw = bytearray(lines[pos])
    # change one character inside a string value, keeping JSON and base64 well-formed
    at = raw.index(b'"group":"') + len(b'"group":"') if type_ != "keys" else raw.index(b'"n":"') + 6
    raw[at] = ord("X") if raw[at] != ord("X") else ord("Y")
    lines[pos] = bytes(raw)
    report = verify_record(_write(tmp_path, lines))
    # The root breaks at the first checkpoint that covers the entry: for issuance and ballot
    # entries the one after their flush (docs/protocol.md "Publication in shuffled batches").
    _, covered = _covering(lines, pos)
    msg = _fails(report, "merkle-root", covered)
    assert f"entries 0..{covered}" in msg
    # ... and the changed entry itself is named by a check of its own content.
    if type_ in ("ballot", "issuance"):
        # group "Xroductie": no issuer key of that group, and not the group of its flush
        if type_ == "ballot":
            _fails(report, "ballot-issuer-signature", index)
        f = report.first("flush")
        assert f is not None and (f.index == index or f"entry {index}" in f.message), str(f)


def test_any_byte_of_any_entry_changed_fails(honest: Synthetic, tmp_path: Path) -> None:
    lines = _lines(honest)
    rng = random.Random(11)
    entry_lines = [i for i, raw in enumerate(lines) if raw.startswith(b'{"entry":')]
    for trial in range(12):
        pos = rng.choice(entry_lines)
        raw = bytearray(lines[pos])
        at = rng.randrange(len(b'{"entry":'), len(raw) - 1)
        raw[at] = (raw[at] + rng.randrange(1, 255)) % 256 or 1
        tampered = list(lines)
        tampered[pos] = bytes(raw)
        report = verify_record(_write(tmp_path, tampered))
        assert not report.ok, (trial, pos, at)


def test_a_dropped_entry_is_named(honest: Synthetic, tmp_path: Path) -> None:
    lines = _lines(honest)
    pos, index = _entry_pos(lines, "ballot", 3)
    del lines[pos]
    msg = _fails(verify_record(_write(tmp_path, lines)), "entry-order", index)
    assert f"entry {index} belongs" in msg


def test_the_last_entry_dropped_with_its_checkpoints_is_found(
    honest: Synthetic, tmp_path: Path
) -> None:
    lines = _lines(honest)
    # drop the final phase change and its checkpoint, keep the trailer
    lines = lines[:-3] + lines[-1:]
    report = verify_record(_write(tmp_path, lines))
    assert not report.ok
    assert report.first("format") is not None  # the trailer no longer matches


def test_reordered_entries_are_named(honest: Synthetic, tmp_path: Path) -> None:
    lines = _lines(honest)
    a, ia = _entry_pos(lines, "ballot", 1)
    b, _ = _entry_pos(lines, "ballot", 2)
    lines[a], lines[b] = lines[b], lines[a]
    _fails(verify_record(_write(tmp_path, lines)), "entry-order", ia)


def test_reordered_and_renumbered_entries_break_the_root(honest: Synthetic, tmp_path: Path) -> None:
    lines = _lines(honest)
    a, ia = _entry_pos(lines, "ballot", 1)
    b, ib = _entry_pos(lines, "ballot", 2)
    ea, eb = json.loads(lines[a])["entry"], json.loads(lines[b])["entry"]
    from crypto.canonical import canonical_json
    from rules.record import entry_line

    lines[a] = entry_line(ia, canonical_json(eb))
    lines[b] = entry_line(ib, canonical_json(ea))
    report = verify_record(_write(tmp_path, lines))
    _fails(report, "merkle-root", _covering(lines, b)[1])
    # two ballots of one run swapped: the run is no longer in leaf-hash order
    assert report.first("flush") is not None and ia <= report.first("flush").index <= ib


def test_a_forged_checkpoint_fails_its_signature(honest: Synthetic, tmp_path: Path) -> None:
    lines = _lines(honest)
    pos, _ = _entry_pos(lines, "ballot", 0)
    cp_pos, index = _covering(lines, pos)
    cp_text = json.loads(lines[cp_pos])["checkpoint"]
    cp = note.Checkpoint.from_text(note.parse_note(cp_text)[0])
    forger = note.Signer.generate(honest.origin)  # same name, another key
    forged = note.sign_checkpoint(note.Checkpoint(cp.origin, cp.size, b"\x07" * 32), forger)
    from rules.record import checkpoint_line

    lines[cp_pos] = checkpoint_line(forged)
    msg = _fails(verify_record(_write(tmp_path, lines)), "checkpoint-signature", index)
    assert "checkpoint" in msg


def test_a_changed_result_in_the_file_breaks_the_root(honest: Synthetic, tmp_path: Path) -> None:
    lines = _lines(honest)
    pos, index = _entry_pos(lines, "result")
    lines[pos] = lines[pos].replace(b'"seats":7', b'"seats":8', 1)
    report = verify_record(_write(tmp_path, lines))
    _fails(report, "merkle-root", index)
    msg = _fails(report, "result", index)
    assert "differs at result.groups[0]." in msg and "published 8, recomputed 7" in msg


def test_a_signed_wrong_result_fails_the_recount(tmp_path: Path) -> None:
    s = build(tmp_path / "liar.jsonl", voters=VOTERS, seed=3, malicious="wrong_result")
    report = verify_record(s.path, log_key=s.log_key)
    assert set(report.failure_counts) == {"result"}  # the signatures and roots are all fine
    log_index = s.size - 2  # result, then phase_changed to tallied
    msg = _fails(report, "result", log_index)
    assert "result.groups[0].lists[0].votes" in msg


def test_a_ballot_without_issuance_fails_the_bound(tmp_path: Path) -> None:
    s = build(
        tmp_path / "stuffed.jsonl", voters=VOTERS, seed=3, malicious="ballot_without_issuance"
    )
    report = verify_record(s.path, log_key=s.log_key)
    assert set(report.failure_counts) == {"issuance-bound"}
    # The bound is exceeded at the last ballot of a credential not seen before: which one in its
    # flush's run is the stuffed one, leaf-hash order does not say, and the bound need not know.
    seen: set[str] = set()
    last_new = -1
    for raw in _lines(s):
        obj = json.loads(raw)
        e = obj.get("entry")
        if e and e["type"] == "ballot" and e["credential"] not in seen:
            seen.add(e["credential"])
            last_new = obj["index"]
    msg = _fails(report, "issuance-bound", last_new)
    assert msg.startswith("ballot without issuance")


def test_a_pinned_other_log_key_fails(honest: Synthetic) -> None:
    other = note.Signer.generate(honest.origin).verifier_key
    report = verify_record(honest.path, log_key=other)
    _fails(report, "checkpoint-signature")


def test_a_truncated_record_fails(honest: Synthetic, tmp_path: Path) -> None:
    lines = _lines(honest)
    report = verify_record(_write(tmp_path, lines[: len(lines) // 2]))
    assert "truncated" in _fails(report, "format")


def test_receipts_are_checked_against_the_record(honest: Synthetic, tmp_path: Path) -> None:
    idx = honest.receipts[0]["index"]
    good = receipt_from_record(honest.path, idx)
    # a receipt whose ballot the server later replaced: another entry hash, same index
    replaced = dict(good, entry_hash="00" * 32)
    report = verify_record(honest.path, receipts=[Receipt.parse(replaced)])
    assert "receipt 1" in _fails(report, "receipt", idx)
    # a receipt of a ballot that was dropped from the log: the record no longer matches it
    lines = _lines(honest)
    pos = next(
        i
        for i, raw in enumerate(lines)
        if raw.startswith(b'{"entry":') and json.loads(raw)["index"] == idx
    )
    del lines[pos]
    report = verify_record(_write(tmp_path, lines), receipts=[Receipt.parse(good)])
    assert not report.ok


def test_malformed_receipts_are_refused_with_a_clear_error():
    import pytest

    from rules.record import Receipt

    with pytest.raises(ValueError, match="entry hash"):
        Receipt.parse({"index": 0, "checkpoint": "x", "inclusion_proof": []})
    with pytest.raises(ValueError, match="list of hashes"):
        Receipt.parse(
            {"index": 0, "entry_hash": "00" * 32, "checkpoint": "x", "inclusion_proof": "abc"}
        )


@pytest.mark.parametrize(
    ("malicious", "says", "also"),
    [
        ("short_run", "a run of 2 ballots of group productie: runs must hold at least", set()),
        ("unsorted_run", "the ballot run of this flush is not sorted by leaf hash", set()),
        # ballots before their own issuances: also more credentials than issuances so far
        ("issuance_late", "an issuance after the ballots of its flush", {"issuance-bound"}),
    ],
)
def test_a_flush_that_breaks_the_rules_is_named(
    tmp_path: Path, malicious: str, says: str, also: set[str]
) -> None:
    """A dishonest server that holds the log key signs a flush that breaks docs/protocol.md's
    publication rules: check 2's flush rule fails, at that flush."""
    s = build(tmp_path / "f.jsonl", voters=VOTERS, seed=3, malicious=malicious, batch_size=5)
    (start,) = s.tampered
    report = verify_record(s.path, log_key=s.log_key)
    assert set(report.failure_counts) == {"flush"} | also, [str(f) for f in report.failures]
    f = report.first("flush")
    assert f is not None and says in f.message, str(f)
    assert f.index is not None and f.index >= start
    assert report.result_checked  # everything else still verifies


def test_a_promise_whose_entry_is_missing_is_a_broken_promise(
    honest: Synthetic, tmp_path: Path
) -> None:
    lines = _lines(honest)
    pos, _ = _entry_pos(lines, "ballot", 0)
    entry = json.loads(lines[pos])["entry"]
    leaf = leaf_of(entry)
    kept = note.sign_promise(note.BallotPromise(honest.origin, leaf), honest.signer)
    # a promise the service signed for a ballot that never reached the log
    broken = note.sign_promise(note.BallotPromise(honest.origin, b"\x5a" * 32), honest.signer)
    # and one by another key of the same name: not the log's promise at all
    forger = note.Signer.generate(honest.origin)
    forged = note.sign_promise(note.BallotPromise(honest.origin, leaf), forger)
    report = verify_record(honest.path, log_key=honest.log_key, promises=[kept])
    assert report.ok and report.passed["promise"] == 1
    report = verify_record(honest.path, log_key=honest.log_key, promises=[kept, broken, forged])
    assert set(report.failure_counts) == {"promise"} and report.failure_counts["promise"] == 2
    messages = " | ".join(f.message for f in report.failures)
    assert "promise 2: its entry 5a5a5a5a" in messages and "broke its promise" in messages
    assert "promise 3:" in messages
    # a checkpoint is not a promise
    cp = json.loads(lines[_covering(lines, pos)[0]])["checkpoint"]
    report = verify_record(honest.path, log_key=honest.log_key, promises=[cp])
    assert report.failure_counts["promise"] == 1


def test_the_operators_purge_after_the_tally_passes(tmp_path: Path) -> None:
    s = build(tmp_path / "purged.jsonl", voters=VOTERS, seed=3, malicious="purged")
    report = verify_record(s.path, log_key=s.log_key)
    assert report.ok, [str(f) for f in report.failures]
    assert s.tampered == [s.size - 1] and report.passed["entry-order"] == s.size


@pytest.mark.parametrize(
    ("malicious", "words"),
    [
        ("purge_while_voting", "personal_data_purged while the election is voting"),
        ("purged_twice", "a second personal_data_purged entry"),
    ],
)
def test_a_purge_out_of_place_is_named(tmp_path: Path, malicious: str, words: str) -> None:
    s = build(tmp_path / f"{malicious}.jsonl", voters=VOTERS, seed=3, malicious=malicious)
    report = verify_record(s.path, log_key=s.log_key)
    assert set(report.failure_counts) == {"entry-order"}
    assert words in _fails(report, "entry-order", s.tampered[-1])


def test_the_booth_entry_is_reported(honest: Synthetic) -> None:
    report = verify_record(honest.path, log_key=honest.log_key)
    assert report.ok
    assert report.booth is not None and "/assets/booth.js" in report.booth
    assert report.to_dict()["booth"] == report.booth


@pytest.mark.parametrize(
    ("malicious", "words"),
    [
        ("no_booth", "voting opened without the booth_published entry"),
        ("booth_twice", "a second booth_published entry"),
        ("booth_while_voting", "booth_published while the election is voting"),
        ("booth_malformed", "is not a path on the service"),
    ],
)
def test_a_booth_entry_missing_or_out_of_place_is_named(
    tmp_path: Path, malicious: str, words: str
) -> None:
    s = build(tmp_path / f"{malicious}.jsonl", voters=VOTERS, seed=3, malicious=malicious)
    report = verify_record(s.path, log_key=s.log_key)
    assert set(report.failure_counts) == {"entry-order"}, [str(f) for f in report.failures]
    index = s.tampered[-1] if s.tampered else None
    assert words in _fails(report, "entry-order", index)
