"""The Backups view shows a success whose restore point did not move as stale, as readiness judged it (issue 20)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_accessibility, run, screenshot, settle

pytestmark = pytest.mark.e2e


async def _stuck_job(world, app_url: str) -> None:
    """Sandy Cove (already the worst practice) gets a job whose last two successes report the same snapshot."""
    import services.core.alerts.evaluate  # noqa: F401  (registers the alert hook, as the worker does)
    from services.core.db import Database
    from tests.factories_inventory import create_job
    from tests.factories_telemetry import create_agent

    db = Database.connect(world.database_urls[1], pool_size=1)
    try:
        sibling = world.tenant.sibling
        await create_job(db, sibling, "Front desk NAS", site_id=world.tenant.sibling_site.id)
        agent = await create_agent(db, world.tenant.sibling_site)
    finally:
        await db.dispose()
    now = datetime.now(timezone.utc)
    point = (now - timedelta(days=1, hours=2)).isoformat()
    events = []
    for i, finished in enumerate((now - timedelta(days=1), now - timedelta(hours=1))):
        events.append({"id": f"e2e-stale-{i}", "type": "backup_run", "occurred_at": finished.isoformat(), "job": "Front desk NAS",
                       "status": "success", "exit_code": 0, "started_at": (finished - timedelta(minutes=20)).isoformat(),
                       "finished_at": finished.isoformat(), "bytes": 9_000_000_000, "restore_point_at": point})
    async with httpx.AsyncClient(base_url=app_url, timeout=30) as http:
        r = await http.post("/api/v1/ingest", headers=agent.headers, json={"events": events})
        assert r.status_code == 202, r.text
    # Apply and rescore Sandy Cove alone: process_telemetry's first sweep rescores every practice,
    # which would undo the scores the journeys pin (Harbor View just under Bayside).
    from services.core.db import Scope
    from services.core.readiness import service as readiness
    from services.core.telemetry.processing import drain

    db = Database.connect(world.database_urls[1], pool_size=2)
    try:
        await drain(db, world.msp_id)
        async with db.transaction(Scope(world.msp_id)) as s:
            await readiness.recompute(s, world.msp_id, [sibling.id])
    finally:
        await db.dispose()


@pytest.mark.parametrize("width", [1280, 360], ids=["wide", "360px"])
def test_a_success_that_saved_nothing_new_reads_as_stale_on_the_backups_page(world, as_person, app_url, width):
    if not world.storage.get("stale-job"):
        run(_stuck_job(world, app_url))
        world.storage["stale-job"] = True
    page = as_person("msp_technician", width=width)
    page.goto(f"/practices/{world.tenant.sibling.id}/backups")
    card = page.get_by_role("article", name="Front desk NAS")
    expect(card.get_by_text(re.compile(r"Reported success .*, but saved nothing new"))).to_be_visible()
    expect(card.get_by_text("the backup tool may be reporting an old snapshot", exact=False)).to_be_visible()
    expect(card.get_by_text(re.compile(r"^Success"))).to_have_count(0)
    expect(card.get_by_role("list", name=re.compile(r"nothing new saved on"))).to_be_visible()
    settle(page)
    check_accessibility(page, f"stale backups at {width}px")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    card.scroll_into_view_if_needed()
    screenshot(page, f"msp-practice-backups-stale-{width}")
