"""Property-based testing of the whole API from its OpenAPI document: no 5xx, responses match the schema."""

from __future__ import annotations

import asyncio
import json

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from services.api.app import create_app
from services.core.json_limits import MAX_DEPTH
from tests.factories import api_token, build_tenant
from tests.factories_telemetry import create_agent

# Ending the token's own access would turn the rest of the run into 401s.
EXCLUDED_OPERATIONS = ["logout"]

schema = schemathesis.openapi.from_dict(create_app().openapi()).exclude(operation_id=EXCLUDED_OPERATIONS)


@pytest.fixture(scope="module")
def module_tenant(live_server, db):
    return asyncio.get_event_loop().run_until_complete(build_tenant(db))


@pytest.fixture(scope="module")
def auth_headers(module_tenant, db):
    """A read-write API token of an MSP owner in a tenant of its own."""
    token = asyncio.get_event_loop().run_until_complete(api_token(db, module_tenant.msp_id, module_tenant["msp_owner"]))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def agent_headers(module_tenant, db):
    """An agent's credential, for ingest."""
    return asyncio.get_event_loop().run_until_complete(create_agent(db, module_tenant.site)).headers


# What the API promises (issue 2): no 5xx, and every response — status, content type, headers and
# body — as documented. Not included: Schemathesis's guesses that a schema-valid request must be
# accepted (business rules such as "weights add up to 100" are not expressible in the schema, and
# their 422 names the field) or that any schema-violating one must be refused.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, unsupported_method]


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema_and_never_fails(case, live_server, auth_headers):
    case.call_and_validate(base_url=live_server.url, headers=auth_headers, checks=CHECKS)


# Issue 26 #2: a body nested past MAX_DEPTH — at the top, or inside a field of a body the schema
# would accept — is refused by every JSON operation with a documented 422 naming the body, before
# any parser recurses into it. Sent as raw text: a client-side json.dumps would itself recurse.
JSON_BODY_OPERATIONS = [op["operationId"] for operations in schema.raw_schema["paths"].values() for op in operations.values()
                        if "application/json" in op.get("requestBody", {}).get("content", {})
                        and op["operationId"] not in EXCLUDED_OPERATIONS]


def _nested(body, depth: int, opener: str) -> bytes:
    closer = "]" if opener == "[" else "}"
    deep = opener * depth + ("" if opener == "[" else "1") + closer * depth
    if isinstance(body, dict) and body:
        first = next(iter(body))
        text = json.dumps({**body, first: "\u0001deep\u0001"})
        return text.replace(json.dumps("\u0001deep\u0001"), deep, 1).encode()
    return deep.encode()


@schema.include(operation_id=JSON_BODY_OPERATIONS).parametrize()
@schema.given(depth=st.integers(MAX_DEPTH + 1, 60_000), opener=st.sampled_from(["[", '{"a":']))
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_json_operation_refuses_a_deeply_nested_body_as_documented(case, depth, opener, live_server, auth_headers,
                                                                        agent_headers):
    credential = agent_headers if case.path == "/api/v1/ingest" else auth_headers
    kwargs = case.as_transport_kwargs(base_url=live_server.url, headers={**credential, "Content-Type": "application/json"})
    kwargs.pop("json", None)
    response = requests.request(**{**kwargs, "data": _nested(case.body, depth, opener)}, timeout=30)
    assert response.status_code == 422, (case.operation.label, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "body"
    case.validate_response(response, checks=[status_code_conformance, content_type_conformance, response_schema_conformance])
