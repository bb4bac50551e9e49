"""Nothing stored links a voter to a credential or ballot, and nothing logged on the cast path
does either (docs/protocol.md "Threat model")."""

from __future__ import annotations

import logging

from sqlalchemy import inspect, text

from api.auth.codes import pseudonym
from cli.client import StembusClient
from crypto.canonical import b64d
from tests.api.test_voting_support import close_voting, voting_election

TIME_OR_ADDRESS = ("time", "_at", "date", "ip", "addr", "client", "host", "agent")


def test_schema_of_the_voting_tables(app):
    insp = inspect(app.state.engine)
    cols = {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()}
    # The issuance row knows the voter, but only the BLINDED message and blind signature,
    # which RFC 9474 blinding makes unlinkable to the finalized credential.
    assert cols["credential_issuance"] == {
        "election_id",
        "voter_id",
        "group",
        "blinded_msg",
        "blind_sig",
    }
    # The seq table knows credentials and no voter; the log knows neither voter nor time.
    assert cols["ballot_seq"] == {"election_id", "credential", "group", "seq"}
    assert cols["log_entry"] == {"election_id", "idx", "type", "body", "leaf_hash"}
    # The pool keys entries by content only: no arrival time, no counter, no voter.
    assert cols["log_pool"] == {"election_id", "leaf_hash", "group", "type", "body"}
    tables = ("credential_issuance", "ballot_seq", "log_entry", "log_node", "log_checkpoint")
    for table in (*tables, "log_pool"):
        for c in cols[table]:
            assert not any(w in c for w in TIME_OR_ADDRESS), (table, c)
    # No table other than the issuance table pairs a voter with anything of the voting domain.
    for table, names in cols.items():
        if "voter_id" in names and table != "credential_issuance":
            assert not names & {"credential", "blinded_msg", "blind_sig", "seq", "ciphertext"}


def test_rows_and_logs_after_a_run_do_not_link(app, client, make_election, caplog):
    ve = voting_election(app, make_election, n_voters=3)
    sdk = StembusClient(http=client)
    stembus_logger = logging.getLogger("stembus")
    stembus_logger.addHandler(caplog.handler)  # the app's logger does not propagate to root
    caplog.set_level(logging.DEBUG)
    try:
        creds = [sdk.vote(ve.id, code, {"q1": ["yes"]})[0] for code in ve.codes.values()]
        sdk.revote(creds[0], {"q1": ["no"]})
        close_voting(ve)  # the pooled entries move to the public log
    finally:
        stembus_logger.removeHandler(caplog.handler)
    secrets_of_credentials: list[bytes] = []
    for c in creds:
        for v in (c.credential, c.issuer_sig, c.prefix):
            secrets_of_credentials += [b64d(v), v.encode()]
    # 1. No stored row outside the public log and the seq table contains a credential, its
    #    prefix or its finalized signature, in raw or base64 form.
    with app.state.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            if table in ("log_entry", "ballot_seq", "alembic_version"):
                continue
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    blob = value.encode() if isinstance(value, str) else value
                    if isinstance(blob, bytes | bytearray | memoryview):
                        blob = bytes(blob)
                        assert not any(s in blob for s in secrets_of_credentials), table
    # 2. Nothing logged names a credential, a voter, a pseudonym, a code or a ballot.
    # Server-side records only (the test's own HTTP client logs its requests, as any client may).
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logged = "\n".join(r.getMessage() for r in server)
    voter_ids = []
    with app.state.engine.connect() as conn:
        voter_ids = [
            r[0]
            for r in conn.execute(
                text("SELECT voter_id FROM credential_issuance WHERE election_id = :e"),
                {"e": ve.id},
            )
        ]
    assert len(voter_ids) == 3
    forbidden = [c.credential for c in creds] + [c.issuer_sig[:40] for c in creds]
    forbidden += list(ve.codes.values())
    forbidden += [pseudonym(app.state.settings, ve.id, v) for v in voter_ids]
    for f in forbidden:
        assert f not in logged
    assert "/ballots" not in logged  # the cast path logs nothing at all
