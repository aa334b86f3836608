"""Deleting a practice or a site reaches the inbox and the raw link samples.

Those two tables have no foreign keys (migration 0009: a per-row trigger each was most of the
ingest's database cost), so these tests hold the triggers that replaced the cascades to account.
"""

from __future__ import annotations

from tests.factories import create_practice, sign_in
from tests.factories_inventory import create_link
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, ev, rows, sample_event, send, send_and_process


async def _count(db, msp_id, table: str, **where) -> int:
    clause = " AND ".join(f"{k} = :{k}" for k in where)
    found = await rows(db, msp_id, f"SELECT count(*) AS n FROM {table} WHERE msp_id = :m AND {clause}", **where)
    return found[0]["n"]


async def test_deleting_a_practice_removes_its_inbox_rows_and_raw_samples_only(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    other = await create_agent(db, tenant.sibling_site)
    await create_link(db, tenant.site)
    await create_link(db, tenant.sibling_site)
    await send_and_process(client, db, agent, [sample_event("Fiber", at(2)), sample_event("Fiber", at(1))])
    await send_and_process(client, db, other, [sample_event("Fiber", at(1))])
    await send(client, agent, [ev("heartbeat", at(0))])  # still pending when the practice goes
    assert await _count(db, tenant.msp_id, "telemetry_event", practice_id=tenant.practice.id) == 3
    assert await _count(db, tenant.msp_id, "link_sample", practice_id=tenant.practice.id) == 2

    await sign_in(client, tenant["msp_admin"])
    assert (await client.delete(f"/api/v1/practices/{tenant.practice.id}")).status_code == 204

    assert await _count(db, tenant.msp_id, "telemetry_event", practice_id=tenant.practice.id) == 0
    assert await _count(db, tenant.msp_id, "link_sample", practice_id=tenant.practice.id) == 0
    assert await _count(db, tenant.msp_id, "telemetry_event", practice_id=tenant.sibling.id) == 1
    assert await _count(db, tenant.msp_id, "link_sample", practice_id=tenant.sibling.id) == 1


async def test_deleting_a_site_detaches_its_inbox_rows_from_it(client, db, tenant):
    practice, (kept, doomed) = await create_practice(db, tenant.msp_id, sites=2)
    on_doomed = await create_agent(db, doomed)
    on_kept = await create_agent(db, kept)
    await send(client, on_doomed, [ev("heartbeat", at(1))])
    await send(client, on_kept, [ev("heartbeat", at(1))])

    await sign_in(client, tenant["msp_admin"])
    assert (await client.delete(f"/api/v1/practices/{practice.id}/sites/{doomed.id}")).status_code == 204

    left = await rows(db, tenant.msp_id, "SELECT source_id, site_id FROM telemetry_event WHERE msp_id = :m AND practice_id = :p",
                      p=practice.id)
    # The deleted site's agent went with it (cascade); its event stays with the practice, without a site.
    assert sorted((r["source_id"], r["site_id"]) for r in left) == sorted([(on_doomed.agent_id, None),
                                                                            (on_kept.agent_id, kept.id)])


async def test_an_event_recorded_after_its_practice_is_deleted_is_refused(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    await sign_in(client, tenant["msp_admin"])
    assert (await client.delete(f"/api/v1/practices/{tenant.practice.id}")).status_code == 204
    client.cookies.clear()
    r = await client.post("/api/v1/ingest", json={"events": [ev("heartbeat", at(0))]}, headers=agent.headers)
    assert r.status_code == 401
    assert await _count(db, tenant.msp_id, "telemetry_event", practice_id=tenant.practice.id) == 0
