"""Every kind of bad ingest input gets a clear problem+json and stores nothing."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest

from services.core.settings import get_settings
from tests.factories import api_token
from tests.factories_inventory import create_link
from tests.factories_telemetry import create_agent, event, inbox, now

LATER = (now() + timedelta(hours=1)).isoformat()

BAD_EVENTS = [
    ("an unknown field", event(practice_id="someone-else"), "practice_id", "not a field"),
    ("occurred_at too old", event(occurred_at=now() - timedelta(days=31)), "occurred_at", "30 days"),
    ("occurred_at in the future", event(occurred_at=now() + timedelta(minutes=10)), "occurred_at", "future"),
    ("a timestamp without offset", {**event(), "occurred_at": "2030-01-01T00:00:00"}, "occurred_at", "timezone"),
    ("an unknown type", event("reboot"), "type", "not a known event type"),
    ("a missing type", {k: v for k, v in event().items() if k != "type"}, "type", "required"),
    ("a missing required field", event("link_sample", link="Fiber"), "up", "required"),
    ("a string where a number goes", event("link_sample", link="Fiber", up=True, latency_ms="12"), "latency_ms", "number"),
    ("loss above 100 %", event("link_sample", link="Fiber", up=True, loss_pct=101), "loss_pct", "100"),
    ("an unknown link", event("link_sample", link="Nope", up=True), "link", "no link"),
    ("finished before started", event("backup_run", job="x", started_at=LATER), "finished_at", "before"),
    ("a restore test naming nothing", event("restore_test", started_at=now().isoformat(), finished_at=now().isoformat(),
                                            success=True), "job", "names its job or its system"),
    ("an over-long event id", {**event(), "id": "x" * 65}, "id", "64"),
]

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("label,bad,field,words", BAD_EVENTS, ids=[b[0] for b in BAD_EVENTS])
async def test_an_invalid_event_refuses_the_whole_batch_and_names_it(client, tenant, db, label, bad, field, words):
    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    events = [event(), event("link_sample", link="Fiber", up=True), bad]
    r = await client.post("/api/v1/ingest", json={"events": events}, headers=agent.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    error = problem["errors"][0]
    assert (error["event_index"], error["event_id"], error["field"]) == (2, bad.get("id"), field), problem
    assert words.lower() in (error["message"] + problem["detail"]).lower(), problem
    assert "Nothing was stored" in problem["detail"]
    assert await inbox(db, tenant.msp_id) == []


@pytest.mark.parametrize("body,field", [
    (b"{not json", "body"), (b'{"events": []}', "events"), (b'{"events": [], "agent": 1}', "agent"),
    (json.dumps({"events": [event() for _ in range(1001)]}).encode(), "events"),
], ids=["not JSON", "no events", "unknown top-level field", "more than 1,000 events"])
async def test_a_malformed_batch_is_refused(client, tenant, db, body, field):
    agent = await create_agent(db, tenant.site)
    r = await client.post("/api/v1/ingest", content=body, headers={**agent.headers, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert field in {e["field"] for e in r.json()["errors"]}
    assert await inbox(db, tenant.msp_id) == []


async def test_an_oversized_body_is_413(client, tenant, db):
    agent = await create_agent(db, tenant.site)
    big = json.dumps({"events": [event(hostname="x" * 250) for _ in range(1000)] * 5}).encode()
    assert len(big) > 1024 * 1024
    r = await client.post("/api/v1/ingest", content=big, headers={**agent.headers, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert await inbox(db, tenant.msp_id) == []


async def test_a_body_over_8_mib_once_decompressed_is_413(client, tenant, db):
    agent = await create_agent(db, tenant.site)
    bomb = gzip.compress(b'{"events": [' + b" " * (9 * 1024 * 1024) + b"]}")
    assert len(bomb) < 1024 * 1024
    r = await client.post("/api/v1/ingest", content=bomb, headers={**agent.headers, **JSON, "Content-Encoding": "gzip"})
    assert r.status_code == 413
    assert await inbox(db, tenant.msp_id) == []


async def test_broken_gzip_and_unknown_encodings_are_refused(client, tenant, db):
    agent = await create_agent(db, tenant.site)
    r = await client.post("/api/v1/ingest", content=b"not gzip at all", headers={**agent.headers, **JSON, "Content-Encoding": "gzip"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    r = await client.post("/api/v1/ingest", content=b"{}", headers={**agent.headers, **JSON, "Content-Encoding": "br"})
    assert r.status_code == 415
    assert await inbox(db, tenant.msp_id) == []


async def test_missing_or_foreign_credentials_are_401(client, tenant, db):
    token = await api_token(db, tenant.msp_id, tenant["msp_owner"])
    for headers in ({}, {"Authorization": "Bearer swa_made-up"}, {"Authorization": f"Bearer {token}"}):
        r = await client.post("/api/v1/ingest", json={"events": [event()]}, headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["content-type"] == "application/problem+json"


async def test_an_agent_over_its_rate_limit_gets_429_with_retry_after(client, tenant, db, monkeypatch):
    monkeypatch.setattr(get_settings(), "ingest_rate_limit", "2/minute")
    agent = await create_agent(db, tenant.site)
    statuses = [(await client.post("/api/v1/ingest", json={"events": [event()]}, headers=agent.headers)) for _ in range(3)]
    assert [r.status_code for r in statuses] == [202, 202, 429]
    assert 1 <= int(statuses[2].headers["Retry-After"]) <= 60
    assert statuses[2].headers["content-type"] == "application/problem+json"
    other = await create_agent(db, tenant.site)  # the budget is per agent
    assert (await client.post("/api/v1/ingest", json={"events": [event()]}, headers=other.headers)).status_code == 202
    assert len(await inbox(db, tenant.msp_id)) == 3
