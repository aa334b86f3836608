"""More unapplicable events in one batch than the worker has rounds: every one is set aside, the good
events apply, and each call makes progress (docs/decisions/0012-set-aside-all-at-once.md)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from services.core.db import Scope
from services.core.telemetry import processing
from services.core.telemetry.processing import MAX_ATTEMPTS, process_batch
from services.core.telemetry.unapplicable import UnapplicableEvent
from tests.factories_inventory import create_job, create_link, create_site
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, pending, rows, run_event, sample_event, send

MANY = MAX_ATTEMPTS + 5


@pytest.fixture
async def annex(db, tenant):
    return await create_site(db, tenant.practice, "Annex")


async def _move(db, msp_id, table: str, object_id, site_id) -> None:
    async with db.transaction(Scope(msp_id)) as s:
        await s.execute(text(f"UPDATE {table} SET site_id = :s WHERE msp_id = :m AND id = :i"),
                        {"s": site_id, "m": msp_id, "i": object_id})


async def _letters(db, msp_id) -> dict[str, int]:
    found = await rows(db, msp_id, "SELECT code, count(*) AS n FROM telemetry_dead_letter WHERE msp_id = :m GROUP BY code")
    return {r["code"]: r["n"] for r in found}


async def test_more_misplaced_samples_runs_and_invalid_payloads_than_rounds_are_all_set_aside_in_one_call(
        client, db, tenant, annex):
    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    moved_link = await create_link(db, tenant.site, "LTE", role="backup")
    await create_job(db, tenant.practice, "nas")
    moved_job = await create_job(db, tenant.practice, "usb")
    events = [sample_event("LTE", at(60 - i)) for i in range(MANY)]
    events += [run_event("usb", at(200 - i), at(199 - i)) for i in range(MANY)]
    broken = [run_event("nas", at(100 - i), at(99 - i)) for i in range(MANY)]
    events += broken + [sample_event("Fiber", at(1)), run_event("nas", at(5), at(4))]
    await send(client, agent, events)
    await _move(db, tenant.msp_id, "link", moved_link.id, annex.id)
    await _move(db, tenant.msp_id, "backup_job", moved_job.id, annex.id)
    async with db.transaction(Scope(tenant.msp_id)) as s:  # as an older release might have recorded them
        await s.execute(text("UPDATE telemetry_event SET payload = payload || '{\"status\": 7}'"
                             " WHERE msp_id = :m AND event_id = ANY(:ids)"),
                        {"m": tenant.msp_id, "ids": [e["id"] for e in broken]})

    assert await process_batch(db, tenant.msp_id) == len(events)
    assert await pending(db, tenant.msp_id) == 0
    assert await _letters(db, tenant.msp_id) == {"not-at-agent-site": 2 * MANY, "invalid_payload": MANY}
    assert await rows(db, tenant.msp_id, "SELECT count(*) AS n FROM link_sample WHERE msp_id = :m") == [{"n": 1}]
    assert await rows(db, tenant.msp_id, "SELECT count(*) AS n FROM backup_run WHERE msp_id = :m") == [{"n": 1}]


async def test_an_applier_that_names_one_event_a_round_still_gets_every_event_set_aside_in_a_few_calls(
        client, db, tenant, monkeypatch):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    bad = [run_event("nas", at(100 - i), at(99 - i)) for i in range(MANY)]
    good = run_event("nas", at(5), at(4))
    await send(client, agent, bad + [good])
    bad_ids = {e["id"] for e in bad}
    original = processing.append_agent_runs

    async def refuse_first_bad(session, msp_id, events):
        for e in events:
            if e.event_id in bad_ids:
                raise UnapplicableEvent("names a backup job of another site", seq=e.seq, code="foreign_object")
        return await original(session, msp_id, events)

    monkeypatch.setattr(processing, "append_agent_runs", refuse_first_bad)
    taken = []
    for _ in range(3):
        n = await process_batch(db, tenant.msp_id)  # never raises: every round named an event
        taken.append(n)
        if not await pending(db, tenant.msp_id):
            break
    assert all(n > 0 for n in taken)
    assert await pending(db, tenant.msp_id) == 0
    assert await _letters(db, tenant.msp_id) == {"foreign_object": MANY}
    assert await rows(db, tenant.msp_id, "SELECT count(*) AS n FROM backup_run WHERE msp_id = :m") == [{"n": 1}]
