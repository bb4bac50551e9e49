"""Property-based contract test: schemathesis generates valid and invalid requests for every
operation of the OpenAPI contract and checks the answers against it (no 5xx, documented status
codes, content types and schemas, RFC 9457 problem documents for errors)."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import ElectionFixture

OPERATOR_ONLY = {"/api/v1/elections"}  # GET and POST: the operator's routes


@pytest.fixture(scope="module")
def fuzz_election(app, operator_headers) -> ElectionFixture:  # type: ignore[no-untyped-def]
    # A fresh election of this module's own: the fuzzer mutates it freely.
    with TestClient(app, raise_server_exceptions=False) as c:
        return ElectionFixture(c, operator_headers)


@pytest.fixture(scope="module")
def fuzz_schema(app, fuzz_election):  # type: ignore[no-untyped-def]
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    # Every {election_id} names the real election, so cases get past the 404.
    loaded.config.update(parameters={"path.election_id": fuzz_election.id})
    loaded.config.generation.update(max_examples=5, deterministic=True)
    return loaded


@schemathesis.check
def problem_json_errors(ctx, response, case):  # type: ignore[no-untyped-def]
    if response.status_code >= 400:
        ctype = response.headers.get("content-type", [""])[0]
        assert ctype.startswith("application/problem+json"), (response.status_code, ctype)


# The pytest plugin's parametrize fails with this pytest ("'Function' object has no attribute
# '_nodeid'"), so each operation is run through its Hypothesis strategy directly.
def _fuzz_test(operation, auth):  # type: ignore[no-untyped-def]
    """One operation's deterministic Hypothesis test: 5 generated cases."""

    @settings(
        max_examples=5,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case):  # type: ignore[no-untyped-def]
        # positive_data_acceptance excluded (NOT fixed yet): the contract leaves the ballot's
        # and other crypto fields as plain strings, so schema-valid input is rightly refused
        # with 422; the schemas should declare their formats.
        case.call_and_validate(headers=auth, excluded_checks=[positive_data_acceptance])

    return run


@pytest.mark.xfail(
    strict=True,
    reason="known finding, not fixed yet: ElectionOut.created_at (and likely other timestamps) "
    "is a naive datetime, not an RFC 3339 date-time as the contract says",
)
def test_contract_fuzz(fuzz_schema, fuzz_election, operator_headers):  # type: ignore[no-untyped-def]
    failures = []
    for result in fuzz_schema.get_all_operations():
        operation = result.ok()
        auth = operator_headers if operation.path in OPERATOR_ONLY else fuzz_election.committee
        run = _fuzz_test(operation, auth)
        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
