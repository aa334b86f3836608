"""Partition upkeep and retention, the processed-inbox purge, and the dead man's switch."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from services.core.alerts.models import AlertOverride
from services.core.alerts.rules import AGENT_SILENT
from services.core.base import utcnow
from services.core.db import Scope
from services.core.telemetry import agents, deadman, hooks, partitions, state
from services.core.telemetry.processing import drain
from services.worker.app import app, task_modules
from tests import factories_alerts as fa
from tests.factories_inventory import create_job
from tests.factories_telemetry import create_agent, ping_url
from tests.factories_worker import at, one, rows, run_event, send_and_process


async def _partitions(owner_db, parent: str) -> set[str]:
    async with owner_db.transaction() as s:
        return set((await s.scalars(text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = CAST(:t AS regclass)"),
            {"t": parent})).all())


async def test_upkeep_creates_partitions_ahead_as_the_application_role(db, owner_db):
    later = utcnow() + timedelta(days=40)
    await partitions.upkeep(db, now=later)
    names = await _partitions(owner_db, "backup_run")
    ahead = (later + timedelta(days=62)).strftime("backup_run_p%Y%m")
    assert ahead in names
    daily = await _partitions(owner_db, "link_sample")
    assert (utcnow() + timedelta(days=14)).strftime("link_sample_p%Y%m%d") in daily
    assert await partitions.upkeep(db, now=later) == 0  # idempotent


async def test_rows_in_the_default_partition_move_when_their_partition_is_created(db, owner_db, client, tenant):
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "nas")
    started = at(60 * 24 * 20)
    async with owner_db.transaction() as s:  # as if the partition had never been created
        await s.execute(text(f"DROP TABLE {started.strftime('backup_run_p%Y%m')}"))
    await send_and_process(client, db, agent, [run_event("nas", started, started + timedelta(minutes=5))])
    async with owner_db.transaction() as s:
        assert (await s.scalar(text("SELECT count(*) FROM backup_run_default WHERE backup_job_id = :j"), {"j": job.id})) == 1
    await partitions.upkeep(db)
    async with owner_db.transaction() as s:
        assert (await s.scalar(text("SELECT count(*) FROM backup_run_default WHERE backup_job_id = :j"), {"j": job.id})) == 0
        moved = await s.scalar(text(f"SELECT count(*) FROM {started.strftime('backup_run_p%Y%m')} WHERE backup_job_id = :j"),
                               {"j": job.id})
        assert moved == 1
        rls = (await s.execute(text("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = :n"),
                               {"n": started.strftime("backup_run_p%Y%m")})).one()
    assert tuple(rls) == (True, True)
    row = await one(db, tenant.msp_id, "SELECT status FROM backup_run WHERE msp_id = :m AND backup_job_id = :j", j=job.id)
    assert row == {"status": "success"}


async def test_retention_drops_only_what_is_past_its_period(db, owner_db):
    now = utcnow()
    async with owner_db.transaction() as s:
        await s.execute(text("SELECT telemetry_create_partitions(:lo, :hi)"),
                        {"lo": now - timedelta(days=6 * 365 + 70), "hi": now - timedelta(days=6 * 365 + 40)})
        await s.execute(text("SELECT telemetry_create_partitions(:lo, :hi)"),
                        {"lo": now - timedelta(days=6 * 365 - 40), "hi": now - timedelta(days=6 * 365 - 70)})
    too_old = (now - timedelta(days=6 * 365 + 70)).strftime("backup_run_p%Y%m")
    kept = (now - timedelta(days=6 * 365 - 40)).strftime("backup_run_p%Y%m")
    assert {too_old, kept} <= await _partitions(owner_db, "backup_run")
    dropped = await partitions.drop_expired(db)
    assert too_old in dropped and kept not in dropped
    left = await _partitions(owner_db, "backup_run")
    assert too_old not in left and kept in left
    # 5-minute aggregates 13 months, raw samples 14 days
    assert not any(name.startswith("link_sample_5m_p") and name < (now - timedelta(days=400)).strftime("link_sample_5m_p%Y%m")
                   for name in await _partitions(owner_db, "link_sample_5m"))


async def test_the_application_role_cannot_choose_a_shorter_retention(db):
    async with db.transaction() as s:
        args = (await s.scalar(text("SELECT pg_get_function_identity_arguments('telemetry_drop_expired_partitions'::regproc)")))
    assert args == ""


async def test_processed_inbox_rows_go_after_the_dedup_window_and_pending_ones_stay(db, owner_db, client, tenant):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    await send_and_process(client, db, agent, [run_event("nas", at(30), at(20))])
    async with owner_db.transaction() as s:
        await s.execute(text("UPDATE telemetry_event SET occurred_at = now() - interval '32 days' WHERE msp_id = :m"),
                        {"m": tenant.msp_id})
        await s.execute(text("INSERT INTO telemetry_event (msp_id, source_id, event_id, practice_id, type, occurred_at, payload)"
                             " VALUES (:m, :a, 'pending-old', :p, 'heartbeat', now() - interval '32 days', '{}')"),
                        {"m": tenant.msp_id, "a": agent.agent_id, "p": tenant.practice.id})
    assert await partitions.purge_processed_inbox(db) >= 1
    async with db.transaction(Scope(tenant.msp_id)) as s:
        left = (await s.scalars(text("SELECT event_id FROM telemetry_event WHERE msp_id = :m"), {"m": tenant.msp_id})).all()
    assert left == ["pending-old"]


async def test_ping_steps_go_after_their_retention_and_recent_ones_stay(db, client, tenant):
    url = await ping_url(db, await create_job(db, tenant.practice, "cron"))
    assert (await client.get(url + "/start")).text == "OK"
    assert (await client.get(url)).text == "OK"
    await drain(db, tenant.msp_id)
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE ping_step SET at = now() - interval '32 days' WHERE msp_id = :m AND kind = 'start'"),
                        {"m": tenant.msp_id})
    assert await partitions.purge_ping_steps(db) >= 1
    kinds = await rows(db, tenant.msp_id, "SELECT kind FROM ping_step WHERE msp_id = :m")
    assert kinds == [{"kind": "success"}]


async def test_a_silent_agent_is_marked_once_and_its_practice_hooks_are_called(db, tenant):
    calls = []

    async def record(session, msp_id, change, now):
        calls.append((msp_id, change.practices))

    quiet = await create_agent(db, tenant.site)
    await create_agent(db, tenant.sibling_site)  # heard from recently
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE agent SET last_seen_at = now() - interval '20 minutes' WHERE id = :a"), {"a": quiet.agent_id})
        await s.execute(text("UPDATE agent SET last_seen_at = now() WHERE id <> :a AND msp_id = :m"),
                        {"a": quiet.agent_id, "m": tenant.msp_id})
    hooks.ON_STATE_CHANGED.append(record)
    try:
        assert await deadman.sweep(db) >= 1
        await deadman.sweep(db)  # already marked: not signalled again
    finally:
        hooks.ON_STATE_CHANGED.remove(record)
    assert [c for c in calls if c[0] == tenant.msp_id] == [(tenant.msp_id, {tenant.practice.id})]
    row = await one(db, tenant.msp_id, "SELECT silent_since FROM agent_state WHERE msp_id = :m AND agent_id = :a", a=quiet.agent_id)
    assert row["silent_since"] is not None
    assert await one(db, tenant.msp_id, "SELECT 1 AS x FROM agent_state WHERE msp_id = :m AND agent_id <> :a", a=quiet.agent_id) is None


async def test_silence_is_the_alert_rules_heartbeat_plus_the_sites_grace(db, tenant):
    """One definition: interval (60 s) + agent.silent's grace_minutes (default 10, here 2 at one site)."""
    await fa.add(db, tenant.msp_id, AlertOverride(msp_id=tenant.msp_id, practice_id=tenant.sibling.id, site_id=tenant.sibling_site.id,
                                                  rule_id=AGENT_SILENT, enabled=None, params={"grace_minutes": 2}))
    default_grace = await create_agent(db, tenant.site)  # 5 min unheard: 3 heartbeats, but within 1 + 10 min
    short_grace = await create_agent(db, tenant.sibling_site)  # 5 min unheard: past 1 + 2 min
    never_seen = await create_agent(db, tenant.site)  # enrolled a day ago, never heard: silent since then
    just_enrolled = await create_agent(db, tenant.site)  # enrolled now, never heard: not yet due
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE agent SET last_seen_at = now() - interval '5 minutes' WHERE id = ANY(:a)"),
                        {"a": [default_grace.agent_id, short_grace.agent_id]})
        await s.execute(text("UPDATE agent SET created_at = now() - interval '1 day' WHERE id = :a"), {"a": never_seen.agent_id})
    await deadman.sweep(db)
    marked = await rows(db, tenant.msp_id, "SELECT agent_id, silent_since FROM agent_state WHERE msp_id = :m AND silent_since IS NOT NULL")
    assert {r["agent_id"] for r in marked} == {short_grace.agent_id, never_seen.agent_id}
    seen = await one(db, tenant.msp_id, "SELECT last_seen_at FROM agent WHERE id = :a", a=short_grace.agent_id)
    enrolled = await one(db, tenant.msp_id, "SELECT created_at FROM agent WHERE id = :a", a=never_seen.agent_id)
    since = {r["agent_id"]: r["silent_since"] for r in marked}
    assert since[short_grace.agent_id] == seen["last_seen_at"] + timedelta(minutes=3)
    assert since[never_seen.agent_id] == enrolled["created_at"] + timedelta(minutes=11)
    # The alert rule and the API agree with the sweep.
    await fa.evaluate(db, tenant, datetime.now(timezone.utc))
    assert ({i.subject_id for i in await fa.incidents(db, tenant.msp_id, AGENT_SILENT, active=True)}
            == {str(short_grace.agent_id), str(never_seen.agent_id)})
    async with db.transaction(Scope(tenant.msp_id)) as s:
        listed = await agents.with_liveness(s, tenant.msp_id, await agents.list_agents(s, tenant.msp_id))
        states = await state.agents(s, tenant.msp_id, tenant.sibling.id)
        own = await state.agents(s, tenant.msp_id, tenant.practice.id)
    assert {a.id for a in listed if a.silent} == {short_grace.agent_id, never_seen.agent_id}
    assert [(a.agent_id, a.silent) for a in states] == [(short_grace.agent_id, True)]
    assert {a.agent_id: a.silent for a in own}[just_enrolled.agent_id] is False


def test_the_scheduled_jobs_are_registered_on_the_app():
    assert "services.worker.tasks_telemetry" in task_modules()
    app.perform_import_paths()
    names = set(app.tasks)
    assert {"telemetry.partition_upkeep", "telemetry.retention", "telemetry.dead_mans_switch"} <= names
    periodic = {p.task.name for p in app.periodic_registry.periodic_tasks.values()}
    assert {"telemetry.partition_upkeep", "telemetry.retention", "telemetry.dead_mans_switch"} <= periodic
