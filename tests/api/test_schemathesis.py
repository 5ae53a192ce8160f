"""schemathesis against the live app: every operation, generated inputs, with a token of every
scope. No answer may be a server error, and every answer (status, content type, headers,
body) must be one the OpenAPI document describes."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from promkm_qr.api.clients import SCOPES
from tests.api.conftest import bearer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


OPERATIONS = (
    "/api/v1/documents",
    "/api/v1/documents/{document_id}/file",
    "/api/v1/compliance/tpp-file",
    "/api/v1/compliance/asn",
    "/api/v1/compliance/opd",
    "/api/v1/reports",
    "/api/v1/stalls",  # GET
    "/api/v1/stalls",  # POST (write:stalls)
    "/api/v1/roster",
)


@pytest.mark.slow
def test_every_operation_answers_as_documented(app, live_server, city):
    # schemathesis's pytest loader for live fixtures does not run on this pytest, so each
    # operation is driven through its hypothesis strategy directly (schemathesis's Python API).
    schema = schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json")
    headers = bearer(*SCOPES)
    app.config["API_RATE_LIMIT"] = "100000/minute"  # room for the generated calls
    tested = []
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            tested.append(operation.path)

            @given(case=operation.as_strategy())
            @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
            def answers_as_documented(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            answers_as_documented()
    finally:
        del app.config["API_RATE_LIMIT"]
    assert sorted(tested) == sorted(OPERATIONS)
