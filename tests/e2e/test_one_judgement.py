"""One judgement on screen (issue 20): an agent's link goes down and comes back, and at each step
the portfolio row, the practice's readiness and the incident list say the same thing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import run, screenshot, settle

pytestmark = pytest.mark.e2e

NAME = "Lighthouse Family Clinic"
DOWN_TITLE = "Internet link Fiber at Site 1 is down"


async def _build(world) -> dict:
    import services.core.alerts.evaluate  # noqa: F401  (registers the alert hook, as the worker does)
    from services.core.db import Database, Scope
    from services.core.readiness import service as readiness
    from tests.factories import create_practice
    from tests.factories_inventory import create_link
    from tests.factories_telemetry import create_agent

    db = Database.connect(world.database_urls[1], pool_size=1)
    try:
        practice, (site,) = await create_practice(db, world.msp_id, name=NAME)
        await create_link(db, site, "Fiber")
        await create_link(db, site, "LTE", role="backup", medium="5g_lte")
        agent = await create_agent(db, site)
        async with db.transaction(Scope(world.msp_id)) as s:
            await readiness.recompute(s, world.msp_id, [practice.id])
    finally:
        await db.dispose()
    return {"practice_id": practice.id, "agent": agent}


async def _report(world, app_url: str, agent, events: list[dict], evaluate_at: datetime | None = None) -> None:
    """Through the real ingest API; then the worker's batch (its evaluation rescores in the batch's
    transaction), or the minute's evaluation at a later time. Only this practice is touched: the
    other journeys pin the other practices' scores."""
    from services.core.alerts.evaluate import evaluate_practices
    from services.core.db import Database, Scope
    from services.core.telemetry.processing import drain

    if events:
        async with httpx.AsyncClient(base_url=app_url, timeout=30) as http:
            r = await http.post("/api/v1/ingest", headers=agent.headers, json={"events": events})
            assert r.status_code == 202, r.text
    db = Database.connect(world.database_urls[1], pool_size=2)
    try:
        await drain(db, world.msp_id)
        if evaluate_at is not None:
            async with db.transaction(Scope(world.msp_id)) as s:
                await evaluate_practices(s, world.msp_id, [world.storage["lighthouse"]["practice_id"]], evaluate_at)
    finally:
        await db.dispose()


def _sample(link: str, at: datetime, up: bool) -> dict:
    return {"id": f"e2e-judgement-{link}-{at.timestamp()}-{up}", "type": "link_sample", "occurred_at": at.isoformat(),
            "link": link, "up": up, "loss_pct": 0.0 if up else 100.0, **({"latency_ms": 18.0, "jitter_ms": 2.0} if up else {})}


def _score(text: str) -> int:
    found = re.search(r"score\s*(\d+)", text)
    assert found, text
    return int(found.group(1))


def _screens(page, practice_id) -> tuple[int, int, bool, bool, str]:
    """The portfolio row's score, the readiness page's score and whether it lists the link down, whether
    the incident list shows it, and the readiness finding's text."""
    page.goto("/portfolio")
    settle(page)
    row = page.locator("table.portfolio tbody tr", has_text=NAME)
    expect(row).to_have_count(1)
    portfolio = _score(row.inner_text())
    page.goto(f"/practices/{practice_id}/readiness")
    settle(page)
    readiness = _score(page.locator(".score-card__score").inner_text())
    finding = page.locator(".finding", has_text=DOWN_TITLE)
    listed = finding.count() == 1
    words = finding.inner_text() if listed else ""
    page.goto("/incidents")
    settle(page)
    incident = page.locator(".incident", has_text=NAME).filter(has_text=DOWN_TITLE)
    return portfolio, readiness, listed, incident.count() == 1, words


def test_a_link_down_and_back_reads_the_same_on_the_portfolio_readiness_and_incidents(world, as_person, app_url):
    if "lighthouse" not in world.storage:
        world.storage["lighthouse"] = run(_build(world))
    practice_id, agent = world.storage["lighthouse"]["practice_id"], world.storage["lighthouse"]["agent"]
    now = datetime.now(timezone.utc)
    # The agent probes every 5 minutes (its heartbeat says so): a link is "no data" only after 25
    # minutes without a sample, longer than this test runs, even at its last, later evaluation.
    heartbeat = {"id": f"e2e-judgement-hb-{now.timestamp()}", "type": "heartbeat", "occurred_at": now.isoformat(),
                 "agent_version": "0.1.0", "heartbeat_interval_seconds": 300, "probe_interval_seconds": 300}
    run(_report(world, app_url, agent, [heartbeat, _sample("Fiber", now - timedelta(minutes=10), True),
                                        _sample("LTE", now - timedelta(minutes=10), True)]))
    page = as_person("msp_technician")

    portfolio, readiness, listed, incident, _ = _screens(page, practice_id)
    assert portfolio == readiness and not listed and not incident
    before = readiness

    # The fiber goes down, and stays down past link.down's two-minute hold.
    run(_report(world, app_url, agent, [_sample("Fiber", now - timedelta(minutes=4), False),
                                        _sample("Fiber", now - timedelta(minutes=1), False)]))
    portfolio, readiness, listed, incident, words = _screens(page, practice_id)
    assert (portfolio, listed, incident) == (readiness, True, True) and readiness == before - 10
    assert "Since" in words and "Cleared" not in words

    # It comes back: the condition clears, but ends only after the hysteresis — still on every screen
    # (the batch keeps its points; the minute's pass says it is clearing).
    run(_report(world, app_url, agent, [_sample("Fiber", now, True)], evaluate_at=datetime.now(timezone.utc)))
    portfolio, readiness, listed, incident, words = _screens(page, practice_id)
    assert (portfolio, readiness, listed, incident) == (before - 10, before - 10, True, True)
    assert "Cleared just now" in words
    page.goto(f"/practices/{practice_id}/readiness")
    settle(page)
    screenshot(page, "readiness-condition-clearing")

    # Stayed clear past the policy's five minutes and two evaluations: gone from every screen at once.
    run(_report(world, app_url, agent, [], evaluate_at=datetime.now(timezone.utc) + timedelta(minutes=6)))
    portfolio, readiness, listed, incident, _ = _screens(page, practice_id)
    assert (portfolio, readiness, listed, incident) == (before, before, False, False)
