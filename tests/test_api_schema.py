"""Property-based tests of the REST API against its own OpenAPI schema (schemathesis): no input gives a 5xx.

Bounded so the whole file runs in well under a minute: a few examples per operation, no shrinking
deadline, the report left out (it builds a whole white paper per call; test_api.py covers it).
Writes run against a write-enabled copy of the store with a valid token, so the fuzzer reaches
the watchlist and import code, not only the 401.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402

from test_api import api_store, writable_copy  # noqa: E402


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    from hardtech.presentation.api import create_app
    from hardtech.services.tokens import create_token

    db = writable_copy(api_store(tmp_path_factory), tmp_path_factory.mktemp("api-schema"))
    token = create_token(db, "fuzzer")["token"]
    app = create_app(db, read_only=False, max_upload_bytes=50_000, max_upload_rows=100)
    app.state.fuzz_token = token
    return app


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app).exclude(path="/api/v1/report")


def _run(operation, mode, token: str, examples: int) -> list[str]:
    """Call one operation with `examples` generated cases; the failures as text."""
    from hypothesis import given
    from schemathesis.checks import not_a_server_error

    failures: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} {case.query or ''} → {response.status_code}: "
                            f"{response.text[:300]}")
            return
        case.validate_response(response, checks=[not_a_server_error])

    try:
        check()
    except Unsatisfiable:  # nothing to break: e.g. a negative case for an operation without parameters
        pass
    return failures


@pytest.mark.parametrize("mode_name, examples", [("POSITIVE", 6), ("NEGATIVE", 4)])
def test_no_server_errors(api_schema, fuzz_app, mode_name, examples):
    """Every operation, with valid (positive) and schema-violating (negative) inputs: never a 5xx."""
    from schemathesis import GenerationMode

    mode = getattr(GenerationMode, mode_name)
    operations = [r.ok() for r in api_schema.get_all_operations()]
    assert len(operations) >= 15
    failures = []
    for op in operations:
        failures += _run(op, mode, fuzz_app.state.fuzz_token, examples)
    assert not failures, "\n".join(failures[:20])
