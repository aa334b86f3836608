"""PostgreSQL cannot store NUL in text or jsonb: an event carrying one is refused with a clear 422 (not a 500),
and a ping log keeps its text with the NUL replaced."""

from __future__ import annotations

import pytest

from tests.factories_inventory import create_job
from tests.factories_telemetry import create_agent, event, ping_url


@pytest.mark.parametrize("field", ["hostname", "agent_version"])
async def test_a_nul_character_in_an_event_is_refused_and_names_the_event(client, db, tenant, field):
    agent = await create_agent(db, tenant.site)
    good = event("heartbeat")
    bad = event("heartbeat", **{field: "pc\u0000one"})
    r = await client.post("/api/v1/ingest", json={"events": [good, bad]}, headers=agent.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = r.json()["errors"]
    assert errors[0]["event_index"] == 1 and errors[0]["field"] == field
    # Nothing of the batch was stored: the good event is accepted as new when sent again alone.
    again = await client.post("/api/v1/ingest", json={"events": [good]}, headers=agent.headers)
    assert again.json() == {"accepted": 1, "duplicates": 0}


async def test_a_nul_character_in_an_event_id_is_refused(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    bad = event("heartbeat")
    bad["id"] = "a\u0000b"
    r = await client.post("/api/v1/ingest", json={"events": [bad]}, headers=agent.headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "id"


async def test_a_ping_keeps_a_log_with_a_nul_byte_and_refuses_a_nul_run_id(client, db, tenant):
    job = await create_job(db, tenant.practice, "nas-nightly")
    path = await ping_url(db, job)
    r = await client.post(path, content=b"copied 10 files\x00\x01 done")
    assert r.status_code == 200, r.text
    r = await client.post(f"{path}?rid=a%00b", content=b"log")
    assert r.status_code == 400 and "rid" in r.text
