"""The inbox writer answers each request of a group commit with its own accepted/duplicate counts,
whether the group's sources are all different (counted per source) or one source sent several
requests at once (told apart by event id)."""

from __future__ import annotations

import psycopg
import pytest

from services.core.database_server import libpq
from services.core.secrets import hash_token
from services.core.telemetry.inbox import _RECORD_COUNTED, _SCOPE, InboxWriter, Row, Submission
from tests.explain import plan_nodes
from tests.factories_inventory import create_job
from tests.factories_telemetry import create_agent, inbox, now


@pytest.fixture
async def writer(db):
    w = InboxWriter(db)
    yield w
    for conn in w._idle:  # the writer keeps its connections for the process's life; not the test's
        await conn.close()


def _submission(agent, event_ids: list[str]) -> Submission:
    at = now()
    return Submission("agent", agent.msp_id, agent.practice_id, agent.site_id, agent.agent_id, hash_token(agent.credential),
                      [Row(e, "heartbeat", at, {}) for e in event_ids])


async def test_a_group_of_different_agents_counts_each_request_with_its_own_duplicates(db, tenant, writer):
    a, b = await create_agent(db, tenant.site), await create_agent(db, tenant.site)
    first = await writer._write([_submission(a, ["a1", "a2"])])
    assert [(o.accepted, o.duplicates) for o in first] == [(2, 0)]
    # a resends a2 and repeats a3 within its request; b sends the same ids, which are its own events
    outcomes = await writer._write([_submission(a, ["a2", "a3", "a3"]), _submission(b, ["a1", "a2", "a3"])])
    assert [(o.authorised, o.accepted, o.duplicates) for o in outcomes] == [(True, 1, 2), (True, 3, 0)]
    assert len(await inbox(db, tenant.msp_id)) == 6


async def test_concurrent_requests_of_one_agent_in_a_group_count_each_new_event_once(db, tenant, writer):
    a = await create_agent(db, tenant.site)
    outcomes = await writer._write([_submission(a, ["e1", "e2"]), _submission(a, ["e2", "e3"]), _submission(a, ["e1"])])
    # e2 is new for the first request that carried it; e1 in the third is a duplicate of the first
    assert [(o.accepted, o.duplicates) for o in outcomes] == [(2, 0), (1, 1), (0, 1)]
    assert [r["event_id"] for r in await inbox(db, tenant.msp_id)] == ["e1", "e2", "e3"]


async def test_a_submission_whose_credential_no_longer_matches_is_refused_alone_in_its_group(db, tenant, writer):
    a, b = await create_agent(db, tenant.site), await create_agent(db, tenant.site)
    stale = _submission(b, ["b1"])
    stale.credential_hash = hash_token("swa_not-the-credential")
    outcomes = await writer._write([_submission(a, ["a1"]), stale])
    assert [(o.authorised, o.accepted) for o in outcomes] == [(True, 1), (False, 0)]
    assert [r["event_id"] for r in await inbox(db, tenant.msp_id)] == ["a1"]


async def test_the_record_statement_probes_each_source_by_key_even_under_statistics_older_than_the_msp(
        db, tenant, writer, database_urls):
    """A new MSP's first minute: agent and ping_key were last analysed before it had any, so the planner
    takes it for a row or so. The credential check must still look each source up by its key, not read
    all the MSP's agents or ping keys for every group; a group with no agent due for last_seen_at
    must read no agent row for it."""
    job = await create_job(db, tenant.practice)
    with psycopg.connect(libpq(database_urls[0]), autocommit=True) as owner:
        owner.execute("ANALYZE agent, ping_key")
        # Then the MSP enrols its fleet and sets up its backup tools' ping URLs: more agents and ping
        # keys than a page or two, which a scan would read.
        owner.execute("INSERT INTO agent (msp_id, id, practice_id, site_id, hostname, agent_version, credential_hash,"
                      " heartbeat_interval_seconds) SELECT %s, gen_random_uuid(), %s, %s, 'pc' || g, '0.1.0',"
                      " sha256(g::text::bytea), 60 FROM generate_series(1, 2000) AS g",
                      (tenant.msp_id, tenant.site.practice_id, tenant.site.id))
        owner.execute("INSERT INTO backup_job SELECT (jsonb_populate_record(NULL::backup_job, to_jsonb(j)"
                      " || jsonb_build_object('id', gen_random_uuid(), 'name', 'job ' || g))).*"
                      " FROM backup_job j, generate_series(1, 2000) AS g WHERE j.msp_id = %s AND j.id = %s",
                      (tenant.msp_id, job.id))
        owner.execute("INSERT INTO ping_key (msp_id, id, practice_id, backup_job_id, key_hash, key_encrypted)"
                      " SELECT msp_id, gen_random_uuid(), practice_id, id, sha256(id::text::bytea), '\\x00'"
                      " FROM backup_job WHERE msp_id = %s", (tenant.msp_id,))
    agents = [await create_agent(db, tenant.site, hostname=f"pc{i}") for i in range(2)]
    group = [_submission(agents[0], ["p1"]), _submission(agents[1], ["p2"])]
    params = writer._params(tenant.msp_id, group)
    params["touch"] = []  # as when both were seen within the last 30 seconds

    conn = await writer._connection()  # the writer's own kind of connection; the fixture closes it
    await conn.execute(_SCOPE, (str(tenant.msp_id),))
    cur = await conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + _RECORD_COUNTED, params)
    plan = (await cur.fetchone())[0][0]["Plan"]
    await conn.rollback()
    writer._idle.append(conn)

    reads = [(n["Node Type"], n.get("Index Name"), n["Actual Rows"], n["Actual Loops"], n.get("Rows Removed by Filter", 0))
             for n in plan_nodes(plan) if n.get("Relation Name") in ("agent", "ping_key") and n["Node Type"] != "ModifyTable"]
    executed = [r for r in reads if r[3] > 0]
    # One probe per source: at most a row per loop, nothing read only to be filtered out.
    assert executed and all(rows <= 1 and removed == 0 for _, _, rows, _, removed in executed), reads
    assert ("Index Scan", "pk_agent", 1, 2, 0) in executed, reads  # each of the two agents, by its key
    inserted = [n for n in plan_nodes(plan) if n["Node Type"] == "ModifyTable" and n.get("Relation Name") == "telemetry_event"]
    assert inserted[0]["Actual Rows"] == 2
    # No agent is due for last_seen_at, so its update reads nothing.
    touch = [n for n in plan_nodes(plan) if n["Node Type"] == "ModifyTable" and n.get("Relation Name") == "agent"]
    assert touch and all(n["Actual Loops"] == 0 for n in plan_nodes(touch[0]) if n is not touch[0] and n.get("Relation Name")), reads
