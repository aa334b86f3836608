"""A report the worker set aside, as a technician finds it and sends it again, wide and at 360 px."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_accessibility, run, screenshot, settle

pytestmark = pytest.mark.e2e

RAW_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


async def _set_aside_one(world, app_url: str) -> str:
    """A backup run whose recorded payload lost its start (as a buggy release would leave it), processed."""
    from sqlalchemy import text

    from services.core.audit.service import SYSTEM
    from services.core.db import Database, Scope
    from services.core.telemetry import dead_letters
    from services.core.telemetry.processing import drain

    # What the other width's run left (sent again, and set aside again once processed) is cleared away.
    db = Database.connect(world.database_urls[1], pool_size=1)
    try:
        await drain(db, world.msp_id)
        async with db.transaction(Scope(world.msp_id)) as s:
            await dead_letters.discard(s, world.msp_id, world.tenant.practice.id, SYSTEM)
    finally:
        await db.dispose()
    finished = datetime.now(timezone.utc) - timedelta(minutes=30)
    event_id = f"e2e-set-aside-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=app_url, timeout=30) as http:
        r = await http.post("/api/v1/ingest", headers=world.agent.headers, json={"events": [{
            "id": event_id, "type": "backup_run", "occurred_at": finished.isoformat(), "job": world.job_name,
            "status": "success", "started_at": (finished - timedelta(minutes=20)).isoformat(), "finished_at": finished.isoformat()}]})
        assert r.status_code == 202, r.text
    db = Database.connect(world.database_urls[1], pool_size=1)
    try:
        async with db.transaction(Scope(world.msp_id)) as s:
            await s.execute(text("UPDATE telemetry_event SET payload = payload - 'started_at' WHERE msp_id = :m AND event_id = :e"),
                            {"m": world.msp_id, "e": event_id})
        await drain(db, world.msp_id)
    finally:
        await db.dispose()
    return event_id


async def _letter(world, event_id: str) -> dict:
    from sqlalchemy import text

    from services.core.db import Database, Scope

    db = Database.connect(world.database_urls[1], pool_size=1)
    try:
        async with db.transaction(Scope(world.msp_id)) as s:
            row = (await s.execute(text("SELECT replay_count, resolution FROM telemetry_dead_letter WHERE msp_id = :m"
                                        " AND event_id = :e"), {"m": world.msp_id, "e": event_id})).mappings().one()
            pending = await s.scalar(text("SELECT count(*) FROM telemetry_event WHERE msp_id = :m AND event_id = :e"
                                          " AND processed_at IS NULL"), {"m": world.msp_id, "e": event_id})
        return {**row, "pending": pending}
    finally:
        await db.dispose()


@pytest.mark.parametrize("width", [1280, 360], ids=["wide", "360px"])
def test_a_technician_finds_a_set_aside_report_and_sends_it_again(world, app_url, as_person, width):
    event_id = run(_set_aside_one(world, app_url))
    page = as_person("msp_technician", width=width)
    page.goto(f"/set-aside?practice={world.tenant.practice.id}")
    expect(page.get_by_role("heading", level=1, name="Set-aside reports")).to_be_visible()
    settle(page)
    item = page.locator("li.incident", has_text="The start time is missing.")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Backup run from the agent on")
    check_accessibility(page, f"set-aside reports at {width}px")
    main = page.locator("main").inner_text()
    assert not RAW_TIME.search(main), f"a raw timestamp is shown: {main}"
    assert "started_at" not in main
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a {width}px screen"
    screenshot(page, f"msp-set-aside-{width}")

    item.get_by_role("button", name=re.compile("^Send again")).click()
    expect(page.get_by_role("heading", name="Nothing is set aside")).to_be_visible()
    assert run(_letter(world, event_id)) == {"replay_count": 1, "resolution": "replayed", "pending": 1}
    screenshot(page, f"msp-set-aside-replayed-{width}")
    page.context.close()


async def _refuse_one(world, app_url: str) -> None:
    async with httpx.AsyncClient(base_url=app_url, timeout=30) as http:
        r = await http.post("/api/v1/ingest", headers=world.agent.headers, json={"events": [{
            "id": f"e2e-refused-{uuid.uuid4().hex[:8]}", "type": "backup_run",
            "occurred_at": datetime.now(timezone.utc).isoformat(), "job": "a job Seawall does not know", "status": "success",
            "started_at": (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()}]})
        assert r.status_code == 422, r.text


@pytest.mark.parametrize("width", [1280, 360], ids=["wide", "360px"])
def test_a_technician_reads_what_was_refused_from_an_agent(world, app_url, as_person, width):
    run(_refuse_one(world, app_url))
    page = as_person("msp_technician", width=width)
    page.goto("/agents")
    expect(page.get_by_role("heading", level=1, name="Agents")).to_be_visible()
    settle(page)
    page.get_by_role("button", name=re.compile("^Refused reports")).first.click()
    panel = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Reports refused from")))
    expect(panel).to_contain_text("Some reports in the batch were not valid")
    expect(panel).to_contain_text("Backup run (report 1 of the batch): the report names no backup job of this agent's site")
    settle(page)
    check_accessibility(page, f"agents with refused reports at {width}px")
    text = panel.inner_text()
    assert not RAW_TIME.search(text), f"a raw timestamp is shown: {text}"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a {width}px screen"
    screenshot(page, f"msp-agent-refusals-{width}")
    page.context.close()
