"""Work that takes more than one lock takes them in one order (docs/decisions/0005-lock-order.md):
concurrent transactions on separate connections, many rounds, never deadlock.

Each round starts the two sides with a small random offset, so that every interleaving comes up.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm.exc import StaleDataError

from services.core import locks
from services.core.alerts import rules as R
from services.core.alerts import service as alert_service
from services.core.alerts.evaluate import evaluate_practices
from services.core.alerts.models import Incident, MaintenanceWindow
from services.core.audit.service import Actor
from services.core.base import utcnow
from services.core.db import Scope
from services.core.errors import NotFound
from services.core.inventory import links
from services.core.plans import service as plans
from services.core.practices import service as practices
from services.core.practices.models import Practice
from services.core.readiness import service as readiness
from services.core.telemetry import deadman
from services.core.telemetry.processing import BUSY, process_batch
from tests import factories_alerts as fa
from tests import factories_plans as fp
from tests.factories import create_practice
from tests.factories_alerts import T0, minutes

ACTOR = Actor("user", None, "tech@example.test")


async def _after(delay: float, work):
    await asyncio.sleep(delay)
    return await work


async def _open_incident(db, msp_id: uuid.UUID, practice_id: uuid.UUID, **values) -> uuid.UUID:
    (incident_id,) = await _open_incidents(db, msp_id, practice_id, 1, **values)
    return incident_id


async def _open_incidents(db, msp_id: uuid.UUID, practice_id: uuid.UUID, count: int, **values) -> list[uuid.UUID]:
    now = utcnow()
    incs = [Incident(msp_id=msp_id, id=uuid.uuid4(), practice_id=practice_id, rule_id=R.FAILED_IN_A_ROW,
                     subject_type="backup_job", subject_id=str(uuid.uuid4()), severity="high", component="backups",
                     urgency="high", status="open", opened_at=now, last_fired_at=now, clear_evaluations=0,
                     reopen_count=0, title="Backup failed 3 times in a row", remediation="", hipaa="", **values)
            for _ in range(count)]
    await fa.add(db, msp_id, *incs)
    return [inc.id for inc in incs]


async def _acknowledge(db, msp_id, practice_id, incident_id):
    async with db.transaction(Scope(msp_id)) as s:
        await alert_service.acknowledge(s, msp_id, practice_id, incident_id, ACTOR)


async def _remove_practice(db, msp_id, practice_id):
    async with db.transaction(Scope(msp_id)) as s:
        await practices.delete_practice(s, await s.get(Practice, (msp_id, practice_id)), ACTOR)


@pytest.mark.slow
async def test_removing_a_practice_while_its_incident_is_acknowledged_never_deadlocks(db, tenant):
    rng = random.Random(5)
    for n in range(100):
        practice, _ = await create_practice(db, tenant.msp_id)
        incident_id = await _open_incident(db, tenant.msp_id, practice.id)
        ack, removed = await asyncio.gather(
            _after(rng.uniform(0, 0.004), _acknowledge(db, tenant.msp_id, practice.id, incident_id)),
            _after(rng.uniform(0, 0.004), _remove_practice(db, tenant.msp_id, practice.id)), return_exceptions=True)
        # The acknowledgement came first, or found the incident gone with its practice.
        assert ack is None or isinstance(ack, NotFound), (n, ack)
        assert removed is None, (n, removed)


async def _evaluate(db, msp_id, practice_id):
    async with db.transaction(Scope(msp_id)) as s:
        await evaluate_practices(s, msp_id, [practice_id], T0)


async def _remove_window(db, msp_id, practice_id, window_id):
    async with db.transaction(Scope(msp_id)) as s:
        await alert_service.delete_window(s, await s.get(Practice, (msp_id, practice_id)), window_id, ACTOR)


@pytest.mark.slow
async def test_removing_a_maintenance_window_while_its_practice_is_evaluated_never_deadlocks(db, tenant):
    # Removing the window frees the incidents it suppresses (a foreign key, in the order the rows are
    # found); the evaluation writes the same incidents, clearing, in the order of their ids.
    rng = random.Random(5)
    for n in range(80):
        practice, _ = await create_practice(db, tenant.msp_id)
        window = MaintenanceWindow(msp_id=tenant.msp_id, id=uuid.uuid4(), practice_id=practice.id, name="Server swap",
                                   kind="once", starts_at=T0 - minutes(60), ends_at=T0 + minutes(60))
        await fa.add(db, tenant.msp_id, window)
        await _open_incidents(db, tenant.msp_id, practice.id, 20, maintenance_window_id=window.id)
        evaluated, removed = await asyncio.gather(
            _after(rng.uniform(0, 0.004), _evaluate(db, tenant.msp_id, practice.id)),
            # The removal is quick, the evaluation spends most of its time reading before it writes.
            _after(rng.uniform(0, 0.06), _remove_window(db, tenant.msp_id, practice.id, window.id)), return_exceptions=True)
        assert evaluated is None and removed is None, (n, evaluated, removed)


async def _approve(db, practice, version_id):
    async with db.transaction(Scope(practice.msp_id)) as s:
        p = await s.get(Practice, (practice.msp_id, practice.id))
        v = await plans.get_version(s, p, version_id)
        await plans.approve(s, p, v, ACTOR, False, None, None)


async def _withdraw(db, practice, version_id):
    async with db.transaction(Scope(practice.msp_id)) as s:
        v = await plans.get_version(s, await s.get(Practice, (practice.msp_id, practice.id)), version_id)
        await plans.back_to_draft(s, v, ACTOR, "plan_version.withdrawn")


@pytest.mark.slow
async def test_approving_a_version_while_it_is_withdrawn_never_deadlocks(db, tenant):
    # Approving records the superseded version (the audit chain's lock) before it writes the approved
    # one; a withdrawal writes that row and then records.
    rng = random.Random(5)
    await fp.create_plan(db, tenant.practice, state="approved")
    for n in range(60):
        v = await fp.create_plan(db, tenant.practice, state="in_review")
        approved, withdrawn = await asyncio.gather(
            _after(rng.uniform(0, 0.004), _approve(db, tenant.practice, v.id)),
            _after(rng.uniform(0, 0.004), _withdraw(db, tenant.practice, v.id)), return_exceptions=True)
        # One of the two, and the other is told the version moved on.
        if approved is None:
            assert isinstance(withdrawn, plans.PlanNotEditable), (n, withdrawn)
        else:
            assert isinstance(approved, plans.PlanNotApprovable) and withdrawn is None, (n, approved, withdrawn)


async def _edit_link(db, t, link_id, name):
    async with db.transaction(Scope(t.msp_id)) as s:
        await links.update_link(s, t.practice, await links.get_link(s, t.practice, link_id), ACTOR, {"name": name})


async def _remove_link(db, t, link_id):
    async with db.transaction(Scope(t.msp_id)) as s:
        await links.delete_link(s, t.practice, await links.get_link(s, t.practice, link_id), ACTOR)


@pytest.mark.slow
async def test_editing_and_removing_the_same_object_at_once_never_deadlocks(db, tenant):
    # An edit locks the row and then the audit chain; so must a removal (it used to record first).
    rng = random.Random(5)
    for n in range(150):
        link = await fa.link(db, tenant)
        edited, removed = await asyncio.gather(
            _after(rng.uniform(0, 0.004), _edit_link(db, tenant, link.id, f"Fiber {n}")),
            _after(rng.uniform(0, 0.004), _remove_link(db, tenant, link.id)), return_exceptions=True)
        # An edit that loaded the link before the removal committed finds no row to write (StaleDataError).
        assert edited is None or isinstance(edited, (NotFound, StaleDataError)), (n, edited)
        assert removed is None or isinstance(removed, NotFound), (n, removed)


async def test_removing_a_practice_holds_off_the_msps_telemetry_batches(db, tenant):
    # The removal's telemetry lock must be the very lock a batch tries, or it excludes nothing.
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await locks.wait_for_telemetry(s, tenant.msp_id)
        assert await process_batch(db, tenant.msp_id) == BUSY
    assert await process_batch(db, tenant.msp_id) == 0


async def test_escalation_leaves_a_practice_whose_incidents_are_being_changed_to_its_next_pass(db, tenant):
    first = await fa.channel(db, tenant.msp_id, "slack", secret="https://hooks.slack.com/services/T/B/x")
    second = await fa.channel(db, tenant.msp_id, "pagerduty", secret="k" * 32)
    await fa.route(db, tenant.msp_id, first, escalate_after_minutes=15, escalation_channel_id=second.id)
    await fa.job(db, tenant, last_status="failed", consecutive_failures=3)
    await fa.evaluate(db, tenant, T0)
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await locks.lock_practices(s, [tenant.practice.id])
        # Waiting here would be waiting on this very transaction: the test would hang.
        assert await asyncio.wait_for(fa.escalate(db, tenant.msp_id, T0 + minutes(16)), 10) == 0
    assert await fa.escalate(db, tenant.msp_id, T0 + minutes(16)) == 1
    async with db.transaction(Scope(tenant.msp_id)) as s:
        assert (await s.scalars(select(Incident.escalated_at).where(Incident.msp_id == tenant.msp_id))).all() == [T0 + minutes(16)]


def test_a_batch_marks_readiness_only_after_its_evaluation_took_the_practices_incident_locks():
    # Hooks run in registration order, which was whichever module was imported first. Readiness
    # first, a batch held its marks while waiting for an incident lock; an acknowledgement holding
    # that lock waits for the audit chain's lock, held by an edit waiting for those marks: a cycle.
    code = ("import services.core.readiness.service\n"
            "from services.core.telemetry.hooks import ON_STATE_CHANGED\n"
            "print(' '.join(h.__module__ for h in ON_STATE_CHANGED))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ).stdout
    assert out.split() == ["services.core.alerts.evaluate", "services.core.readiness.service"]


async def _waiting_for_an_advisory_lock(db, msp_id) -> bool:
    async with db.transaction(Scope(msp_id)) as s:
        return bool(await s.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
            " AND query LIKE '%pg_advisory_xact_lock(hashtextextended(''telemetry:''%'")))


async def test_the_dead_mans_switch_waits_for_the_msps_batch_before_marking_its_agents(db, tenant):
    # It marks agent state and then evaluates, as a batch does: without the batch's lock, the two
    # take agent rows and the practices' incident locks in opposite orders.
    quiet = await fa.agent(db, tenant, last_seen=utcnow() - timedelta(minutes=20))
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await locks.wait_for_telemetry(s, tenant.msp_id)
        sweep = asyncio.create_task(deadman.sweep(db))
        for _ in range(600):  # the sweep serves every MSP of the test database, in no set order
            if await _waiting_for_an_advisory_lock(db, tenant.msp_id):
                break
            assert not sweep.done(), "the sweep marked agents while a batch held the MSP"
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the sweep never waited for the MSP's telemetry lock")
    assert await asyncio.wait_for(sweep, 30) >= 1
    async with db.transaction(Scope(tenant.msp_id)) as s:
        assert await s.scalar(text("SELECT silent_since FROM agent_state WHERE msp_id = :m AND agent_id = :a"),
                              {"m": tenant.msp_id, "a": quiet.id}) is not None


async def _store(db, msp_id, results):
    async with db.transaction(Scope(msp_id)) as s:
        await readiness.store(s, msp_id, results, utcnow())



async def _waiting_on_locks(db, msp_id, statement_start: str) -> int:
    async with db.transaction(Scope(msp_id)) as s:
        return await s.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                   " AND query LIKE :q"), {"q": statement_start + "%"})


async def test_two_passes_storing_the_same_practices_scores_in_opposite_orders_never_deadlock(db, tenant):
    # The minute's pass rescored practices in the order they were marked, the hourly one by id. A
    # third transaction holds the middle score, so both passes are caught halfway through their rows.
    ids = sorted([(await create_practice(db, tenant.msp_id))[0].id for _ in range(10)])
    async with db.transaction(Scope(tenant.msp_id)) as s:
        results = await readiness.compute(s, tenant.msp_id, ids, utcnow())
    await _store(db, tenant.msp_id, results)
    forward, backward = {i: results[i] for i in ids}, {i: results[i] for i in reversed(ids)}
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("SELECT 1 FROM readiness_current WHERE msp_id = :m AND practice_id = :p FOR UPDATE"),
                        {"m": tenant.msp_id, "p": ids[5]})
        passes = [asyncio.create_task(_store(db, tenant.msp_id, forward)),
                  asyncio.create_task(_store(db, tenant.msp_id, backward))]
        for _ in range(800):
            if await _waiting_on_locks(db, tenant.msp_id, "INSERT INTO readiness_current") == 2:
                break
            await asyncio.sleep(0.025)
        else:
            pytest.fail("the two passes never both waited")
    assert await asyncio.gather(*passes, return_exceptions=True) == [None, None]
