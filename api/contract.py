"""The OpenAPI contract as a frontend developer needs it, on top of what FastAPI generates.

- the typed log: every entry type (api.log.entry_schemas) as a component, `LogEntry` their
  union discriminated by `type`; the fields that carry entries point at them;
- errors under `application/problem+json` only (FastAPI also lists `application/json`);
- `security: []` on every public operation (FastAPI names the bearer scheme only where a
  route requires it), `servers`, `license`;
- integer bounds as integers (FastAPI writes `ge`/`le` of query and path parameters as floats);
- an example for each body a voter sends;
- a description of every operation and its success answer (api.contract_docs).
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from api.contract_docs import DOCS
from api.log.entry_schemas import BallotEntry, KeysEntry, LogEntry, ResultEntry
from api.problems import PROBLEM_JSON

REF = "#/components/schemas/{model}"
LICENSE = {"name": "Apache-2.0", "identifier": "Apache-2.0"}
SERVERS = [
    {
        "url": "http://localhost:8000",
        "description": "a local `stembus serve`; a deployment serves the same paths at its "
        "STEMBUS_PUBLIC_BASE_URL",
    }
]
# allOf: pydantic resolves a bare $ref next to a description among its own definitions, and
# these components are added after FastAPI generated its own (refine, below).
LOG_ENTRY_REF = {"allOf": [{"$ref": "#/components/schemas/LogEntry"}]}
KEYS_ENTRY_REF = {"allOf": [{"$ref": "#/components/schemas/KeysEntry"}]}
RESULT_ENTRY_REF = {"allOf": [{"$ref": "#/components/schemas/ResultEntry"}]}

# The bodies a voter sends (docs/client-protocol.md, worked example).
LOGIN_EXAMPLE = {"code": "K7M3-XQ2P-9RTV-4WHD-8NCE"}
_NUMERIC = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def _entry_components() -> dict[str, Any]:
    out: dict[str, Any] = {}
    types: list[tuple[str, Any]] = [
        ("LogEntry", LogEntry),
        ("KeysEntry", KeysEntry),
        ("BallotEntry", BallotEntry),
        ("ResultEntry", ResultEntry),
    ]
    for name, tp in types:
        schema = TypeAdapter(tp).json_schema(ref_template=REF)
        out.update(schema.pop("$defs", {}))
        if name == "LogEntry":
            schema["description"] = (
                "An entry of the public log (docs/log-entries.md), by `type`. Served verbatim: "
                "its RFC 8785 bytes are its Merkle leaf."
            )
        out.setdefault(name, schema)
    return out


def _integral_bounds(node: Any) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in _NUMERIC and isinstance(v, float) and v.is_integer():
                node[k] = int(v)
            else:
                _integral_bounds(v)
    elif isinstance(node, list):
        for v in node:
            _integral_bounds(v)


def refine(spec: dict[str, Any]) -> dict[str, Any]:
    spec["info"]["license"] = LICENSE
    spec["servers"] = SERVERS
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in _entry_components().items():
        schemas.setdefault(name, schema)
    for path_item in spec.get("paths", {}).values():
        for op in path_item.values():
            op.setdefault("security", [])
            described, answer = DOCS.get(op.get("operationId", ""), ("", ""))
            if described and not op.get("description"):
                op["description"] = described
            for status, response in op.get("responses", {}).items():
                if status[:1] == "2" and response.get("description") == "Successful Response":
                    response["description"] = answer or response["description"]
            for status, response in op.get("responses", {}).items():
                content = response.get("content", {})
                if status[:1] in "45" and PROBLEM_JSON in content:
                    response["content"] = {PROBLEM_JSON: content[PROBLEM_JSON]}
            if op.get("operationId") == "auth-login":
                body = op["requestBody"]["content"]["application/json"]
                body["example"] = LOGIN_EXAMPLE
    _integral_bounds(spec)
    return spec
