"""The hot path (services/api/hotpath.py) answers ingest and pings exactly as the documented FastAPI routes do."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest
from fastapi import FastAPI

from services.core.settings import get_settings
from tests.factories_inventory import create_job, create_link
from tests.factories_telemetry import create_agent, event, inbox, ping_url


@pytest.fixture
async def routes_client(app):
    """The same app with the hot path bypassed: every request goes through FastAPI's routes."""

    async def through_fastapi(scope, receive, send):
        await FastAPI.__call__(app, scope, receive, send)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=through_fastapi), base_url="https://testserver") as c:
        yield c


RID = "3f1c2a8e-0000-4000-8000-000000000001"


def _answer(r: httpx.Response) -> tuple:
    body = r.json() if r.headers.get("content-type", "").endswith("json") else r.text
    if isinstance(body, dict) and body.get("type", "").endswith("internal-error"):
        body.pop("detail")
    return r.status_code, r.headers.get("content-type"), r.headers.get("retry-after"), body


async def test_ingest_answers_are_the_same_through_the_hot_path_and_the_fastapi_route(client, routes_client, tenant, db):
    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    good = [event("link_sample", link="Fiber", up=True)]
    cases = [
        ({"events": good}, agent.headers),
        ({"events": [event("link_sample", link="Nowhere", up=True)]}, agent.headers),
        ({"events": [{**event(), "colour": "red"}]}, agent.headers),
        ({"events": []}, agent.headers),
        ({"events": good}, {"Authorization": "Bearer swa_not-a-credential"}),
        ({"events": good}, {}),
    ]
    for body, headers in cases:
        hot = await client.post("/api/v1/ingest", json=body, headers=headers)
        routed = await routes_client.post("/api/v1/ingest", json=body, headers=headers)
        assert _answer(hot)[:3] == _answer(routed)[:3], (body, hot.text, routed.text)
        if hot.status_code == 202:
            assert hot.json() == {"accepted": 1, "duplicates": 0} and routed.json() == {"accepted": 0, "duplicates": 1}
        else:
            assert hot.json() == routed.json()
        assert hot.headers["x-request-id"]
    raw = json.dumps({"events": [event()]}).encode()
    for extra, content in (({"Content-Encoding": "br"}, raw), ({"Content-Encoding": "gzip"}, gzip.compress(raw)[:-4]),
                           ({}, b"{not json"), ({"Content-Type": "text/plain"}, raw), ({}, b"[" * 5_000 + b"]" * 5_000)):
        headers = {**agent.headers, "Content-Type": "application/json", **extra}
        hot = await client.post("/api/v1/ingest", content=content, headers=headers)
        routed = await routes_client.post("/api/v1/ingest", content=content, headers=headers)
        assert _answer(hot) == _answer(routed) and hot.status_code in (415, 422)
    assert len(await inbox(db, tenant.msp_id)) == 1


async def test_a_batch_posted_with_a_trailing_slash_is_recorded_not_redirected(client, routes_client, tenant, db):
    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    for c in (client, routes_client):
        r = await c.post("/api/v1/ingest/", json={"events": [event("link_sample", link="Fiber", up=True)]}, headers=agent.headers)
        assert r.status_code == 202, (r.status_code, r.headers.get("location"))
    assert len(await inbox(db, tenant.msp_id)) == 2


async def test_other_methods_on_the_hot_paths_still_get_fastapis_405(client):
    r = await client.get("/api/v1/ingest")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert r.headers["content-type"] == "application/problem+json"
    r = await client.delete("/ping/swp_anything")
    assert r.status_code == 405


async def test_ping_answers_are_the_same_through_the_hot_path_and_the_fastapi_routes(client, routes_client, tenant, db,
                                                                                     monkeypatch):
    monkeypatch.setattr(get_settings(), "ping_rate_limit", "100/second")
    job = await create_job(db, tenant.practice, "borgmatic", site_id=tenant.site.id)
    url = await ping_url(db, job)
    for method, path in (("POST", url), ("GET", url + "/start"), ("GET", url + "/7"), ("GET", url + "/256"),
                         ("GET", url + "?rid="), ("GET", url + "?rid=a&rid=" + RID), ("GET", url + "?rid=not-a-uuid"),
                         ("GET", "/ping/swp_unknown"), ("POST", "/ping/swp_unknown/fail"), ("HEAD", url), ("GET", url + "/"),
                         ("POST", url + "/fail/"), ("GET", url + "/restart/")):
        hot = await client.request(method, path, content=b"log" if method == "POST" else None)
        routed = await routes_client.request(method, path, content=b"log" if method == "POST" else None)
        assert _answer(hot) == _answer(routed), (method, path)
    rows = await inbox(db, tenant.msp_id)
    assert [r["payload"]["kind"] for r in rows] == (["success"] * 2 + ["start"] * 2 + ["fail"] * 2 + ["success"] * 2
                                                   + ["success"] * 4 + ["fail"] * 2)
    assert [r["payload"].get("rid") for r in rows if r["payload"].get("rid")] == [RID, RID]
