"""Cross-cutting behaviour of the application: request ids, probes, errors, the web app."""


async def test_every_response_carries_a_request_id_and_echoes_a_given_one(client):
    r = await client.get("/healthz")
    assert r.status_code == 200 and len(r.headers["x-request-id"]) == 32
    r = await client.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert r.headers["x-request-id"] == "trace-123"


async def test_readyz_reports_the_schema_at_head(client):
    from services.core.migrate import head_revision

    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["migration"] == head_revision()


async def test_unknown_api_path_is_a_problem_and_a_wrong_method_lists_every_allowed_one(client):
    r = await client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = await client.put("/api/v1/practices")
    assert r.status_code == 405
    assert set(r.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


async def test_a_value_postgres_cannot_store_is_a_422(client, tenant):
    from tests.factories import sign_in

    await sign_in(client, tenant["msp_owner"])
    r = await client.post("/api/v1/practices", json={"name": "Nul\u0000Clinic"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


async def test_a_literal_path_segment_is_not_mistaken_for_a_parameter_in_allow(client):
    r = await client.put("/api/v1/invitations/lookup")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET"
