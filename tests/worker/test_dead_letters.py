"""Only an event's own fault sets it aside; a bug fails the batch, which is retried; dead letters replay once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from services.core.audit.service import Actor
from services.core.db import Scope
from services.core.telemetry import dead_letters, processing, stalls
from services.core.telemetry.processing import drain, process_batch
from services.core.telemetry.unapplicable import UnapplicableEvent
from services.worker.consumer import TelemetryConsumer
from tests.factories_inventory import create_job, create_site
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, ev, pending, rows, run_event, send
from tests.explain import plan_nodes
from tests.log_capture import captured_logs

PEOPLE = Actor("user", None, "test")


async def _dead_letters(db, msp_id):
    return await rows(db, msp_id, "SELECT event_id, type, code, reason, failures, replay_count, resolution, resolved_at"
                                  " FROM telemetry_dead_letter WHERE msp_id = :m ORDER BY event_seq")


async def _runs(db, msp_id) -> int:
    return (await rows(db, msp_id, "SELECT count(*) AS n FROM backup_run WHERE msp_id = :m"))[0]["n"]


async def test_a_bug_in_an_applier_fails_the_batch_loudly_sets_nothing_aside_and_leaves_the_events_pending(
        client, db, tenant, monkeypatch):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    await send(client, agent, [run_event("nas", at(30), at(20)), run_event("nas", at(15), at(10)), ev("heartbeat", at(1))])

    async def buggy(*args, **kwargs):
        raise KeyError("status")

    monkeypatch.setattr(processing, "append_agent_runs", buggy)
    with captured_logs(monkeypatch, processing) as logs:
        with pytest.raises(KeyError):
            await process_batch(db, tenant.msp_id)
        with pytest.raises(KeyError):
            await process_batch(db, tenant.msp_id)
    assert await pending(db, tenant.msp_id) == 3
    assert await _dead_letters(db, tenant.msp_id) == []
    assert await _runs(db, tenant.msp_id) == 0
    failed = [entry for entry in logs if entry["event"] == "telemetry_batch_failed"]
    assert len(failed) == 2 and failed[0]["log_level"] == "error"
    assert failed[0]["msp_id"] == str(tenant.msp_id) and failed[0]["batch_size"] == processing.BATCH_SIZE
    assert "KeyError" in failed[0]["error"]
    async with db.transaction(Scope(tenant.msp_id)) as s:
        stall = await stalls.current(s, tenant.msp_id)
    assert stall.stalled and stall.failures == 2 and stall.pending_events == 3

    monkeypatch.undo()  # the fix is released: the same batch goes through, once
    assert await drain(db, tenant.msp_id) == 3
    assert await pending(db, tenant.msp_id) == 0 and await _runs(db, tenant.msp_id) == 2
    async with db.transaction(Scope(tenant.msp_id)) as s:
        assert (await stalls.current(s, tenant.msp_id)).stalled is False


async def test_an_applier_that_names_the_event_has_exactly_that_event_set_aside_in_one_pass(client, db, tenant, monkeypatch):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    bad = run_event("nas", at(30), at(20))
    await send(client, agent, [bad, run_event("nas", at(15), at(10)), ev("heartbeat", at(1))])
    original = processing.append_agent_runs

    async def refuse_one(session, msp_id, events):
        for e in events:
            if e.event_id == bad["id"]:
                raise UnapplicableEvent("names a backup job of another site", seq=e.seq, code="foreign_object")
        return await original(session, msp_id, events)

    monkeypatch.setattr(processing, "append_agent_runs", refuse_one)
    assert await process_batch(db, tenant.msp_id) == 3
    assert await pending(db, tenant.msp_id) == 0 and await _runs(db, tenant.msp_id) == 1
    (letter,) = await _dead_letters(db, tenant.msp_id)
    assert letter["event_id"] == bad["id"] and letter["code"] == "foreign_object" and letter["failures"] == 1
    kinds = await rows(db, tenant.msp_id, "SELECT type FROM telemetry_event WHERE msp_id = :m AND event_id = :e", e=bad["id"])
    assert kinds == [{"type": dead_letters.SET_ASIDE_TYPE}]


async def test_a_resent_copy_of_a_set_aside_event_is_a_duplicate_not_a_new_event(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    run = run_event("nas", at(30), at(20))
    await send(client, agent, [run])
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE telemetry_event SET payload = payload || '{\"status\": 7}' WHERE msp_id = :m"),
                        {"m": tenant.msp_id})
    assert await drain(db, tenant.msp_id) == 1
    assert await send(client, agent, [run]) == {"accepted": 0, "duplicates": 1}
    assert await pending(db, tenant.msp_id) == 0


async def test_a_replayed_dead_letter_is_applied_once_and_a_second_replay_finds_nothing(client, db, tenant, monkeypatch):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    await send(client, agent, [run_event("nas", at(30), at(20))])

    async def refuse(session, msp_id, events):
        raise UnapplicableEvent("names a backup job of another site", seq=events[0].seq, code="foreign_object")

    monkeypatch.setattr(processing, "append_agent_runs", refuse)
    assert await drain(db, tenant.msp_id) == 1
    monkeypatch.undo()
    async with db.transaction(Scope(tenant.msp_id)) as s:
        assert await dead_letters.replay(s, tenant.msp_id, tenant.practice.id, PEOPLE) == 1
    async with db.transaction(Scope(tenant.msp_id)) as s:
        assert await dead_letters.replay(s, tenant.msp_id, tenant.practice.id, PEOPLE) == 0
    assert await pending(db, tenant.msp_id) == 1
    assert await drain(db, tenant.msp_id) == 1
    assert await drain(db, tenant.msp_id) == 0
    assert await _runs(db, tenant.msp_id) == 1
    (letter,) = await _dead_letters(db, tenant.msp_id)
    assert letter["resolution"] == "replayed" and letter["replay_count"] == 1 and letter["resolved_at"] is not None


async def test_a_replay_that_fails_again_reopens_the_same_dead_letter_with_one_more_failure(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    await send(client, agent, [run_event("nas", at(30), at(20))])
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE telemetry_event SET payload = payload - 'job_id' WHERE msp_id = :m"), {"m": tenant.msp_id})
    await drain(db, tenant.msp_id)
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await dead_letters.replay(s, tenant.msp_id, tenant.practice.id, PEOPLE)
    await drain(db, tenant.msp_id)
    (letter,) = await _dead_letters(db, tenant.msp_id)
    assert letter["failures"] == 2 and letter["replay_count"] == 1 and letter["resolved_at"] is None
    assert letter["reason"] == "job_id is missing"


async def test_a_dead_letter_whose_inbox_row_retention_removed_is_replayed_from_its_copy_once(
        client, db, owner_db, tenant, monkeypatch):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    await send(client, agent, [run_event("nas", at(30), at(20))])

    async def refuse(session, msp_id, events):
        raise UnapplicableEvent("not yet", seq=events[0].seq)

    monkeypatch.setattr(processing, "append_agent_runs", refuse)
    await drain(db, tenant.msp_id)
    monkeypatch.undo()
    async with owner_db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("DELETE FROM telemetry_event WHERE msp_id = :m"), {"m": tenant.msp_id})
    async with db.transaction(Scope(tenant.msp_id)) as s:
        assert await dead_letters.replay(s, tenant.msp_id, tenant.practice.id, PEOPLE) == 1
    assert await drain(db, tenant.msp_id) == 1
    assert await _runs(db, tenant.msp_id) == 1


async def test_an_msp_whose_batch_fails_is_held_back_and_other_msps_are_still_served(
        client, db, tenant, other_tenant, monkeypatch, database_urls):
    mine = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    theirs = await create_agent(db, other_tenant.site)
    await send(client, mine, [run_event("nas", at(30), at(20))])
    original = processing.append_agent_runs

    async def buggy_for_mine(session, msp_id, events):
        if msp_id == tenant.msp_id and events:
            raise TypeError("a bug")
        return await original(session, msp_id, events)

    monkeypatch.setattr(processing, "append_agent_runs", buggy_for_mine)
    consumer = TelemetryConsumer(db, "", workers=1, sweep_seconds=3600)
    work = asyncio.create_task(consumer._work())
    try:
        await consumer.wake([tenant.msp_id])
        for _ in range(200):
            if tenant.msp_id in consumer._hold_until:
                break
            await asyncio.sleep(0.02)
        assert consumer._failures[tenant.msp_id] == 1
        await consumer.wake([tenant.msp_id])  # in back-off: not queued again yet
        assert tenant.msp_id not in consumer._queued
        await send(client, theirs, [ev("heartbeat", at(1))])
        await consumer.wake([other_tenant.msp_id])
        for _ in range(200):
            if await pending(db, other_tenant.msp_id) == 0:
                break
            await asyncio.sleep(0.02)
        assert await pending(db, other_tenant.msp_id) == 0
        assert await pending(db, tenant.msp_id) == 1
    finally:
        work.cancel()
        await asyncio.gather(work, return_exceptions=True)


async def test_a_heartbeat_the_claim_statement_cannot_store_is_set_aside_and_the_agent_is_still_heard(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    await send(client, agent, [ev("heartbeat", at(3)), ev("heartbeat", at(2))])
    # Written by a buggy release: longer than agent.hostname holds, which fails the claim's UPDATE.
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE telemetry_event SET payload = jsonb_build_object('hostname', repeat('x', 300))"
                             " WHERE msp_id = :m AND seq = (SELECT max(seq) FROM telemetry_event WHERE msp_id = :m)"),
                        {"m": tenant.msp_id})
    assert await process_batch(db, tenant.msp_id) == 2
    assert await pending(db, tenant.msp_id) == 0
    (letter,) = await _dead_letters(db, tenant.msp_id)
    assert (letter["type"], letter["reason"]) == ("heartbeat", "hostname is too long")
    heard = await rows(db, tenant.msp_id, "SELECT last_heartbeat_at FROM agent_state WHERE msp_id = :m")
    assert len(heard) == 1 and heard[0]["last_heartbeat_at"] is not None


async def test_failures_and_set_aside_events_are_counted_for_prometheus_once_each(client, db, tenant, monkeypatch):
    from prometheus_client import REGISTRY

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    await send(client, agent, [run_event("nas", at(30), at(20)), run_event("nas", at(15), at(10))])
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE telemetry_event SET payload = payload - 'job_id'"
                             " WHERE msp_id = :m AND seq = (SELECT min(seq) FROM telemetry_event WHERE msp_id = :m)"),
                        {"m": tenant.msp_id})
    failures = sample("seawall_telemetry_batch_failures_total", error_type="LookupError")
    set_aside = sample("seawall_telemetry_events_set_aside_total", code="invalid_payload")
    original = processing.append_agent_runs
    calls = []

    async def fails_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise LookupError("a bug, once")
        return await original(*args, **kwargs)

    monkeypatch.setattr(processing, "append_agent_runs", fails_once)
    with pytest.raises(LookupError):
        await process_batch(db, tenant.msp_id)
    assert await process_batch(db, tenant.msp_id) == 2
    assert sample("seawall_telemetry_batch_failures_total", error_type="LookupError") == failures + 1
    assert sample("seawall_telemetry_events_set_aside_total", code="invalid_payload") == set_aside + 1


def test_the_worker_serves_its_counters_in_the_prometheus_text_format():
    import socket

    import httpx

    from services.core import metrics

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    metrics.serve(port)
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert "# TYPE seawall_telemetry_batch_failures_total counter" in body
    assert "# TYPE seawall_telemetry_events_set_aside_total counter" in body


async def test_retention_removes_dead_letters_resolved_long_ago_and_keeps_open_ones(client, db, owner_db, tenant):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    await send(client, agent, [run_event("nas", at(30), at(20)), run_event("nas", at(15), at(10))])
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE telemetry_event SET payload = payload - 'job_id' WHERE msp_id = :m"), {"m": tenant.msp_id})
    await drain(db, tenant.msp_id)
    old, kept = await rows(db, tenant.msp_id, "SELECT id FROM telemetry_dead_letter WHERE msp_id = :m ORDER BY event_seq")
    async with owner_db.transaction() as s:
        await s.execute(text("UPDATE telemetry_dead_letter SET resolved_at = now() - interval '181 days', resolution = 'discarded'"
                             " WHERE msp_id = :m AND id = :i"), {"m": tenant.msp_id, "i": old["id"]})
    assert await dead_letters.purge_resolved(db) >= 1
    left = await rows(db, tenant.msp_id, "SELECT id FROM telemetry_dead_letter WHERE msp_id = :m")
    assert left == [kept]


async def test_an_applier_naming_an_event_outside_its_batch_fails_the_batch_instead_of_setting_that_event_aside(
        client, db, tenant, monkeypatch):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    await send(client, agent, [run_event("nas", at(30), at(20))])
    await send(client, agent, [ev("heartbeat", at(1))])
    later = (await rows(db, tenant.msp_id, "SELECT max(seq) AS s FROM telemetry_event WHERE msp_id = :m"))[0]["s"]

    async def names_a_stranger(session, msp_id, events):
        raise UnapplicableEvent("wrong event", seq=later + 1_000_000)

    monkeypatch.setattr(processing, "append_agent_runs", names_a_stranger)
    with pytest.raises(RuntimeError):
        await process_batch(db, tenant.msp_id)
    assert await _dead_letters(db, tenant.msp_id) == [] and await pending(db, tenant.msp_id) == 2


async def test_a_run_replayed_from_its_copy_after_its_site_was_deleted_is_applied_not_refused_again(
        client, db, owner_db, tenant, monkeypatch):
    annex = await create_site(db, tenant.practice, "Annex")
    agent = await create_agent(db, annex)
    job = await create_job(db, tenant.practice, "annex-nas")
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE backup_job SET site_id = :s WHERE msp_id = :m AND id = :j"),
                        {"s": annex.id, "m": tenant.msp_id, "j": job.id})
    await send(client, agent, [run_event("annex-nas", at(30), at(20))])

    async def refuse(session, msp_id, events):
        raise UnapplicableEvent("not yet", seq=events[0].seq)

    monkeypatch.setattr(processing, "append_agent_runs", refuse)
    await drain(db, tenant.msp_id)
    monkeypatch.undo()
    async with owner_db.transaction(Scope(tenant.msp_id)) as s:  # retention, then the site goes
        await s.execute(text("DELETE FROM telemetry_event WHERE msp_id = :m"), {"m": tenant.msp_id})
        await s.execute(text("DELETE FROM site WHERE msp_id = :m AND id = :s"), {"m": tenant.msp_id, "s": annex.id})
    async with db.transaction(Scope(tenant.msp_id)) as s:
        assert await dead_letters.replay(s, tenant.msp_id, tenant.practice.id, PEOPLE) == 1
    assert await drain(db, tenant.msp_id) == 1
    assert await _runs(db, tenant.msp_id) == 1
    (letter,) = await _dead_letters(db, tenant.msp_id)
    assert letter["resolution"] == "replayed" and letter["failures"] == 1


async def test_replaying_all_of_a_practice_takes_a_bounded_number_per_request_and_says_how_many_are_left(
        client, db, tenant, monkeypatch):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    await send(client, agent, [run_event("nas", at(30 - i), at(29 - i)) for i in range(5)])

    async def refuse(session, msp_id, events):
        from services.core.telemetry.unapplicable import UnapplicableEvents
        raise UnapplicableEvents([UnapplicableEvent("not yet", seq=e.seq) for e in events])

    monkeypatch.setattr(processing, "append_agent_runs", refuse)
    await drain(db, tenant.msp_id)
    monkeypatch.undo()
    monkeypatch.setattr(dead_letters, "ACTION_LIMIT", 2)
    taken = []
    for _ in range(3):
        async with db.transaction(Scope(tenant.msp_id)) as s:
            taken.append((await dead_letters.replay(s, tenant.msp_id, tenant.practice.id, PEOPLE),
                          await dead_letters.open_left(s, tenant.msp_id, tenant.practice.id)))
    assert taken == [(2, 3), (2, 1), (1, 0)]
    assert await drain(db, tenant.msp_id) == 5
    assert await _runs(db, tenant.msp_id) == 5


async def test_a_page_of_the_msp_wide_dead_letter_list_reads_about_a_page_not_every_dead_letter(client, db, owner_db, tenant):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    await send(client, agent, [run_event("nas", at(30), at(20))])
    async with owner_db.transaction(Scope(tenant.msp_id)) as s:  # as one bad batch can leave them, with statistics
        await s.execute(text(
            "INSERT INTO telemetry_dead_letter (msp_id, id, practice_id, event_seq, source_id, event_id, type, occurred_at, payload,"
            " code, reason, failures, first_failed_at, last_failed_at, replay_count)"
            " SELECT e.msp_id, gen_random_uuid(), e.practice_id, i, e.source_id, 'e' || i, 'backup_run', now(), '{}', 'x', 'r', 1,"
            " now(), now() - i * interval '1 second', 0 FROM telemetry_event e, generate_series(1, 5000) i WHERE e.msp_id = :m"),
            {"m": tenant.msp_id})
    async with owner_db.transaction() as s:
        await s.execute(text("ANALYZE telemetry_dead_letter"))
    async with db.transaction(Scope(tenant.msp_id)) as s:
        sql = dead_letters._LIST.format(
            page=dead_letters._PAGE + " AND d.resolved_at IS NULL ORDER BY d.last_failed_at DESC, d.id DESC LIMIT 51")
        plan = (await s.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql), {"msp": tenant.msp_id})).scalar()
    read = sum((n.get("Actual Rows", 0) + n.get("Rows Removed by Filter", 0)) * n.get("Actual Loops", 1)
               for n in plan_nodes(plan[0]["Plan"]) if n.get("Relation Name") == "telemetry_dead_letter")
    assert read <= 60
