"""The heartbeat interval is one setting known to both sides: the agent says in each heartbeat which
interval it uses, Seawall judges its silence by that and hands it back in GET /api/v1/agents/me
(docs/decisions/0009-one-silence.md)."""

from __future__ import annotations

from datetime import timedelta

from services.core.alerts.rules import AGENT_SILENT
from services.core.base import utcnow
from tests import factories_alerts as fa
from tests.factories_telemetry import create_agent, event, inbox
from tests.factories_worker import at, one, send_and_process


async def test_a_heartbeat_sets_the_interval_seawall_judges_silence_by_and_agents_me_hands_back(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    assert (await client.get("/api/v1/agents/me", headers=agent.headers)).json()["heartbeat_interval_seconds"] == 60
    await send_and_process(client, db, agent, [event("heartbeat", at(1), heartbeat_interval_seconds=1800)])
    assert (await client.get("/api/v1/agents/me", headers=agent.headers)).json()["heartbeat_interval_seconds"] == 1800

    # 20 minutes unheard: within 30 min + 10 min grace for this agent, past 1 + 10 min by the old 60 s.
    await fa.evaluate(db, tenant, utcnow() + timedelta(minutes=20))
    assert await fa.incidents(db, tenant.msp_id, AGENT_SILENT) == []
    await fa.evaluate(db, tenant, utcnow() + timedelta(minutes=41))
    assert [i.subject_id for i in await fa.incidents(db, tenant.msp_id, AGENT_SILENT, active=True)] == [str(agent.agent_id)]


async def test_an_older_heartbeat_delivered_late_does_not_undo_a_newer_interval(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    await send_and_process(client, db, agent, [event("heartbeat", at(1), heartbeat_interval_seconds=300)])
    await send_and_process(client, db, agent, [event("heartbeat", at(30), heartbeat_interval_seconds=60)])  # from the spool
    row = await one(db, tenant.msp_id, "SELECT heartbeat_interval_seconds FROM agent WHERE msp_id = :m AND id = :a",
                    a=agent.agent_id)
    assert row == {"heartbeat_interval_seconds": 300}
    # A newer heartbeat that states no interval (an agent from before the field) means the default.
    await send_and_process(client, db, agent, [event("heartbeat", at(0.5))])
    row = await one(db, tenant.msp_id, "SELECT heartbeat_interval_seconds FROM agent WHERE msp_id = :m AND id = :a",
                    a=agent.agent_id)
    assert row == {"heartbeat_interval_seconds": 60}


async def test_an_interval_outside_a_second_to_a_day_is_refused_naming_the_field(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    for bad in (0, 86_401, "60"):
        r = await client.post("/api/v1/ingest", json={"events": [event("heartbeat", heartbeat_interval_seconds=bad)]},
                              headers=agent.headers)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in r.json()["errors"]] == ["heartbeat_interval_seconds"]
    assert await inbox(db, tenant.msp_id) == []


async def test_another_msps_agent_keeps_its_own_interval(client, db, tenant, other_tenant):
    ours = await create_agent(db, tenant.site)
    theirs = await create_agent(db, other_tenant.site)
    await send_and_process(client, db, ours, [event("heartbeat", at(1), heartbeat_interval_seconds=900)])
    assert (await client.get("/api/v1/agents/me", headers=theirs.headers)).json()["heartbeat_interval_seconds"] == 60
    assert (await client.get("/api/v1/agents/me", headers=ours.headers)).json()["heartbeat_interval_seconds"] == 900
