"""The probe interval is one setting known to both sides: the agent states it in each heartbeat,
Seawall keeps it on the agent (its site's links are "no data" after N of it) and hands it back in
GET /api/v1/agents/me (docs/decisions/0015-links-with-no-data.md)."""

from __future__ import annotations

from tests.factories_telemetry import create_agent, event, inbox
from tests.factories_worker import at, one, send_and_process


async def _stored(db, tenant, agent):
    return await one(db, tenant.msp_id, "SELECT probe_interval_seconds FROM agent WHERE msp_id = :m AND id = :a",
                     a=agent.agent_id)


async def test_a_heartbeat_sets_the_probe_interval_and_agents_me_hands_it_back(client, db, tenant, other_tenant):
    agent = await create_agent(db, tenant.site)
    theirs = await create_agent(db, other_tenant.site)
    assert (await client.get("/api/v1/agents/me", headers=agent.headers)).json()["probe_interval_seconds"] == 60
    await send_and_process(client, db, agent, [event("heartbeat", at(1), probe_interval_seconds=300)])
    assert await _stored(db, tenant, agent) == {"probe_interval_seconds": 300}
    assert (await client.get("/api/v1/agents/me", headers=agent.headers)).json()["probe_interval_seconds"] == 300
    assert (await client.get("/api/v1/agents/me", headers=theirs.headers)).json()["probe_interval_seconds"] == 60


async def test_an_older_heartbeat_does_not_undo_a_newer_probe_interval_and_one_without_it_means_60(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    await send_and_process(client, db, agent, [event("heartbeat", at(1), probe_interval_seconds=300)])
    await send_and_process(client, db, agent, [event("heartbeat", at(30), probe_interval_seconds=10)])  # from the spool
    assert await _stored(db, tenant, agent) == {"probe_interval_seconds": 300}
    # A newer heartbeat from an agent from before the field: the default, whatever order they arrive in.
    await send_and_process(client, db, agent, [event("heartbeat", at(0.5))])
    assert await _stored(db, tenant, agent) == {"probe_interval_seconds": 60}


async def test_a_probe_interval_outside_a_second_to_a_day_is_refused_naming_the_field(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    for bad in (0, 86_401, "60", 1.5):
        r = await client.post("/api/v1/ingest", json={"events": [event("heartbeat", probe_interval_seconds=bad)]},
                              headers=agent.headers)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in r.json()["errors"]] == ["probe_interval_seconds"]
    assert await inbox(db, tenant.msp_id) == []
