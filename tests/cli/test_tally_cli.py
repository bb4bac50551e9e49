"""`stembus ceremony`, `stembus trustee submit` helpers, `stembus verify` and `verify-receipt`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from benchmarks.synthetic_election import build, receipt_from_record
from cli.ceremony import make_ceremony, read_share, submit_share
from cli.main import app
from crypto import sealing, shamir

runner = CliRunner()


def test_ceremony_writes_shares_that_rebuild_the_key(tmp_path: Path) -> None:
    public, files = make_ceremony("verk2027", 2, 3, tmp_path)
    assert len(files) == 6
    texts = [read_share(f) for f in files]
    assert texts[0] == texts[1]  # the JSON and the printed form hold the same share
    shares = [shamir.Share.from_text(t) for t in texts[::2]]
    rec = shamir.recover_matching(
        shares[1:], lambda s: sealing.public_key_from_private(s) == public
    )
    assert rec.used_indices == (2, 3)
    doc = json.loads(files[0].read_text())
    assert doc["k"] == 2 and doc["n"] == 3 and "private" not in json.dumps(doc)
    printed = files[1].read_text()
    assert "SLEUTELDEEL 1 VAN 3" in printed and oct(files[1].stat().st_mode)[-3:] == "600"


def test_ceremony_command_without_upload(tmp_path: Path) -> None:
    r = runner.invoke(
        app, ["ceremony", "--election", "verk2027", "-k", "2", "-n", "2", "--out", str(tmp_path)]
    )
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "trustee-1-of-2.json",
        "trustee-1-of-2.txt",
        "trustee-2-of-2.json",
        "trustee-2-of-2.txt",
    ]


def test_trustee_submit_through_the_api(closed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    e, shares, trustees = closed
    f = tmp_path / "share.txt"
    text = shares[0].to_text()
    f.write_text("Bewaar dit\n\n" + " ".join(text[i : i + 8] for i in range(0, len(text), 8)))
    token = trustees[0]["Authorization"].split()[1]
    st = submit_share(e.client, "", e.id, token, read_share(f))
    assert st["received"] == 1 and st["status"] == "closed"


def test_verify_command_passes_and_fails(tmp_path: Path) -> None:
    s = build(tmp_path / "r.jsonl", voters={"productie": 15, "kantoor": 10})
    r = runner.invoke(app, ["verify", str(s.path), "--log-key", s.log_key])
    assert r.exit_code == 0, r.output
    assert "VERIFIED" in r.output
    lines = s.path.read_bytes().splitlines(keepends=True)
    bad = tmp_path / "bad.jsonl"
    del lines[next(i for i, x in enumerate(lines) if b'"type":"ballot"' in x)]
    bad.write_bytes(b"".join(lines))
    r = runner.invoke(app, ["verify", str(bad), "--json"])
    assert r.exit_code == 1
    report = json.loads(r.output)
    assert report["ok"] is False
    assert "entry-order" in {f["check"] for f in report["failures"]}


def test_verify_receipt_against_a_record(tmp_path: Path) -> None:
    s = build(tmp_path / "r.jsonl", voters={"productie": 10, "kantoor": 5})
    rf = tmp_path / "receipt.json"
    receipt = receipt_from_record(s.path, s.receipts[0]["index"])
    rf.write_text(json.dumps(receipt))
    r = runner.invoke(app, ["verify-receipt", str(rf), "--record", str(s.path)])
    assert r.exit_code == 0, r.output
    rf.write_text(json.dumps(dict(receipt, entry_hash="11" * 32)))
    r = runner.invoke(app, ["verify-receipt", str(rf), "--record", str(s.path)])
    assert r.exit_code == 1 and "NOT VERIFIED" in r.output


def test_verify_workers_option(tmp_path: Path) -> None:
    """--workers 1 (no worker processes) and --workers 2 give the same report, passing or not
    (a dishonest server's changed result is found by the recount either way); 0 or fewer workers
    are refused before any work, with a message that says what to give."""
    voters = {"productie": 12, "kantoor": 9}
    s = build(tmp_path / "r.jsonl", voters=voters, invalid_every=4)
    bad = build(tmp_path / "bad.jsonl", voters=voters, invalid_every=4, malicious="wrong_result")
    for record, code in ((s.path, 0), (bad.path, 1)):
        reports = []
        for workers in ("1", "2"):
            r = runner.invoke(app, ["verify", str(record), "--json", "--workers", workers])
            assert r.exit_code == code, r.output
            reports.append(json.loads(r.output))
        assert reports[0] == reports[1]
        assert reports[0]["result_checked"] is True
    assert {f["check"] for f in reports[0]["failures"]} == {"result"}
    for workers in ("0", "-3"):
        r = runner.invoke(app, ["verify", str(s.path), "--workers", workers])
        assert r.exit_code == 2
        assert "--workers" in r.output and "give 1 or more" in r.output
        assert "VERIFIED" not in r.output
    r = runner.invoke(app, ["verify", "--help"])
    assert "--workers" in r.output


def test_verify_receipt_with_a_record_takes_workers(tmp_path: Path) -> None:
    s = build(tmp_path / "r.jsonl", voters={"productie": 10, "kantoor": 5})
    rf = tmp_path / "receipt.json"
    rf.write_text(json.dumps(receipt_from_record(s.path, s.receipts[0]["index"])))
    r = runner.invoke(app, ["verify-receipt", str(rf), "--record", str(s.path), "--workers", "1"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["verify-receipt", str(rf), "--record", str(s.path), "--workers", "0"])
    assert r.exit_code == 2 and "give 1 or more" in r.output
