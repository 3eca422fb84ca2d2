"""Property-based fuzzing of the JSON API from its own OpenAPI schema: no input, valid or
not, may produce a 5xx, and every client error must carry a JSON ``error``.

Schemathesis's pytest plugin does not run under pytest 9 (it reads ``Function._nodeid``),
so the test drives its Hypothesis strategies directly, per operation and mode.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable

from migfix.server.app import create_app
from migfix.server.explain import Engine
from migfix.server.settings import Settings


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda m: m.value)
def test_no_server_errors(
    settings: Settings, engine: Engine, mode: schemathesis.GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings, engine=engine))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {
        "/api/explain",
        "/api/feedback",
        "/api/playbooks/{playbook_id}",
    }
    seen: list[int] = []

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=30, deadline=None, suppress_health_check=list(HealthCheck)
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call()
            seen.append(response.status_code)
            assert response.status_code < 500, (case.method, case.path, response.text[:300])
            if response.status_code >= 400:
                assert isinstance(response.json()["error"], str)

        try:
            call()
        except Unsatisfiable:
            # No parameters and no body (GET /healthz): there is no invalid request to make.
            assert mode is schemathesis.GenerationMode.NEGATIVE
    assert len(seen) > len(operations)
    if mode is schemathesis.GenerationMode.NEGATIVE:
        assert any(400 <= status < 500 for status in seen)
