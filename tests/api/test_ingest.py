"""POST /api/v1/ingest: recording, dedup, gzip, the worker notification, and foreign objects."""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid

import psycopg

from services.core.database_server import libpq
from services.core.db import Scope
from sqlalchemy import text
from tests.factories_inventory import create_job, create_link, create_system
from tests.factories_telemetry import audit_actions, create_agent, event, inbox


async def test_a_batch_is_recorded_with_its_references_resolved_and_the_tenant_from_the_credential(client, tenant, db):
    agent = await create_agent(db, tenant.site)
    link = await create_link(db, tenant.site, "Comcast fiber")
    backup = await create_link(db, tenant.site, "LTE", role="backup")
    ehr = await create_system(db, tenant.practice, "EHR")
    job = await create_job(db, tenant.practice, "nightly-restic", systems=[ehr])
    events = [
        event("heartbeat", agent_version="0.1.0", hostname="frontdesk-pc"),
        event("link_sample", link="Comcast fiber", up=True, latency_ms=12, loss_pct=0.0, jitter_ms=1.5),
        event("backup_run", job=str(job.id), bytes=1024, snapshot_id="abc123", exit_code=0),
        event("restore_test", system="EHR", started_at=event()["occurred_at"], finished_at=event()["occurred_at"], success=True),
        event("failover", from_link=str(link.id), to_link="LTE", started_at=event()["occurred_at"]),
    ]
    r = await client.post("/api/v1/ingest", json={"events": events}, headers=agent.headers)
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 5, "duplicates": 0}

    rows = await inbox(db, tenant.msp_id)
    assert [row["event_id"] for row in rows] == [e["id"] for e in events]
    assert {(row["source_id"], row["practice_id"], row["site_id"]) for row in rows} == {
        (agent.agent_id, tenant.practice.id, tenant.site.id)}
    payloads = {row["type"]: row["payload"] for row in rows}
    assert payloads["link_sample"] == {"link_id": str(link.id), "up": True, "latency_ms": 12, "loss_pct": 0.0, "jitter_ms": 1.5}
    assert payloads["backup_run"]["job_id"] == str(job.id) and payloads["backup_run"]["bytes"] == 1024
    assert payloads["restore_test"]["system_id"] == str(ehr.id)
    assert (payloads["failover"]["from_link_id"], payloads["failover"]["to_link_id"]) == (str(link.id), str(backup.id))
    assert payloads["heartbeat"] == {"agent_version": "0.1.0", "hostname": "frontdesk-pc"}
    async with db.transaction(Scope(tenant.msp_id)) as s:
        seen = (await s.execute(text("SELECT last_seen_at FROM agent WHERE id = :a"), {"a": agent.agent_id})).scalar()
    assert seen is not None


async def test_duplicates_are_accepted_and_ignored_with_exact_counts(client, tenant, db):
    agent = await create_agent(db, tenant.site)
    first = [event() for _ in range(3)]
    r = await client.post("/api/v1/ingest", json={"events": first}, headers=agent.headers)
    assert r.json() == {"accepted": 3, "duplicates": 0}
    fresh = event()
    again = [first[0], first[2], fresh, dict(fresh)]  # two resent, one new, and the new one twice in one batch
    r = await client.post("/api/v1/ingest", json={"events": again}, headers=agent.headers)
    assert r.status_code == 202
    assert r.json() == {"accepted": 1, "duplicates": 3}
    assert len(await inbox(db, tenant.msp_id)) == 4


async def test_the_same_event_id_from_two_agents_is_two_events(client, tenant, db):
    a, b = await create_agent(db, tenant.site), await create_agent(db, tenant.site)
    e = event()
    for agent in (a, b):
        assert (await client.post("/api/v1/ingest", json={"events": [e]}, headers=agent.headers)).json()["accepted"] == 1
    assert len(await inbox(db, tenant.msp_id)) == 2


async def test_concurrent_resends_of_one_batch_store_it_once(client, tenant, db):
    agent = await create_agent(db, tenant.site)
    batch = {"events": [event() for _ in range(20)]}
    answers = await asyncio.gather(*(client.post("/api/v1/ingest", json=batch, headers=agent.headers) for _ in range(8)))
    assert all(r.status_code == 202 for r in answers)
    assert sum(r.json()["accepted"] for r in answers) == 20
    assert sum(r.json()["duplicates"] for r in answers) == 20 * 7
    assert len(await inbox(db, tenant.msp_id)) == 20


async def test_a_gzipped_body_is_accepted(client, tenant, db):
    agent = await create_agent(db, tenant.site)
    events = [event(hostname="x" * 200) for _ in range(50)]
    body = gzip.compress(json.dumps({"events": events}).encode())
    r = await client.post("/api/v1/ingest", content=body,
                          headers={**agent.headers, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 50, "duplicates": 0}


async def test_a_body_in_an_encoding_other_than_gzip_is_refused_naming_the_content_encoding(client, tenant, db):
    agent = await create_agent(db, tenant.site)
    r = await client.post("/api/v1/ingest", content=json.dumps({"events": [event()]}).encode(),
                          headers={**agent.headers, "Content-Type": "application/json", "Content-Encoding": "br"})
    assert r.status_code == 415 and r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["content-encoding"]
    assert await inbox(db, tenant.msp_id) == []


async def test_recording_notifies_the_worker_with_the_msp_id(client, tenant, db, database_urls):
    agent = await create_agent(db, tenant.site)
    async with await psycopg.AsyncConnection.connect(libpq(database_urls[1]), autocommit=True) as listener:
        await listener.execute("LISTEN seawall_telemetry")
        r = await client.post("/api/v1/ingest", json={"events": [event()]}, headers=agent.headers)
        assert r.status_code == 202
        payloads = [n.payload async for n in listener.notifies(timeout=5, stop_after=1)]
    assert payloads == [str(tenant.msp_id)]


async def test_an_event_naming_another_practices_object_is_refused_and_audited(client, tenant, db):
    agent = await create_agent(db, tenant.site)
    theirs = await create_job(db, tenant.sibling, "sibling-nightly")
    their_link = await create_link(db, tenant.sibling_site, "Sibling fiber")
    events = [event(), event("backup_run", job=str(theirs.id)), event("link_sample", link=str(their_link.id), up=True)]
    r = await client.post("/api/v1/ingest", json={"events": events}, headers=agent.headers)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [(e["event_index"], e["event_id"], e["field"]) for e in errors] == [
        (1, events[1]["id"], "job"), (2, events[2]["id"], "link")]
    assert await inbox(db, tenant.msp_id) == []
    audited = await audit_actions(db, tenant.msp_id, "telemetry.foreign_object_refused")
    assert len(audited) == 1
    assert {x["object_id"] for x in audited[0]["changes"]["refused"]} == {str(theirs.id), str(their_link.id)}
    assert audited[0]["practice_id"] == tenant.practice.id


async def test_an_unknown_name_is_refused_without_an_audit_event(client, tenant, db):
    agent = await create_agent(db, tenant.site)
    r = await client.post("/api/v1/ingest", json={"events": [event("backup_run", job="no-such-job")]}, headers=agent.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "job" and "no backup job" in r.json()["errors"][0]["message"]
    r = await client.post("/api/v1/ingest", json={"events": [event("backup_run", job=str(uuid.uuid4()))]}, headers=agent.headers)
    assert r.status_code == 422
    assert await audit_actions(db, tenant.msp_id, "telemetry.foreign_object_refused") == []
    assert await inbox(db, tenant.msp_id) == []


async def test_a_job_created_after_the_agent_started_is_found_at_once(client, tenant, db):
    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    assert (await client.post("/api/v1/ingest", json={"events": [event("link_sample", link="Fiber", up=True)]},
                              headers=agent.headers)).status_code == 202  # the site's inventory is now cached
    await create_job(db, tenant.practice, "brand-new")
    r = await client.post("/api/v1/ingest", json={"events": [event("backup_run", job="brand-new")]}, headers=agent.headers)
    assert r.status_code == 202, r.text
