"""The protocol and the rules ship with the project: every citation points at a document in the
repository, and every document a citation or link names exists (no ../shared needed)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_OLD_NAME = re.compile(r"\b(PROTOCOL|DOMAIN)\.md\b")


def _sources() -> list[Path]:
    out = []
    for pattern in ("*.py", "*.md", "*.json", "*.toml", "*.yaml", "run"):
        for p in ROOT.rglob(pattern):
            rel = p.relative_to(ROOT).as_posix()
            if rel.startswith((".venv/", ".git/", "node_modules/")) or "/node_modules/" in rel:
                continue
            out.append(p)
    return out


def test_protocol_and_rules_are_project_documents() -> None:
    protocol = (ROOT / "docs" / "protocol.md").read_text()
    rules = (ROOT / "docs" / "rules.md").read_text()
    assert protocol.startswith("# The Stembus voting protocol (v1.1)")
    for section in ("## Issuance", "## Casting", "## Publication in shuffled batches", "## Tally"):
        assert section in protocol
    for section in ("## Seats", "## Seat allocation in the list system", "**E1**", "**E7**"):
        assert section in rules
    assert "## Zero votes" in rules  # the cases issue 13 decided stay


def test_no_citation_of_the_outside_specification() -> None:
    offenders = []
    for p in _sources():
        rel = p.relative_to(ROOT).as_posix()
        if rel == "tests/test_docs.py":
            continue
        text = p.read_text(errors="replace")
        for m in _OLD_NAME.finditer(text):
            offenders.append(f"{rel}: {text[max(0, m.start() - 40) : m.end()]!r}")
    assert offenders == []


def test_every_cited_project_document_exists() -> None:
    cited = set()
    for p in _sources():
        cited |= set(re.findall(r"\bdocs/[\w-]+\.md\b", p.read_text(errors="replace")))
    assert {"docs/protocol.md", "docs/rules.md"} <= cited
    missing = sorted(c for c in cited if not (ROOT / c).is_file())
    assert missing == []
