"""The verifier's fast paths (rules.record_parallel, the json.dumps canonical check, signing bytes
cut from the entry): the same report with and without worker processes, for honest and tampered
records, chunk boundaries anywhere; verdicts only count for exactly the inputs they were computed
for; a line that is not RFC 8785 canonical is still found; pass 2 (decrypt and recount) gives
byte-identical results and the same errors whether the ballots are opened here or in workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rules.record_parallel as rp
from benchmarks.synthetic_election import Synthetic, build
from crypto import blindrsa, merkle, note
from crypto.canonical import b64d, b64e, canonical_json
from crypto.credential import entry_signing_bytes
from rules.record import Report, checkpoint_line, entry_line, verify_record
from rules.tally import ElectionLog, OpenBallots, TallyError, compute_result, open_sequentially

VOTERS = {"productie": 30, "kantoor": 20}


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Synthetic:
    return build(tmp_path_factory.mktemp("par") / "honest.jsonl", voters=VOTERS, seed=5)


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _write(tmp_path: Path, lines: list[bytes]) -> Path:
    p = tmp_path / "tampered.jsonl"
    p.write_bytes(b"".join(lines))
    return p


def _covering(lines: list[bytes], pos: int) -> tuple[int, int]:
    """(line number, last entry index) of the first checkpoint after line ``pos`` (the one
    signed after the entry's flush)."""
    for at in range(pos + 1, len(lines)):
        obj = json.loads(lines[at])
        if "checkpoint" in obj:
            return at, note.Checkpoint.from_text(note.parse_note(obj["checkpoint"])[0]).size - 1
    raise AssertionError("no checkpoint after that line")


def _in_leaf_order(lines: list[bytes], pos: int) -> bool:
    """Whether the entry at line ``pos`` still sits in leaf-hash order among the neighbours of
    its run (a changed ballot may or may not leave its flush's run sorted)."""

    def leaf(at: int) -> tuple[str, bytes] | None:
        obj = json.loads(lines[at])
        if "entry" not in obj:
            return None
        return obj["entry"]["type"], merkle.leaf_hash(canonical_json(obj["entry"]))

    here = leaf(pos)
    assert here is not None
    prev, nxt = leaf(pos - 1), leaf(pos + 1)
    ok_prev = prev is None or prev[0] != here[0] or prev[1] < here[1]
    ok_next = nxt is None or nxt[0] != here[0] or here[1] < nxt[1]
    return ok_prev and ok_next


def _first_seq1_ballot(lines: list[bytes]) -> tuple[int, int]:
    """(line number, entry index) of the first ballot with seq 1 (runs are in leaf-hash order,
    so which ballot comes first differs between builds)."""
    for pos, raw in enumerate(lines):
        if b'"type":"ballot"' in raw and b'"seq":1,' in raw:
            return pos, json.loads(raw)["index"]
    raise AssertionError("no ballot with seq 1")


def _entry_pos(lines: list[bytes], type_: str, nth: int = 0) -> tuple[int, int]:
    seen = 0
    for pos, raw in enumerate(lines):
        obj = json.loads(raw)
        if "entry" in obj and obj["entry"]["type"] == type_:
            if seen == nth:
                return pos, obj["index"]
            seen += 1
    raise AssertionError(type_)


def _all_ways(path: Path, monkeypatch: pytest.MonkeyPatch, **kw: object) -> Report:
    """Verify in this process (1 worker: none started), with 2 workers and with 2 workers on
    7-line chunks in pass 1 and 7-ballot chunks in pass 2 (so chunk boundaries fall everywhere,
    also between the keys entry and the ballots); the three reports must be identical."""
    sequential = verify_record(path, workers=1, **kw)  # type: ignore[arg-type]
    pooled = verify_record(path, workers=2, **kw)  # type: ignore[arg-type]
    monkeypatch.setattr(rp, "CHUNK_LINES", 7)
    monkeypatch.setattr(rp, "PASS2_CHUNK", 7)
    chunked = verify_record(path, workers=2, **kw)  # type: ignore[arg-type]
    monkeypatch.undo()
    assert pooled.to_dict() == sequential.to_dict()
    assert chunked.to_dict() == sequential.to_dict()
    return sequential


def test_honest_record_same_report_with_workers(
    honest: Synthetic, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rules.record

    made: list[rp.Verdicts] = []

    class Counted(rp.Verdicts):
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    monkeypatch.setattr(rules.record, "Verdicts", Counted)
    r = verify_record(honest.path, log_key=honest.log_key, workers=2)
    monkeypatch.undo()
    # the workers answered for every checkpoint, ballot and issuer signature
    (used,) = made
    assert used.misses == 0 and used.hits == r.checkpoints + 2 * r.ballots
    report = _all_ways(honest.path, monkeypatch, log_key=honest.log_key)
    assert report.ok, [str(f) for f in report.failures]
    assert report.passed["ballot-signature"] == report.ballots
    assert report.passed["ballot-issuer-signature"] == report.ballots
    assert report.passed["checkpoint-signature"] == report.checkpoints == honest.checkpoints


def test_progress_is_reported_with_workers(honest: Synthetic) -> None:
    calls: list[tuple[str, int, int | None]] = []
    report = verify_record(honest.path, workers=2, progress=lambda *a: calls.append(a))
    assert report.ok
    phases = {c[0] for c in calls}
    assert phases == {"pass 1: log and signatures", "pass 2: decrypt and recount"}
    last1 = [c for c in calls if c[0].startswith("pass 1")][-1]
    assert last1[1] == last1[2] == honest.size


@pytest.mark.parametrize("malicious", ["bad_ballot_signature", "bad_issuer_signature"])
def test_signed_bad_ballot_signatures_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, malicious: str
) -> None:
    """A dishonest server logs ballots with a wrong signature under signed checkpoints: only that
    check fails, at exactly those entries, however the work is split."""
    s = build(tmp_path / "bad.jsonl", voters=VOTERS, seed=5, malicious=malicious)
    assert len(s.tampered) >= 3
    report = _all_ways(s.path, monkeypatch, log_key=s.log_key)
    check = "ballot-signature" if malicious == "bad_ballot_signature" else "ballot-issuer-signature"
    assert set(report.failure_counts) == {check}
    assert report.failure_counts[check] == len(s.tampered)
    assert [f.index for f in report.failures] == s.tampered[: Report.max_per_check]


def test_tampered_records_same_report_with_workers(
    honest: Synthetic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _lines(honest.path)
    pos, index = _entry_pos(lines, "ballot", 4)
    # a forged checkpoint (another key of the same name) after a ballot's flush
    cp_pos, covered = _covering(lines, pos)
    cp = note.Checkpoint.from_text(note.parse_note(json.loads(lines[cp_pos])["checkpoint"])[0])
    forger = note.Signer.generate(honest.origin)
    forged = list(lines)
    forged[cp_pos] = checkpoint_line(note.sign_checkpoint(cp, forger))
    report = _all_ways(_write(tmp_path, forged), monkeypatch, log_key=honest.log_key)
    assert report.first("checkpoint-signature").index == covered  # type: ignore[union-attr]
    # a dropped ballot (the pass stops there)
    dropped = list(lines)
    del dropped[pos]
    report = _all_ways(_write(tmp_path, dropped), monkeypatch)
    assert report.first("entry-order").index == index  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"seq":1,', b'"seq":1.0,'),  # json.dumps keeps 1.0, RFC 8785 writes 1
        (b'"seq":1,', b'"seq":1E0,'),
        (b'"type":"ballot"', b'"type":"b\\u0061llot"'),  # an escape RFC 8785 does not use
        (b'"seq":1,', b'"seq":1 ,'),
    ],
)
def test_non_canonical_entry_lines_are_found(
    honest: Synthetic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: bytes, new: bytes
) -> None:
    lines = _lines(honest.path)
    pos, index = _first_seq1_ballot(lines)
    assert old in lines[pos]
    lines[pos] = lines[pos].replace(old, new, 1)
    report = _all_ways(_write(tmp_path, lines), monkeypatch, log_key=honest.log_key)
    f = report.first("format")
    assert f is not None and f.index == index and "canonical" in f.message


def test_an_integer_beyond_the_json_range_aborts(
    honest: Synthetic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """json.dumps would write 2^53 + 1 back unchanged; RFC 8785 cannot represent it."""
    lines = _lines(honest.path)
    pos, index = _first_seq1_ballot(lines)
    lines[pos] = lines[pos].replace(b'"seq":1,', b'"seq":9007199254740993,', 1)
    report = _all_ways(_write(tmp_path, lines), monkeypatch, log_key=honest.log_key)
    assert any(f"entry {index}: cannot be canonicalised" in f.message for f in report.failures)


def test_a_non_canonical_checkpoint_line_is_found(
    honest: Synthetic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _lines(honest.path)
    pos, _ = _entry_pos(lines, "ballot", 1)
    cp_pos, _ = _covering(lines, pos)
    cp_line = lines[cp_pos]
    assert "\u2014".encode() in cp_line
    lines[cp_pos] = cp_line.replace("\u2014".encode(), b"\\u2014", 1)  # same JSON, escaped
    report = _all_ways(_write(tmp_path, lines), monkeypatch, log_key=honest.log_key)
    f = report.first("format")
    assert f is not None and "checkpoint line is not canonical" in f.message
    # a lone surrogate cannot be canonicalised: reported, not raised
    lines[cp_pos] = cp_line.replace(b"\\n\\n", b"\\n\\ud800\\n", 1)
    report = _all_ways(_write(tmp_path, lines), monkeypatch, log_key=honest.log_key)
    assert report.first("format") is not None


def test_ballot_signing_bytes_are_the_canonical_bytes_without_the_signature(
    honest: Synthetic,
) -> None:
    for raw in _lines(honest.path):
        obj = json.loads(raw)
        e = obj.get("entry")
        if not e or e["type"] != "ballot":
            continue
        body = canonical_json(e)
        assert entry_line(obj["index"], body) == raw
        assert rp.ballot_signing_bytes(body, e) == entry_signing_bytes(e)
        # anything unusual falls back to the exact computation
        odd = dict(e, signature="not base64!")
        assert rp.ballot_signing_bytes(canonical_json(odd), odd) == entry_signing_bytes(odd)
        extra = dict(e, zzz=1)
        assert rp.ballot_signing_bytes(canonical_json(extra), extra) == entry_signing_bytes(extra)


def test_verdicts_count_only_for_exactly_their_inputs(honest: Synthetic) -> None:
    lines = _lines(honest.path)
    keys = next(json.loads(r)["entry"] for r in lines if b'"type":"keys"' in r)
    pos, _ = _entry_pos(lines, "ballot", 0)
    e = json.loads(lines[pos])["entry"]
    cred, sig = b64d(e["credential"]), b64d(e["signature"])
    msg = entry_signing_bytes(e)
    imsg, isig = b64d(e["prefix"]) + cred, b64d(e["issuer_sig"])
    cp_pos, covered = _covering(lines, pos)
    cp_text = json.loads(lines[cp_pos])["checkpoint"]
    origin = honest.origin

    v = rp.Verdicts()
    v.current = rp.verify_chunk(lines[1:], honest.log_key, origin, None)
    assert v.ed25519(cred, msg, sig) is True
    assert v.ed25519(cred, msg + b" ", sig) is None
    assert v.ed25519(bytes(32), msg, sig) is None
    assert v.ed25519(cred, msg, sig[:-1] + bytes([sig[-1] ^ 1])) is None
    key = blindrsa.public_key_from_jwk(keys["issuer_keys"][e["group"]])
    ident = rp.rsa_ident(key)
    assert v.rsa(ident, imsg, isig) is True
    assert v.rsa(ident, imsg[:-1] + bytes([imsg[-1] ^ 1]), isig) is None  # always another msg
    other = rp.rsa_ident(blindrsa.public_key_from_jwk(keys["issuer_keys"]["kantoor"]))
    assert e["group"] == "kantoor" or v.rsa(other, imsg, isig) is None
    cp = v.checkpoint(honest.log_key, origin, cp_text)
    assert isinstance(cp, tuple) and cp[0] == covered + 1
    assert v.checkpoint(honest.log_key, "another origin", cp_text) is None
    other_key = note.Signer.generate(origin).verifier_key
    assert v.checkpoint(other_key, origin, cp_text) is None

    # a worker that saw no keys entry has no issuer verdicts; one with another log key gives
    # verdicts that do not match the verifier's key
    v.current = rp.verify_chunk(lines[pos:], honest.log_key, origin, None)
    assert v.rsa(ident, imsg, isig) is None and v.ed25519(cred, msg, sig) is True
    v.current = rp.verify_chunk(lines[1:], other_key, origin, None)
    assert v.checkpoint(honest.log_key, origin, cp_text) is None
    forged = v.checkpoint(other_key, origin, cp_text)
    assert isinstance(forged, str)  # that key did not sign it: the NoteError text


# --------------------------------------------------------------------------------- pass 2


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Synthetic:
    """Revotes, blank and invalid ballots in both kiesgroepen: the order of the invalid ballots
    and the superseded ballots matter to the result."""
    return build(
        tmp_path_factory.mktemp("par2") / "mixed.jsonl",
        voters={"productie": 45, "kantoor": 35},
        seed=11,
        revote_every=4,
        invalid_every=6,
        blank_every=5,
        abstain_every=9,
    )


def _tally_input(path: Path) -> tuple[ElectionLog, list[tuple[int, dict[str, object]]]]:
    log = ElectionLog()
    ballots = []
    for raw in _lines(path):
        obj = json.loads(raw)
        if "entry" in obj:
            if obj["entry"]["type"] in ("decryption_key", "result"):
                break
            log.add(obj["index"], obj["entry"])
            if obj["entry"]["type"] == "ballot":
                ballots.append((obj["index"], obj["entry"]))
    return log, ballots


def test_pass2_result_is_byte_identical_however_the_ballots_are_opened(mixed: Synthetic) -> None:
    """The recomputed result entry itself (counts, seats, invalid ballots in log order, lot
    draws) is the same bytes in-process, with 2 workers, and with 1-ballot and 7-ballot chunks
    that finish in any order — and it is the published one."""
    log, ballots = _tally_input(mixed.path)
    lot_cp = (log.closed_index + 1, bytes(range(32)))  # type: ignore[operator]

    def result(open_ballots: OpenBallots) -> bytes:
        return canonical_json(
            compute_result(
                log, mixed.sealing_private, iter(ballots), lot_cp, open_ballots=open_ballots
            )
        )

    here = result(open_sequentially)
    assert result(rp.pooled_opening(2)) == here
    assert result(rp.pooled_opening(2, chunk=7)) == here
    assert result(rp.pooled_opening(2, chunk=1, ahead=3)) == here
    r = json.loads(here)
    assert len(r["invalid_ballots"]) >= 5 and r["ballots"]["superseded"] >= 10
    assert [b["index"] for b in r["invalid_ballots"]] == sorted(
        b["index"] for b in r["invalid_ballots"]
    )
    # and the whole verification agrees with the published result either way
    assert mixed.result is not None
    for workers in (1, 2):
        report = verify_record(mixed.path, log_key=mixed.log_key, workers=workers)
        assert report.ok and report.result_checked, [str(f) for f in report.failures]


def _resigned(s: Synthetic, lines: list[bytes]) -> list[bytes]:
    """The lines with every checkpoint signed again over the entries as they now are — what a
    dishonest server holding the log key can publish (so pass 2 still runs)."""
    tree = merkle.RootBuilder()
    out = []
    for raw in lines:
        obj = json.loads(raw)
        if "entry" in obj:
            tree.add(merkle.leaf_hash(canonical_json(obj["entry"])))
        elif "checkpoint" in obj:
            cp = note.Checkpoint(s.origin, tree.size, tree.root())
            raw = checkpoint_line(note.sign_checkpoint(cp, s.signer))
        out.append(raw)
    return out


def test_pass2_a_tampered_ciphertext_is_reported_alike(
    mixed: Synthetic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A final ballot's ciphertext replaced (same length) under re-signed checkpoints: the same
    failures, at the same entries, with 1 and 2 workers and any chunking."""
    lines = _lines(mixed.path)
    log, _ = _tally_input(mixed.path)
    finals = log.final_indices()
    pos, obj = next(
        (p, o)
        for p, o in enumerate(map(json.loads, lines))
        if o.get("index") in finals and o["entry"]["group"] == "kantoor"
    )
    index = obj["index"]
    ct = b64d(obj["entry"]["ciphertext"])
    obj["entry"]["ciphertext"] = b64e(ct[:40] + bytes([ct[40] ^ 1]) + ct[41:])
    lines[pos] = entry_line(index, canonical_json(obj["entry"]))
    lines = _resigned(mixed, lines)
    report = _all_ways(_write(tmp_path, lines), monkeypatch, log_key=mixed.log_key)
    # the changed ballot has a new leaf hash: its run may no longer be sorted (check 2)
    flush = set() if _in_leaf_order(lines, pos) else {"flush"}
    assert set(report.failure_counts) == {"ballot-signature", "result"} | flush
    assert report.first("ballot-signature").index == index  # type: ignore[union-attr]
    result = report.first("result")
    assert result is not None and result.index == _entry_pos(lines, "result")[1]
    assert "published result differs" in result.message
    assert report.result_checked

    # the recount alone: the ballot becomes invalid, at its place in the list, however opened
    log, ballots = _tally_input(_write(tmp_path, lines))
    lot_cp = (log.closed_index + 1, bytes(32))  # type: ignore[operator]
    results = [
        compute_result(log, mixed.sealing_private, iter(ballots), lot_cp, open_ballots=how)
        for how in (open_sequentially, rp.pooled_opening(2, chunk=3))
    ]
    assert canonical_json(results[0]) == canonical_json(results[1])
    assert {"index": index, "group": "kantoor", "reason": "does not decrypt"} in results[0][
        "invalid_ballots"
    ]


def test_pass2_errors_surface_at_the_same_ballot(mixed: Synthetic) -> None:
    """A final ballot for a group without a definition stops the tally with the same error,
    although the workers had already been sent the ballots after it."""
    log, ballots = _tally_input(mixed.path)
    finals = [i for i, _ in ballots if i in log.final_indices()]
    odd = finals[len(finals) // 2]
    ballots = [(i, dict(e, group="nergens") if i == odd else e) for i, e in ballots]
    lot_cp = (log.closed_index + 1, bytes(32))  # type: ignore[operator]
    messages = []
    for how in (open_sequentially, rp.pooled_opening(2, chunk=2, ahead=20)):
        with pytest.raises(TallyError) as exc:
            compute_result(log, mixed.sealing_private, iter(ballots), lot_cp, open_ballots=how)
        messages.append(str(exc.value))
    assert messages[0] == messages[1] == f"ballot at index {odd} is for unknown group 'nergens'"


def _failing_initializer(opener: object) -> None:
    raise RuntimeError("this worker cannot start")


def test_pass2_chunks_a_worker_failed_on_are_opened_here(
    mixed: Synthetic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers that die (here: at start-up) cost time, never a different result."""
    log, ballots = _tally_input(mixed.path)
    lot_cp = (log.closed_index + 1, bytes(32))  # type: ignore[operator]
    here = compute_result(log, mixed.sealing_private, iter(ballots), lot_cp)
    monkeypatch.setattr(rp, "_set_opener", _failing_initializer)
    broken = compute_result(
        log, mixed.sealing_private, iter(ballots), lot_cp, open_ballots=rp.pooled_opening(2)
    )
    assert canonical_json(broken) == canonical_json(here)
