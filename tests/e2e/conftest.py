"""Browser tests: the built web app served by the real API on 127.0.0.1, driven in Debian's Chromium.

One world is built per session (a fresh MSP with three practices, their people, a plan and an
agent), and each person signs in through the real pages once; later tests reuse their cookies,
so a TOTP code is never replayed inside its 30-second window.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import require_program

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
SCREENSHOTS = Path(__file__).parent / "screenshots"
AXE = FRONTEND / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _newest_source(root: Path) -> float:
    files = [p for p in (root / "src").rglob("*") if p.is_file()] + [root / "index.html", root / "package.json"]
    return max(p.stat().st_mtime for p in files if p.exists())


def build_frontend() -> None:
    """`npm run build` when dist is missing or older than the sources (the Makefile usually did it)."""
    index = FRONTEND / "dist" / "index.html"
    if index.exists() and index.stat().st_mtime >= _newest_source(FRONTEND):
        return
    require_program("npm", "apt-get install npm")
    subprocess.run(["npm", "run", "build"], cwd=FRONTEND, check=True, capture_output=True, timeout=600)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return require_program("chromium", "apt-get install chromium")


@pytest.fixture(scope="session")
def app_url(chromium_path, database_urls) -> str:
    # Built before the server starts: the app factory serves dist only if it exists at start-up.
    build_frontend()
    from tests.live_server import start

    server = start(database_urls[1])
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


# ----- the world the scenarios run in -----

@dataclass
class World:
    msp_id: Any
    tenant: Any  # tests.factories.Tenant: practice = "Bayside" (perfect), sibling = "Sandy Cove"
    middle_id: Any  # a third practice whose score is pinned between the two
    agent: Any  # an enrolled agent at the perfect practice's site
    job_name: str
    database_urls: tuple[str, str]
    storage: dict[str, Any] = field(default_factory=dict)  # signed-in cookies per person key

    def person(self, key: str):
        return self.tenant[key]


def run(coro):
    """Run async set-up code from a synchronous test. Playwright's sync API keeps an event loop
    running in the test's thread, so the coroutine gets its own loop in its own thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _history(world_now, job: str, link: str) -> list[dict]:
    """Six hours of link samples and five nights of good backups (the newest an hour old), as the agent would report them."""
    events = []
    for i in range(36):
        at = world_now - timedelta(minutes=10 * i)
        up = True  # a healthy link: the portfolio's ranking depends on Bayside being the best practice
        events.append({"id": f"e2e-sample-{i}", "type": "link_sample", "occurred_at": at.isoformat(), "link": link, "up": up,
                       "latency_ms": 18.0 + (i % 6) * 4 if up else None, "loss_pct": 0.0 if i % 5 else 0.5,
                       "jitter_ms": 2.0})
    # The newest an hour ago, so the EHR's RPO (one day) stays met.
    for night in range(5):
        finished = world_now - timedelta(days=night, hours=1)
        events.append({"id": f"e2e-run-{night}", "type": "backup_run", "occurred_at": finished.isoformat(), "job": job,
                       "status": "success", "exit_code": 0, "started_at": (finished - timedelta(minutes=20)).isoformat(),
                       "finished_at": finished.isoformat(), "bytes": 12_000_000_000, "restore_point_at": finished.isoformat()})
    return events


async def _build_world(database_urls, app_url: str) -> World:
    from services.core.db import Database, Scope
    from services.core.practices.models import Practice
    from services.core.readiness import service as readiness
    from tests.factories import build_tenant, create_practice
    from tests.factories_plans import assign_role, create_plan
    from tests.factories_readiness import build_perfect_practice, seed_scores
    from services.core.telemetry.processing import drain
    from tests.factories_telemetry import create_agent

    db = Database.connect(database_urls[1], pool_size=2)
    owner = Database.connect(database_urls[0], pool_size=1)
    try:
        tenant = await build_tenant(db)
        async with db.transaction(Scope(tenant.msp_id)) as s:
            for p, name in ((tenant.practice, "Bayside Dental"), (tenant.sibling, "Sandy Cove Family Practice")):
                row = await s.get(Practice, (tenant.msp_id, p.id))
                row.name = name
        perfect = await build_perfect_practice(db, tenant.practice, tenant.site)
        middle, _ = await create_practice(db, tenant.msp_id, name="Harbor View Pediatrics")
        agent = await create_agent(db, tenant.site)
        async with httpx.AsyncClient(base_url=app_url, timeout=30) as http:
            r = await http.post("/api/v1/ingest", headers=agent.headers,
                                json={"events": _history(datetime.now(timezone.utc), perfect.onsite.name, perfect.primary.name)})
            assert r.status_code == 202, r.text
        await drain(db, tenant.msp_id)
        async with db.transaction(Scope(tenant.msp_id)) as s:
            await readiness.recompute(s, tenant.msp_id, [tenant.practice.id, tenant.sibling.id])
        async with db.transaction(Scope(tenant.msp_id)) as s:
            perfect_score = (await readiness.current(s, tenant.msp_id, tenant.practice.id)).score
        # Pinned just under the perfect practice: one failed backup must push Bayside below it.
        await seed_scores(owner, tenant.msp_id, {middle.id: perfect_score - 3}, date.today())
        # A version waiting for the owner's approval, and a role for the staff member to acknowledge.
        await create_plan(db, tenant.practice, state="in_review")
        await assign_role(db, tenant.practice, tenant["practice_staff"], "Front desk lead", duties="Call patients to reschedule")
        return World(tenant.msp_id, tenant, middle.id, agent, perfect.onsite.name, database_urls)
    finally:
        await db.dispose()
        await owner.dispose()


@pytest.fixture(scope="session")
def world(app_url, database_urls) -> World:
    return run(_build_world(database_urls, app_url))


async def process_telemetry(world: World) -> None:
    """What the worker does after an ingest: process the batch (alert rules run in its hooks), then rescore."""
    import services.core.alerts.evaluate  # noqa: F401  (registers the alert hook)
    from services.core.db import Database
    from services.core.readiness import service as readiness
    from services.core.telemetry.processing import drain

    db = Database.connect(world.database_urls[1], pool_size=2)
    try:
        await drain(db, world.msp_id)
        await readiness.recompute_dirty(db)
    finally:
        await db.dispose()


# ----- pages -----

@pytest.fixture
def new_page(browser, app_url):
    """Open a page (optionally as a signed-in person's saved cookies) at a width; closed after the test."""
    contexts = []

    def open_page(storage_state: dict | None = None, width: int = 1280, height: int = 900):
        context = browser.new_context(base_url=app_url, viewport={"width": width, "height": height},
                                      storage_state=storage_state, accept_downloads=True)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for c in contexts:
        c.close()


def sign_in(page, person) -> None:
    """Through the real sign-in page: password, then the authenticator code when the person has MFA."""
    page.goto("/sign-in")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    if person.totp_secret:
        page.get_by_label("Authentication code").fill(person.fresh_code())
        page.get_by_role("button", name="Continue").click()
    # The signed-in shell's top bar (the sign-in page has a banner too, and the navigation hides
    # behind a menu button on narrow screens).
    page.locator("header.topbar").wait_for()


@pytest.fixture
def as_person(world, new_page):
    """A page signed in as tenant[key]; signs in through the UI the first time, then reuses the cookies."""

    def open_as(key: str, width: int = 1280):
        page = new_page(world.storage.get(key), width=width)
        if key not in world.storage:
            sign_in(page, world.person(key))
            world.storage[key] = page.context.storage_state()
        return page

    return open_as


# ----- accessibility and screenshots -----

def check_accessibility(page, name: str) -> None:
    """axe-core on the page as shown: no serious or critical violation (WCAG 2.1 A and AA rules)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
    bad = [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{name}: " + json.dumps(bad, indent=1)


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def settle(page) -> None:
    """Wait until nothing is loading: every view shows a .loading status while it fetches (the page
    never reaches "network idle" because the live-update stream stays open)."""
    from playwright.sync_api import expect

    expect(page.locator(".loading")).to_have_count(0, timeout=10_000)
