"""The contract a frontend developer gets is typed and exact (issue 14): the log's entries,
binary encodings with their lengths, integer bounds, problem documents, public operations,
servers, license and the voter's example bodies."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from api.log.entry_schemas import BallotEntry
from api.problems import PROBLEM_JSON

ROOT = Path(__file__).resolve().parents[2]
SPEC: dict[str, Any] = json.loads((ROOT / "openapi" / "openapi.json").read_text())
SCHEMAS = SPEC["components"]["schemas"]
ENTRY_TYPES = {
    "booth_published",
    "codes_issued",
    "personal_data_purged",
    "election_created",
    "settings_updated",
    "phase_changed",
    "roll_frozen",
    "lists_published",
    "questions_published",
    "keys",
    "issuance",
    "ballot",
    "decryption_key",
    "result",
}


def _ops() -> list[tuple[str, str, dict[str, Any]]]:
    return [(p, m, op) for p, ops in SPEC["paths"].items() for m, op in ops.items()]


def _walk(node: Any, path: str = ""):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        for k, v in node.items():
            yield path + "/" + k, k, v
            yield from _walk(v, path + "/" + k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}/{i}")


def _doc_block(tag: str) -> Any:
    s = (ROOT / "docs" / "client-protocol.md").read_text()
    i = s.index(f"<!-- example:{tag} -->")
    j = s.index("```json\n", i) + len("```json\n")
    return json.loads(s[j : s.index("```", j)])


def test_every_log_entry_type_has_a_schema_discriminated_by_type():
    log_entry = SCHEMAS["LogEntry"]
    assert log_entry["discriminator"]["propertyName"] == "type"
    assert set(log_entry["discriminator"]["mapping"]) == ENTRY_TYPES
    documented = set(
        re.findall(r"^\| `(\w+)` \|", (ROOT / "docs" / "log-entries.md").read_text(), re.M)
    )
    assert documented == ENTRY_TYPES
    for ref in log_entry["discriminator"]["mapping"].values():
        assert SCHEMAS[ref.rsplit("/", 1)[1]]["additionalProperties"] is False
    # the fields that carry entries point at them
    entry_page = SCHEMAS["EntryOut"]["properties"]["entry"]
    assert entry_page["allOf"] == [{"$ref": "#/components/schemas/LogEntry"}]
    assert SCHEMAS["KeysOut"]["properties"]["entry"]["allOf"][0]["$ref"].endswith("/KeysEntry")
    result = SCHEMAS["ResultsOut"]["properties"]["result"]
    assert result["allOf"][0]["$ref"].endswith("/ResultEntry")


@pytest.mark.parametrize(
    ("schema", "field", "chars"),
    [
        ("BallotIn", "credential", 44),
        ("BallotIn", "prefix", 44),
        ("BallotIn", "signature", 88),
        ("BallotIn", "issuer_sig", 344),
        ("CredentialIn", "blinded_msg", 344),
        ("CredentialOut", "blind_sig", 344),
        ("KeysIn", "sealing_key", 44),
        ("BallotEntry", "credential", 44),
        ("BallotEntry", "issuer_sig", 344),
        ("KeysEntry", "sealing_key", 44),
        ("DecryptionKeyEntry", "sealing_private_key", 44),
    ],
)
def test_binary_fields_have_their_exact_base64_length(schema, field, chars):
    prop = SCHEMAS[schema]["properties"][field]
    assert prop["contentEncoding"] == "base64"
    assert prop["minLength"] == prop["maxLength"] == chars
    example = "A" * (chars - 2) + "=="
    assert (
        re.fullmatch(prop["pattern"], example)
        or re.fullmatch(prop["pattern"], "A" * (chars - 1) + "=")
        or re.fullmatch(prop["pattern"], "A" * chars)
    )
    assert not re.fullmatch(prop["pattern"], "A" * (chars + 4))
    assert not re.fullmatch(prop["pattern"], "-" * chars)  # base64url is not base64


def test_ciphertext_and_hex_fields_are_typed():
    assert SCHEMAS["BallotIn"]["properties"]["ciphertext"]["contentEncoding"] == "base64"
    for schema in ("CastOut", "ReceiptStatus", "Receipt"):
        assert SCHEMAS[schema]["properties"]["entry_hash"]["pattern"] == "^[0-9a-f]{64}$"
    proof = SCHEMAS["Receipt"]["properties"]["inclusion_proof"]["items"]
    assert proof["pattern"] == "^[0-9a-f]{64}$"
    assert SCHEMAS["IssuanceEntry"]["properties"]["pseudonym"]["pattern"] == "^[0-9a-f]{32}$"


def test_integer_bounds_are_integers():
    floats = [
        path
        for path, key, value in _walk(SPEC)
        if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
        and isinstance(value, float)
    ]
    assert floats == []


def test_errors_are_problem_documents_only():
    wrong = [
        (p, m, status, sorted(resp.get("content", {})))
        for p, m, op in _ops()
        for status, resp in op["responses"].items()
        if status[:1] in "45" and set(resp.get("content", {})) != {PROBLEM_JSON}
    ]
    assert wrong == []


def test_every_operation_states_its_security():
    public = {(p, m) for p, m, op in _ops() if op["security"] == []}
    bearer = {(p, m) for p, m, op in _ops() if op["security"] == [{"HTTPBearer": []}]}
    assert public | bearer == {(p, m) for p, m, _ in _ops()}
    assert ("/api/v1/elections/{election_id}/ballots", "post") in public
    assert ("/api/v1/elections/{election_id}/login", "post") in public
    assert ("/api/v1/elections/{election_id}/ballot", "get") in public
    assert ("/api/v1/elections/{election_id}/voting/credential", "post") in bearer


def test_servers_and_license():
    assert SPEC["servers"] and all(s["url"] and s["description"] for s in SPEC["servers"])
    assert SPEC["info"]["license"]["identifier"] == "Apache-2.0"


def test_the_voters_bodies_have_the_worked_example():
    entry = _doc_block("entry")
    assert SCHEMAS["BallotIn"]["examples"] == [entry]
    BallotEntry.model_validate(entry)
    blinded = _doc_block("outputs")["blinded_msg"]
    assert SCHEMAS["CredentialIn"]["examples"] == [{"blinded_msg": blinded}]
    login = SPEC["paths"]["/api/v1/elections/{election_id}/login"]["post"]["requestBody"]
    assert re.fullmatch(
        r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", login["content"]["application/json"]["example"]["code"]
    )


def test_every_operation_and_success_answer_is_described():
    from api.contract_docs import DOCS

    undescribed = [op["operationId"] for _, _, op in _ops() if not op.get("description")]
    assert undescribed == []
    generic = [
        (op["operationId"], status)
        for _, _, op in _ops()
        for status, resp in op["responses"].items()
        if status[:1] in "23" and resp.get("description") in (None, "", "Successful Response")
    ]
    assert generic == []
    assert set(DOCS) <= {op["operationId"] for _, _, op in _ops()}  # no stale entries
