"""The worker re-checks, where it applies an event, that what the event names is still at the site
of the agent that reported it: an object moved to another site after the API accepted the event
makes that event unapplicable (services/core/telemetry/site_scope.py), while the site's own events
of the same kind apply."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from services.core.db import Scope
from services.core.telemetry.claim import claim_and_append
from services.core.telemetry.processing import apply_batch, drain
from services.core.telemetry.unapplicable import UnapplicableEvent
from tests.factories_inventory import create_job, create_link, create_site, create_system
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, ev, job_state, link_state, one, pending, rows, run_event, sample_event, send


async def move(db, msp_id: uuid.UUID, table: str, object_id: uuid.UUID, site_id: uuid.UUID | None) -> None:
    async with db.transaction(Scope(msp_id)) as s:
        await s.execute(text(f"UPDATE {table} SET site_id = :s WHERE msp_id = :m AND id = :i"),
                        {"s": site_id, "m": msp_id, "i": object_id})


async def seq_of(db, msp_id: uuid.UUID, event_id: str) -> int:
    return (await one(db, msp_id, "SELECT seq FROM telemetry_event WHERE msp_id = :m AND event_id = :e", e=event_id))["seq"]


async def apply_pending(db, msp_id: uuid.UUID) -> None:
    """Claim and apply one batch the way processing.process_batch does, without its handling of failures."""
    async with db.transaction(Scope(msp_id)) as session:
        batch = await claim_and_append(session, msp_id, 1_000)
        await apply_batch(session, msp_id, batch)


async def set_aside(db, msp_id: uuid.UUID, seq: int) -> None:
    """What the worker's set-aside path does to the one event, so the next one can be examined."""
    async with db.transaction(Scope(msp_id)) as s:
        await s.execute(text("UPDATE telemetry_event SET processed_at = now() WHERE msp_id = :m AND seq = :q"),
                        {"m": msp_id, "q": seq})


async def refused_at_apply(db, msp_id: uuid.UUID, event_id: str) -> UnapplicableEvent:
    before = await pending(db, msp_id)
    with pytest.raises(UnapplicableEvent) as raised:
        await apply_pending(db, msp_id)
    assert raised.value.seq == await seq_of(db, msp_id, event_id)
    assert raised.value.code == "not-at-agent-site"
    assert await pending(db, msp_id) == before  # the batch rolled back: nothing applied, nothing lost
    return raised.value


@pytest.fixture
async def annex(db, tenant):
    return await create_site(db, tenant.practice, "Annex")


async def test_a_run_of_a_job_moved_to_another_site_after_it_was_recorded_is_not_applied(client, db, tenant, annex):
    agent = await create_agent(db, tenant.site)
    stays = await create_job(db, tenant.practice, "main-nas")
    moves = await create_job(db, tenant.practice, "moving-nas")
    await send(client, agent, [run_event("main-nas", at(30), at(20))])
    assert await drain(db, tenant.msp_id) == 1
    assert (await job_state(db, tenant.msp_id, stays.id))["last_status"] == "success"

    run = run_event("moving-nas", at(30), at(20))
    await send(client, agent, [run])
    await move(db, tenant.msp_id, "backup_job", moves.id, annex.id)
    error = await refused_at_apply(db, tenant.msp_id, run["id"])
    assert "backup job" in error.reason and "no longer at the site" in error.reason
    assert await job_state(db, tenant.msp_id, moves.id) is None


async def test_a_run_of_a_job_taken_off_every_site_after_it_was_recorded_is_not_applied(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "usb-drive")
    run = run_event("usb-drive", at(30), at(20))
    await send(client, agent, [run])
    await move(db, tenant.msp_id, "backup_job", job.id, None)
    await refused_at_apply(db, tenant.msp_id, run["id"])


async def test_a_restore_test_whose_job_or_system_left_the_site_is_not_applied(client, db, tenant, annex):
    agent = await create_agent(db, tenant.site)
    ehr, imaging = await create_system(db, tenant.practice, "EHR"), await create_system(db, tenant.practice, "Imaging")
    await create_job(db, tenant.practice, "main-nas", systems=[ehr])
    imaging_job = await create_job(db, tenant.practice, "imaging-nas", systems=[imaging])

    def restore(**fields):
        return ev("restore_test", at(5), started_at=at(35), finished_at=at(5), success=True, **fields)

    await send(client, agent, [restore(job="main-nas"), restore(system="EHR")])
    assert await drain(db, tenant.msp_id) == 2
    assert len(await rows(db, tenant.msp_id, "SELECT 1 FROM restore_test WHERE msp_id = :m")) == 2

    by_system, by_job = restore(system="Imaging"), restore(job="imaging-nas")
    await send(client, agent, [by_system])
    await send(client, agent, [by_job])
    # The system is at the site only through the job that protects it there.
    await move(db, tenant.msp_id, "backup_job", imaging_job.id, annex.id)
    error = await refused_at_apply(db, tenant.msp_id, by_system["id"])
    assert error.reason.startswith("This restore test names a system")
    await set_aside(db, tenant.msp_id, error.seq)
    error = await refused_at_apply(db, tenant.msp_id, by_job["id"])
    assert error.reason.startswith("This restore test names a backup job")
    assert len(await rows(db, tenant.msp_id, "SELECT 1 FROM restore_test WHERE msp_id = :m")) == 2


async def test_a_failover_onto_a_link_moved_to_another_site_is_not_applied(client, db, tenant, annex):
    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    lte = await create_link(db, tenant.site, "LTE", role="backup")
    hotspot = await create_link(db, tenant.site, "Hotspot", role="hotspot")
    await send(client, agent, [ev("failover", at(10), from_link="Fiber", to_link="LTE", started_at=at(10))])
    assert await drain(db, tenant.msp_id) == 1
    assert (await link_state(db, tenant.msp_id, lte.id))["on_backup_since"] is not None

    onto_hotspot = ev("failover", at(5), from_link="LTE", to_link="Hotspot", started_at=at(5))
    await send(client, agent, [onto_hotspot])
    await move(db, tenant.msp_id, "link", hotspot.id, annex.id)
    error = await refused_at_apply(db, tenant.msp_id, onto_hotspot["id"])
    assert error.reason.startswith("This failover names a link")
    assert len(await rows(db, tenant.msp_id, "SELECT 1 FROM failover_event WHERE msp_id = :m")) == 1


async def test_a_sample_of_a_link_moved_to_another_site_is_not_appended(client, db, tenant, annex):
    agent = await create_agent(db, tenant.site)
    stays = await create_link(db, tenant.site, "Fiber")
    moves = await create_link(db, tenant.site, "LTE", role="backup")
    await send(client, agent, [sample_event("Fiber", at(2)), sample_event("LTE", at(2))])
    assert await drain(db, tenant.msp_id) == 2

    late = sample_event("LTE", at(1))
    await send(client, agent, [sample_event("Fiber", at(1)), late])
    await move(db, tenant.msp_id, "link", moves.id, annex.id)
    error = await refused_at_apply(db, tenant.msp_id, late["id"])
    assert error.reason.startswith("This link sample names a link")
    samples = await rows(db, tenant.msp_id, "SELECT link_id FROM link_sample WHERE msp_id = :m")
    assert sorted(str(r["link_id"]) for r in samples) == sorted([str(stays.id), str(moves.id)])  # only the first batch's


async def test_events_recorded_before_their_site_was_deleted_still_apply_to_the_jobs_that_lost_it(client, db, tenant, annex):
    agent = await create_agent(db, annex)
    job = await create_job(db, tenant.practice, "annex-nas", site_id=annex.id)
    await send(client, agent, [run_event("annex-nas", at(30), at(20)), ev("heartbeat", at(1))])
    async with db.transaction(Scope(tenant.msp_id)) as s:  # the job loses its site, the inbox rows theirs
        await s.execute(text("DELETE FROM site WHERE msp_id = :m AND id = :i"), {"m": tenant.msp_id, "i": annex.id})
    await apply_pending(db, tenant.msp_id)
    assert (await job_state(db, tenant.msp_id, job.id))["last_status"] == "success"


async def test_a_link_moved_to_another_site_has_its_state_filed_there_from_its_first_sample_there(client, db, tenant, annex):
    here, there = await create_agent(db, tenant.site), await create_agent(db, annex)
    link = await create_link(db, tenant.site, "LTE", role="backup")
    await send(client, here, [sample_event("LTE", at(3))])
    assert await drain(db, tenant.msp_id) == 1
    await move(db, tenant.msp_id, "link", link.id, annex.id)
    await send(client, there, [sample_event(str(link.id), at(1))])
    assert await drain(db, tenant.msp_id) == 1
    assert (await link_state(db, tenant.msp_id, link.id))["site_id"] == annex.id
