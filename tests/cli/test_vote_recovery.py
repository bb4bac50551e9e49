"""The voter SDK (cli.client): credential files are private from the start."""

from __future__ import annotations

import json
import os
import stat

from cli.client import (
    StoredCredential,
)


def _mode(path) -> int:  # type: ignore[no-untyped-def]
    return stat.S_IMODE(os.stat(path).st_mode)


def test_credential_files_are_private_from_the_start_and_replaced_atomically(tmp_path):
    cred = StoredCredential("e1", "all", "c2s=", "cGs=", "cHJlZml4", "c2ln", seq=2)
    path = tmp_path / "cred.json"
    path.write_text("old\n")
    path.chmod(0o644)
    old_inode = os.stat(path).st_ino
    umask = os.umask(0)  # the most permissive umask: the mode must not depend on it
    try:
        cred.save(path)
        assert _mode(path) == 0o600
        assert os.stat(path).st_ino != old_inode  # a new file renamed over the old one
    finally:
        os.umask(umask)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cred.json"]
    assert StoredCredential.load(path) == cred
    assert json.loads(path.read_text())["seq"] == 2
