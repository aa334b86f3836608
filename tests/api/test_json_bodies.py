"""Every JSON entry point refuses, before parsing, what would crash or mislead the parser (issue 26, defect 2):
bodies nested past MAX_DEPTH, other media types, and NUL characters — always as problem+json naming the field."""

from __future__ import annotations

import gzip
import json
import re

import httpx
import pytest
from fastapi import FastAPI

from services.core.json_limits import MAX_DEPTH
from tests.factories import sign_in
from tests.factories_telemetry import create_agent, event, inbox

JSON = {"Content-Type": "application/json"}


def _arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


# The probe's bodies: nesting at the top, deep objects, and deep arrays inside a field of an otherwise sound body.
DEPTHS = [
    pytest.param(lambda field: _arrays(800), id="800 nested arrays"),
    pytest.param(lambda field: _arrays(1_000), id="1,000 nested arrays in 2,000 bytes"),
    pytest.param(lambda field: '{"a":' * 5_000 + "1" + "}" * 5_000, id="a 5,000-deep object"),
    pytest.param(lambda field: field(_arrays(50_000)), id="a 50,000-deep array inside a field"),
    pytest.param(lambda field: field(_arrays(MAX_DEPTH)), id="just past the limit inside a field"),
]


@pytest.fixture
async def routes_client(app):
    """The app with the ingest hot path bypassed: ingest served by its FastAPI route."""

    async def through_fastapi(scope, receive, send):
        await FastAPI.__call__(app, scope, receive, send)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=through_fastapi), base_url="https://testserver") as c:
        yield c


def _assert_refused_naming_the_body(r: httpx.Response) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["errors"][0]["field"] == "body" and str(MAX_DEPTH) in problem["errors"][0]["message"], problem


@pytest.mark.parametrize("front", ["hot path", "FastAPI route"])
@pytest.mark.parametrize("nested", DEPTHS)
async def test_a_deeply_nested_ingest_body_is_refused_and_nothing_is_stored(client, routes_client, db, tenant, front, nested):
    agent = await create_agent(db, tenant.site)
    template = json.dumps({"events": [{**event(), "hostname": "@"}]})
    body = nested(lambda value: template.replace('"@"', value)).encode()
    r = await (client if front == "hot path" else routes_client).post("/api/v1/ingest", content=body,
                                                                      headers={**agent.headers, **JSON})
    _assert_refused_naming_the_body(r)
    assert await inbox(db, tenant.msp_id) == []


async def test_a_deeply_nested_gzipped_ingest_body_is_refused_once_decompressed(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    body = gzip.compress(_arrays(50_000).encode())
    r = await client.post("/api/v1/ingest", content=body, headers={**agent.headers, **JSON, "Content-Encoding": "gzip"})
    _assert_refused_naming_the_body(r)


async def test_a_batch_nested_exactly_to_the_limit_is_judged_by_its_schema_not_its_depth(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    # The batch object, its events array and the event object are 3 levels: MAX_DEPTH - 3 more reach the limit exactly.
    body = json.dumps({"events": [{**event(), "hostname": "@"}]}).replace('"@"', _arrays(MAX_DEPTH - 3))
    r = await client.post("/api/v1/ingest", content=body.encode(), headers={**agent.headers, **JSON})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "hostname"


@pytest.mark.parametrize("nested", DEPTHS)
async def test_a_deeply_nested_body_is_refused_by_every_other_json_endpoint_and_nothing_is_created(client, tenant, nested):
    await sign_in(client, tenant["msp_owner"])
    before = (await client.get("/api/v1/practices")).json()
    body = nested(lambda value: '{"name": ' + value + "}")
    r = await client.post("/api/v1/practices", content=body.encode(), headers=JSON)
    _assert_refused_naming_the_body(r)
    assert r.headers["x-request-id"]
    r = await client.put("/api/v1/alert-policy", content=body.encode(), headers=JSON)
    _assert_refused_naming_the_body(r)
    assert (await client.get("/api/v1/practices")).json() == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_ingest_refuses_a_json_body_sent_as_another_media_type(client, routes_client, db, tenant, content_type):
    agent = await create_agent(db, tenant.site)
    body = json.dumps({"events": [event()]}).encode()
    headers = {**agent.headers, **({"Content-Type": content_type} if content_type else {})}
    for front in (client, routes_client):
        r = await front.post("/api/v1/ingest", content=body, headers=headers)
        assert r.status_code == 415, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["field"] == "content-type"
        r = await front.post("/api/v1/ingest", content=gzip.compress(body), headers={**headers, "Content-Encoding": "gzip"})
        assert r.status_code == 415, r.text
    assert await inbox(db, tenant.msp_id) == []
    r = await client.post("/api/v1/ingest", content=body, headers={**agent.headers, "Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 202, r.text


def _json_operations(app) -> list[tuple[str, str]]:
    out = []
    for path, operations in app.openapi()["paths"].items():
        for method, op in operations.items():
            if "application/json" in op.get("requestBody", {}).get("content", {}) and path != "/api/v1/ingest":
                out.append((method.upper(), path))
    return out


async def test_every_json_endpoint_answers_415_to_another_media_type(client, app, tenant):
    await sign_in(client, tenant["msp_owner"])
    operations = _json_operations(app)
    assert len(operations) > 40
    for method, template in operations:
        path = template.replace("{rule_id}", "backup.failed_in_a_row")
        path = re.sub(r"\{[^}]+\}", str(tenant.practice.id), path)
        for content_type in ("text/plain", "application/xml"):
            r = await client.request(method, path, content=b'{"name": "x"}', headers={"Content-Type": content_type})
            assert r.status_code == 415, (method, template, content_type, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["errors"][0]["field"] == "content-type"
    r = await client.post("/api/v1/practices", content=gzip.compress(b'{"name": "x"}'),
                          headers={**JSON, "Content-Encoding": "gzip"})
    assert r.status_code == 415 and r.json()["errors"][0]["field"] == "content-encoding"
    r = await client.post("/api/v1/practices", content=b'{"name": "Suffix Clinic"}',
                          headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 201, r.text


async def test_a_json_body_over_the_limit_is_413(client, tenant):
    from services.core.json_limits import MAX_JSON_BODY

    await sign_in(client, tenant["msp_owner"])
    body = b'{"name": "' + b"x" * MAX_JSON_BODY + b'"}'
    r = await client.post("/api/v1/practices", content=body, headers=JSON)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"


async def test_a_nul_character_is_refused_naming_every_field_that_holds_one(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    r = await client.post("/api/v1/practices", json={"name": "Nul\u0000Clinic", "kind": "den\u0000tal"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert [(e["field"], e["in"]) for e in r.json()["errors"]] == [("name", "body"), ("kind", "body")]
    r = await client.patch(f"/api/v1/practices/{tenant.practice.id}", json={"name": "a\u0000b"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    r = await client.put("/api/v1/alert-policy", json={"rules": {"backup.failed_in_a_row": {"params": {"runs\u0000": 2}}}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rules.backup.failed_in_a_row.params"
    for path, name in (("/api/v1/portfolio", "q"), ("/api/v1/portfolio", "kind"), ("/api/v1/incidents", "rule_id")):
        r = await client.get(path, params={name: "a\u0000b"})
        assert r.status_code == 422, (path, name, r.text)
        assert r.json()["errors"][0] == {"field": name, "message": "must not contain the NUL character", "in": "query"}
    practice = (await client.get(f"/api/v1/practices/{tenant.practice.id}")).json()
    assert "\u0000" not in practice["name"]


async def test_a_nul_character_in_another_msps_practice_is_refused_before_anything_is_looked_up(client, tenant, other_tenant):
    await sign_in(client, tenant["msp_owner"])
    r = await client.patch(f"/api/v1/practices/{other_tenant.practice.id}", json={"name": "a\u0000b"})
    assert r.status_code == 422  # says nothing about the practice: it is refused the same whether it exists or not
    r = await client.patch(f"/api/v1/practices/{other_tenant.practice.id}", json={"name": "ab"})
    assert r.status_code == 404


async def test_a_json_syntax_error_names_the_body_not_a_character_offset(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    r = await client.post("/api/v1/practices", content=b'{"name": "Broken', headers=JSON)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    error = r.json()["errors"][0]
    assert error["field"] == "body" and "not valid JSON" in error["message"] and "character 9" in error["message"], error
    assert "body" in r.json()["detail"]


async def test_a_body_that_is_not_utf8_is_a_422_naming_the_body_not_a_bare_400(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    for body in (b'{"name": "Caf\xe9 Clinic"}', '{"name": "Clinic"}'.encode("utf-16")):
        r = await client.post("/api/v1/practices", content=body, headers=JSON)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "body" and "UTF-8" in r.json()["errors"][0]["message"]
