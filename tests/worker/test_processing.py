"""The batch path: recorded telemetry → current state, history and hooks, in one transaction."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text

from services.core.db import Scope
from services.core.telemetry import hooks
from services.core.telemetry.processing import BUSY, drain, process_batch
from tests.factories_inventory import create_job, create_link
from tests.factories_telemetry import create_agent
from tests.factories_worker import (
    at,
    ev,
    job_state,
    link_state,
    one,
    pending,
    rows,
    run_event,
    sample_event,
    send,
    send_and_process,
)


@pytest.fixture
def hook_calls():
    calls = []

    async def record(session, msp_id, change, now):
        # Inside the batch transaction: the state written by this batch is already visible here.
        n = (await session.execute(text("SELECT count(*) FROM backup_job_state WHERE msp_id = :m"), {"m": msp_id})).scalar()
        calls.append((msp_id, change.practices, n))

    hooks.ON_STATE_CHANGED.append(record)
    yield calls
    hooks.ON_STATE_CHANGED.remove(record)


async def test_a_successful_run_sets_last_success_restore_point_and_size(client, db, tenant, hook_calls):
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "nightly-restic")
    now = at()  # one clock reading, so the duration is exact
    started, finished = at(30, now), at(20, now)
    snapshot = at(29, now)
    n = await send_and_process(client, db, agent, [run_event("nightly-restic", started, finished, bytes=5_000_000, files=120,
                                                             restore_point_at=snapshot, snapshot_id="ab12", exit_code=0)])
    assert n == 1
    state = await job_state(db, tenant.msp_id, job.id)
    assert state["last_status"] == "success" and state["last_success_at"] == finished
    assert state["last_restore_point_at"] == snapshot
    assert state["last_bytes"] == 5_000_000 and state["last_duration_seconds"] == pytest.approx(600)
    assert state["consecutive_failures"] == 0
    run = await one(db, tenant.msp_id, "SELECT * FROM backup_run WHERE msp_id = :m AND backup_job_id = :j", j=job.id)
    assert (run["snapshot_id"], run["files"], run["source"]) == ("ab12", 120, "agent")
    assert hook_calls == [(tenant.msp_id, {tenant.practice.id}, 1)]
    assert await pending(db, tenant.msp_id) == 0


async def test_failures_count_in_a_row_and_a_success_resets_them(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "nas")
    events = [run_event("nas", at(300 - 60 * i), at(299 - 60 * i), status="failed", exit_code=1) for i in range(3)]
    await send_and_process(client, db, agent, events)
    state = await job_state(db, tenant.msp_id, job.id)
    assert state["consecutive_failures"] == 3 and state["last_status"] == "failed" and state["last_success_at"] is None
    assert state["last_exit_code"] == 1 and state["last_restore_point_at"] is None
    await send_and_process(client, db, agent, [run_event("nas", at(10), at(5))])
    state = await job_state(db, tenant.msp_id, job.id)
    assert state["consecutive_failures"] == 0 and state["last_status"] == "success"


async def test_a_verifying_job_counts_only_verified_restore_points(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "verified", verifies=True)
    verified_start, newest_end = at(200), at(40)
    await send_and_process(client, db, agent, [
        run_event("verified", verified_start, at(190), verified=True),
        run_event("verified", at(100), at(90), verified=False),
        run_event("verified", at(50), newest_end),
    ])
    state = await job_state(db, tenant.msp_id, job.id)
    assert state["last_success_at"] == newest_end
    assert state["last_restore_point_at"] == verified_start


async def test_the_baseline_is_the_median_of_the_successes_before_the_newest_run(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "nightly")
    sizes = [100, 300, 200, 400, 500]
    now = at()  # one clock reading: durations computed from two readings were off by microseconds
    events = [run_event("nightly", at(1000 - 100 * i, now), at(1000 - 100 * i - (i + 1), now), bytes=b)
              for i, b in enumerate(sizes)]
    events.append(run_event("nightly", at(100, now), at(99.5, now), bytes=7))  # suspiciously small and fast
    await send_and_process(client, db, agent, events)
    state = await job_state(db, tenant.msp_id, job.id)
    assert state["baseline_bytes"] == 300 and state["baseline_duration_seconds"] == pytest.approx(180)
    assert state["last_bytes"] == 7 and state["last_duration_seconds"] == pytest.approx(30)


async def test_a_final_report_beats_a_running_report_of_the_same_run_in_either_order(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "long")
    started = at(60)
    final = run_event("long", started, at(5))
    running = ev("backup_run", at(50), job="long", status="running", started_at=started)
    await send_and_process(client, db, agent, [final])
    await send_and_process(client, db, agent, [running])
    runs = await rows(db, tenant.msp_id, "SELECT status FROM backup_run WHERE msp_id = :m AND backup_job_id = :j", j=job.id)
    assert runs == [{"status": "success"}]
    assert (await job_state(db, tenant.msp_id, job.id))["running_since"] is None


async def test_link_samples_give_state_since_flaps_and_rolling_means(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    link = await create_link(db, tenant.site, "Fiber")
    base = at(0).replace(second=0, microsecond=0)
    ups = [True, True, False, True, False, False, True, True]
    events = [sample_event("Fiber", base - timedelta(minutes=8 - i), up=u, latency_ms=10.0 * (i + 1), loss_pct=float(i))
              for i, u in enumerate(ups)]
    await send_and_process(client, db, agent, events)
    state = await link_state(db, tenant.msp_id, link.id)
    assert state["up"] is True and state["state_since"] == base - timedelta(minutes=2)
    assert state["last_sample_at"] == base - timedelta(minutes=1)
    assert state["flaps_last_hour"] == 4
    raw = await rows(db, tenant.msp_id, "SELECT count(*) AS n FROM link_sample WHERE msp_id = :m AND link_id = :l", l=link.id)
    assert raw == [{"n": 8}]
    agg = await rows(db, tenant.msp_id, "SELECT sum(samples) AS n, sum(up_samples) AS u FROM link_sample_5m"
                     " WHERE msp_id = :m AND link_id = :l", l=link.id)
    assert agg == [{"n": 8, "u": 5}]
    # The rolling means cover the newest sample's 5-minute bucket and the two before it: here all 8;
    # loss only the 5 taken while up (0, 1, 3, 6, 7 %): a down probe's loss is the link being down.
    assert state["latency_ms"] == pytest.approx(45.0) and state["loss_pct"] == pytest.approx(3.4)


async def test_a_late_sample_rebuilds_the_link_state_from_history(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    link = await create_link(db, tenant.site, "Cable")
    base = at(0).replace(second=0, microsecond=0)
    await send_and_process(client, db, agent, [sample_event("Cable", base - timedelta(minutes=m), up=True) for m in (5, 3, 1)])
    assert (await link_state(db, tenant.msp_id, link.id))["state_since"] == base - timedelta(minutes=5)
    await send_and_process(client, db, agent, [sample_event("Cable", base - timedelta(minutes=4), up=False)])
    state = await link_state(db, tenant.msp_id, link.id)
    assert state["up"] is True and state["state_since"] == base - timedelta(minutes=3) and state["flaps_last_hour"] == 2


async def test_a_failover_to_the_backup_link_marks_it_on_backup_until_it_ends(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    primary = await create_link(db, tenant.site, "Fiber")
    backup = await create_link(db, tenant.site, "LTE", role="backup")
    started = at(30)
    failover = ev("failover", at(29), from_link="Fiber", to_link="LTE", started_at=started)
    await send_and_process(client, db, agent, [failover])
    assert (await link_state(db, tenant.msp_id, backup.id))["on_backup_since"] == started
    assert (await link_state(db, tenant.msp_id, primary.id))["on_backup_since"] is None
    ended = ev("failover", at(2), from_link="Fiber", to_link="LTE", started_at=started, ended_at=at(3))
    await send_and_process(client, db, agent, [ended])
    assert (await link_state(db, tenant.msp_id, backup.id))["on_backup_since"] is None
    history = await rows(db, tenant.msp_id, "SELECT ended_at FROM failover_event WHERE msp_id = :m")
    assert len(history) == 1 and history[0]["ended_at"] is not None


async def test_two_failovers_of_the_same_instant_are_told_apart_by_the_links_names_in_every_tenant(client, db, tenant,
                                                                                                   other_tenant):
    # Ids are random per tenant; the outcome must not be: the failover to the link whose name sorts
    # last counts as the latest (here LTE, so the site is on its backup link).
    started = at(30)
    for t in (tenant, other_tenant):
        agent = await create_agent(db, t.site)
        await create_link(db, t.site, "Fiber")
        backup = await create_link(db, t.site, "LTE", role="backup")
        await send_and_process(client, db, agent, [
            ev("failover", at(29), from_link="LTE", to_link="Fiber", started_at=started),
            ev("failover", at(29), from_link="Fiber", to_link="LTE", started_at=started)])
        assert (await link_state(db, t.msp_id, backup.id))["on_backup_since"] == started


async def test_heartbeats_move_last_seen_and_lift_the_silent_mark(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE agent SET last_seen_at = now() - interval '1 day' WHERE id = :a"), {"a": agent.agent_id})
        await s.execute(text("INSERT INTO agent_state (msp_id, agent_id, practice_id, silent_since) VALUES (:m, :a, :p, now())"),
                        {"m": tenant.msp_id, "a": agent.agent_id, "p": tenant.practice.id})
    beat = at(1)
    await send_and_process(client, db, agent, [ev("heartbeat", beat, agent_version="9.9.9", hostname="demo-agent-x")])
    row = await one(db, tenant.msp_id, "SELECT a.last_seen_at, a.agent_version, s.silent_since, s.last_heartbeat_at"
                    " FROM agent a JOIN agent_state s ON s.agent_id = a.id WHERE a.msp_id = :m", )
    assert row["last_seen_at"] >= beat and row["agent_version"] == "9.9.9"
    assert row["silent_since"] is None and row["last_heartbeat_at"] == beat


async def test_a_restore_test_is_kept_with_its_duration(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "nas")
    await send_and_process(client, db, agent, [ev("restore_test", at(10), job="nas", started_at=at(70), finished_at=at(10),
                                                  success=True, notes="restored EHR database to a test VM")])
    test = await one(db, tenant.msp_id, "SELECT * FROM restore_test WHERE msp_id = :m")
    assert test["backup_job_id"] == job.id and test["duration_seconds"] == pytest.approx(3600) and test["success"]


async def test_only_one_worker_holds_an_msp_at_a_time_and_nothing_is_applied_twice(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    base = at(20)
    for chunk in range(5):
        await send(client, agent, [sample_event("Fiber", base + timedelta(seconds=chunk * 100 + i)) for i in range(100)])
    results = await asyncio.gather(*(drain(db, tenant.msp_id, batch_size=50) for _ in range(4)))
    assert sum(results) + sum([await drain(db, tenant.msp_id)]) == 500
    agg = await one(db, tenant.msp_id, "SELECT sum(samples) AS n FROM link_sample_5m WHERE msp_id = :m")
    assert agg["n"] == 500 and await pending(db, tenant.msp_id) == 0


async def test_a_worker_that_finds_the_msp_held_reports_busy(client, db, tenant):
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('telemetry:' || CAST(:m AS text), 0))"),
                        {"m": tenant.msp_id})
        assert await process_batch(db, tenant.msp_id) == BUSY


async def test_an_event_the_worker_cannot_read_is_set_aside_as_a_dead_letter_and_the_rest_go_on(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "nas")
    await send(client, agent, [run_event("nas", at(30), at(20))])
    # A payload the worker cannot read (as if written by a buggy release) must not block the MSP.
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE telemetry_event SET payload = payload - 'started_at' WHERE msp_id = :m"), {"m": tenant.msp_id})
    await send(client, agent, [run_event("nas", at(15), at(10))])
    assert await process_batch(db, tenant.msp_id) == 2  # one call: set aside, and the rest applied
    assert await pending(db, tenant.msp_id) == 0
    assert (await job_state(db, tenant.msp_id, job.id))["last_success_at"] is not None
    runs = await rows(db, tenant.msp_id, "SELECT count(*) AS n FROM backup_run WHERE msp_id = :m")
    assert runs == [{"n": 1}]
    (letter,) = await rows(db, tenant.msp_id, "SELECT type, code, field, reason, resolved_at FROM telemetry_dead_letter"
                           " WHERE msp_id = :m")
    assert letter == {"type": "backup_run", "code": "invalid_payload", "field": "started_at",
                      "reason": "started_at is missing", "resolved_at": None}


async def test_events_of_another_msp_are_left_alone(client, db, tenant, other_tenant):
    mine = await create_agent(db, tenant.site)
    theirs = await create_agent(db, other_tenant.site)
    await send(client, mine, [ev("heartbeat", at(1))])
    await send(client, theirs, [ev("heartbeat", at(1))])
    assert await drain(db, tenant.msp_id) == 1
    assert await pending(db, other_tenant.msp_id) == 1
    assert await drain(db, other_tenant.msp_id) == 1


async def test_a_failed_run_with_a_windows_exit_code_is_applied_and_its_job_shows_the_failure_with_that_code(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "nas")
    await send_and_process(client, db, agent, [run_event("nas", at(30), at(20), status="failed", exit_code=0xC0000005)])
    assert await rows(db, tenant.msp_id, "SELECT count(*) AS n FROM telemetry_dead_letter WHERE msp_id = :m") == [{"n": 0}]
    run = await one(db, tenant.msp_id, "SELECT status, exit_code FROM backup_run WHERE msp_id = :m")
    assert run == {"status": "failed", "exit_code": 3_221_225_477}
    state = await job_state(db, tenant.msp_id, job.id)
    assert (state["last_status"], state["last_exit_code"]) == ("failed", 3_221_225_477)
