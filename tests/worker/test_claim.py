"""The set-based batch path (claim.py) and adaptive batch sizes: the same guarantees as before, in SQL."""

from __future__ import annotations

import asyncio
import re

import psycopg
import pytest
from sqlalchemy import text

from services.core.database_server import libpq
from services.core.db import Scope, driver_connection
from services.core.telemetry.claim import CLAIM_AND_APPEND, claim_params
from services.core.telemetry.processing import drain
from services.worker import consumer as consumer_module
from services.worker.consumer import TelemetryConsumer
from tests.explain import plan_nodes
from tests.factories_inventory import create_link
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, ev, one, pending, sample_event, send


async def test_a_link_sample_the_database_cannot_read_is_set_aside_as_a_dead_letter_and_the_others_still_count(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    link = await create_link(db, tenant.site, "Fiber")
    moment = at(10)
    await send(client, agent, [sample_event("Fiber", moment.replace(second=s, microsecond=0)) for s in (1, 2, 3)])
    # As if written by a buggy release: "up" is no boolean, which the claim's SQL refuses.
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE telemetry_event SET payload = jsonb_set(payload, '{up}', '\"maybe\"')"
                             " WHERE msp_id = :m AND seq = (SELECT min(seq) FROM telemetry_event WHERE msp_id = :m)"),
                        {"m": tenant.msp_id})
    assert await drain(db, tenant.msp_id) == 3
    assert await pending(db, tenant.msp_id) == 0
    letter = await one(db, tenant.msp_id, "SELECT type, field FROM telemetry_dead_letter WHERE msp_id = :m")
    assert letter == {"type": "link_sample", "field": "up"}
    agg = await one(db, tenant.msp_id, "SELECT sum(samples) AS n FROM link_sample_5m WHERE msp_id = :m")
    raw = await one(db, tenant.msp_id, "SELECT count(*) AS n FROM link_sample WHERE msp_id = :m")
    assert agg["n"] == 2 and raw["n"] == 2
    state = await one(db, tenant.msp_id, "SELECT up, last_sample_at FROM link_state WHERE msp_id = :m AND link_id = :l", l=link.id)
    assert state["up"] is True and state["last_sample_at"] == moment.replace(second=3, microsecond=0)


async def test_of_two_heartbeats_at_the_same_instant_the_larger_event_id_in_code_point_order_wins(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    moment = at(1)
    # "a-Z" < "a-a" by code point (as Python compares); a linguistic collation would order them the other way.
    first = {**ev("heartbeat", moment, agent_version="9.9.9-upper"), "id": "a-Z"}
    second = {**ev("heartbeat", moment, agent_version="1.0.0-lower"), "id": "a-a"}
    await send(client, agent, [second, first])
    assert await drain(db, tenant.msp_id) == 2
    row = await one(db, tenant.msp_id, "SELECT agent_version, last_seen_at FROM agent WHERE msp_id = :m AND id = :a",
                    a=agent.agent_id)
    assert row["agent_version"] == "1.0.0-lower" and row["last_seen_at"] >= moment
    state = await one(db, tenant.msp_id, "SELECT last_heartbeat_at FROM agent_state WHERE msp_id = :m AND agent_id = :a",
                      a=agent.agent_id)
    assert state["last_heartbeat_at"] == moment


@pytest.mark.parametrize("order", ["larger id first", "smaller id first"])
async def test_of_two_heartbeats_at_the_same_instant_in_separate_batches_the_larger_event_id_wins(client, db, tenant, order):
    """The same rule across batches (migration 0012): before, whichever batch came first won."""
    agent = await create_agent(db, tenant.site)
    moment = at(1)
    larger = {**ev("heartbeat", moment, agent_version="2.0.0-larger-id"), "id": "hb-b"}
    smaller = {**ev("heartbeat", moment, agent_version="1.0.0-smaller-id"), "id": "hb-a"}
    for event in ([larger, smaller] if order == "larger id first" else [smaller, larger]):
        await send(client, agent, [event])
        assert await drain(db, tenant.msp_id) == 1
    row = await one(db, tenant.msp_id, "SELECT agent_version FROM agent WHERE msp_id = :m AND id = :a", a=agent.agent_id)
    assert row["agent_version"] == "2.0.0-larger-id"


async def test_a_backlogged_msp_gets_growing_batches_and_a_caught_up_one_smaller_ones_again(
        client, db, tenant, database_urls, monkeypatch):
    agent = await create_agent(db, tenant.site)
    await send(client, agent, [ev("heartbeat", at(10 - i / 10)) for i in range(10)])
    # The consumer serves every MSP with pending telemetry, and other tests (other xdist workers)
    # share the database: only this tenant's batches are recorded and counted.
    sizes: list[int] = []
    applied: list[int] = []
    real = consumer_module.process_batch

    async def recording(database, msp_id, batch_size):
        n = await real(database, msp_id, batch_size)
        if msp_id == tenant.msp_id and n > 0:
            sizes.append(batch_size)
            applied.append(n)
        return n

    async def until_applied(total: int) -> None:
        for _ in range(200):
            if sum(applied) >= total:
                return
            await asyncio.sleep(0.05)

    monkeypatch.setattr(consumer_module, "process_batch", recording)
    consumer = TelemetryConsumer(db, libpq(database_urls[1]), workers=1, batch_size=2, sweep_seconds=3600)
    task = asyncio.create_task(consumer.run())
    try:
        await until_applied(10)
        assert sum(applied) == 10
        assert sizes[:3] == [2, 4, 8]  # 2 full, 4 full, then 4 of 8: caught up
        await send(client, agent, [ev("heartbeat", at(0))])
        await until_applied(11)
        assert sum(applied) == 11 and sizes[-1] == 4  # the size that took the last 4
        await send(client, agent, [ev("heartbeat", at(0))])
        await until_applied(12)
        assert sum(applied) == 12 and sizes[-1] == 2  # after a batch of 1: the base size
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_claim_probes_for_its_rows_even_under_statistics_older_than_the_msp(client, db, tenant, database_urls):
    """A new MSP's first minute: the tables were last analysed before it had rows, so the planner
    believes it has a row or so in each. The claim must still find its rows by address and its
    agents' and links' state by key, not scan the MSP's history or rescan its state rows per agent
    (the single-MSP benchmark's runaway: 12.7 s per claim, growing with every batch; 0014)."""
    agents = [await create_agent(db, tenant.site, hostname=f"pc{i}") for i in range(4)]
    for name in ("Fiber", "LTE"):
        await create_link(db, tenant.site, name)
    with psycopg.connect(libpq(database_urls[0]), autocommit=True) as owner:
        owner.execute("ANALYZE telemetry_event, agent_state, link_state")
    # History the MSP sent since: processed rows a scan by MSP would have to read.
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text(
            "INSERT INTO telemetry_event (msp_id, source_id, event_id, practice_id, site_id, type, occurred_at, payload, processed_at)"
            " SELECT :m, :a, 'old-' || g, :p, :s, 'heartbeat', now() - interval '1 hour', '{}', now()"
            " FROM generate_series(1, 3000) AS g"), {"m": tenant.msp_id, "a": agents[0].agent_id, "p": tenant.site.practice_id,
                                                     "s": tenant.site.id})
    for round_ in (2, 1):  # the first round creates the agents' and links' state rows, the second is claimed
        for agent in agents:
            await send(client, agent, [ev("heartbeat", at(round_)), sample_event("Fiber", at(round_)), sample_event("LTE", at(round_))])
        if round_ == 2:
            assert await drain(db, tenant.msp_id) == 12

    async with db.transaction(Scope(tenant.msp_id)) as s:
        pg = await driver_connection(s)
        cur = await pg.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + CLAIM_AND_APPEND, claim_params(tenant.msp_id, 1000))
        plan = (await cur.fetchone())[0][0]["Plan"]
    nodes = list(plan_nodes(plan))
    updates = [n for n in nodes if n.get("Node Type") == "ModifyTable" and n.get("Relation Name") == "telemetry_event"]
    assert len(updates) == 1 and updates[0]["Actual Rows"] == 12
    # The rows it updates (not the pending scan of its subquery that chose them).
    scans = [n for n in plan_nodes(updates[0], subplans=False) if n.get("Relation Name") == "telemetry_event" and n is not updates[0]]
    assert [n["Node Type"] for n in scans] == ["Tid Scan"], scans
    assert all(n.get("Rows Removed by Filter", 0) == 0 for n in scans)
    # The agents' and links' state rows are looked up by key, one lookup per agent or link heard,
    # not joined to all the MSP's state rows and compared row by row in the join.
    lookups = {n["Relation Name"] for n in nodes if n.get("Relation Name") in ("agent_state", "link_state")
               and re.search(r"agent_id = hb\.id|link_id = \w+\.link_id", n.get("Index Cond", "") + n.get("Filter", ""))}
    assert lookups == {"agent_state", "link_state"}
    joined = [n for n in nodes if n.get("Join Filter") and any(c.get("Relation Name") in ("agent_state", "link_state") for c in plan_nodes(n))
              and re.search(r"agent_id = hb\.id|link_id = \w+\.link_id", n["Join Filter"])]
    assert joined == [], [(n["Node Type"], n["Join Filter"]) for n in joined]
