"""The journeys of issue 7, end to end: real API, real database, built app, Chromium."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_accessibility, process_telemetry, run, screenshot, settle

pytestmark = pytest.mark.e2e

RANKED = ["Sandy Cove Family Practice", "Harbor View Pediatrics", "Bayside Dental"]


def practice_names(page) -> list[str]:
    return page.locator("table.portfolio tbody th a").all_inner_texts()


def test_a_technician_signs_in_with_totp_and_sees_the_portfolio_ranked_worst_first(world, new_page, app_url):
    page = new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    person = world.person("msp_technician")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Authentication code").fill(person.fresh_code())
    after_password = cookies(page)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1, name="Portfolio")).to_be_visible()
    settle(page)
    assert practice_names(page) == RANKED
    # Completing MFA renewed the session and its CSRF token (the app reads the new one from its cookie).
    signed_in = cookies(page)
    assert signed_in["seawall_session"] != after_password["seawall_session"]
    assert signed_in["seawall_csrf"] != after_password["seawall_csrf"]
    assert session_status(app_url, after_password["seawall_session"]) == 401
    assert session_status(app_url, signed_in["seawall_session"]) == 200
    expect(page.locator("table.portfolio tbody tr").first).to_contain_text("score")
    world.storage["msp_technician"] = page.context.storage_state()
    screenshot(page, "msp-portfolio")


def cookies(page) -> dict[str, str]:
    return {c["name"]: c["value"] for c in page.context.cookies()}


def session_status(app_url: str, session_cookie: str) -> int:
    """What the API says to a copy of a session cookie, outside the browser."""
    return httpx.get(f"{app_url}/api/v1/auth/session", headers={"Cookie": f"seawall_session={session_cookie}"}, timeout=10).status_code


def test_an_msp_admin_enrols_mfa_in_the_browser_and_keeps_working_under_the_renewed_session(world, new_page, app_url):
    import pyotp

    from services.core.db import Database
    from services.core.identity.models import Role
    from tests.factories import create_person

    async def new_admin():
        db = Database.connect(world.database_urls[1], pool_size=1)
        try:
            return await create_person(db, world.msp_id, Role.msp_admin, mfa=False)
        finally:
            await db.dispose()

    person = run(new_admin())
    page = new_page(width=360)
    page.goto("/sign-in")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    # The setup key, as someone who cannot scan the QR code types it into their app.
    secret = (page.locator("code.secret").text_content() or "").replace(" ", "")
    before = cookies(page)
    page.get_by_label("Enter the 6-digit code your app shows").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.get_by_label("I have saved these recovery codes").check()
    page.get_by_role("button", name="Continue to Seawall").click()
    expect(page.get_by_role("heading", level=1, name="Portfolio")).to_be_visible()
    renewed = cookies(page)
    assert renewed["seawall_session"] != before["seawall_session"] and renewed["seawall_csrf"] != before["seawall_csrf"]
    # A write through the app (signing out is a POST with the CSRF token) succeeds with the renewed token:
    # afterwards the renewed session is over on the server too.
    assert session_status(app_url, before["seawall_session"]) == 401
    assert session_status(app_url, renewed["seawall_session"]) == 200
    page.goto("/sign-out")
    expect(page.get_by_text("Your session has ended.")).to_be_visible()
    assert session_status(app_url, renewed["seawall_session"]) == 401


def test_a_failed_backup_pushed_through_ingest_drops_the_practice_in_the_open_portfolio(world, as_person, app_url):
    page = as_person("msp_technician")
    page.goto("/portfolio")
    settle(page)
    assert practice_names(page) == RANKED
    expect(page.locator("[data-live]")).to_have_attribute("data-live", "live")
    page.evaluate("window.__notReloaded = true")

    # The nightly job fails, and fails again on both retries: enough for the "failed in a row" rule.
    now = datetime.now(timezone.utc)
    events = []
    for attempt in range(3):
        finished = now - timedelta(minutes=10 * (2 - attempt))
        events.append({"id": f"e2e-failed-{now.timestamp()}-{attempt}", "type": "backup_run", "occurred_at": finished.isoformat(),
                       "job": world.job_name, "status": "failed", "exit_code": 1,
                       "started_at": (finished - timedelta(minutes=5)).isoformat(), "finished_at": finished.isoformat()})
    r = httpx.post(f"{app_url}/api/v1/ingest", json={"events": events}, headers=world.agent.headers, timeout=10)
    assert r.status_code == 202, r.text
    run(process_telemetry(world))

    # Bayside was last (best); its readiness falls below Harbor View's, so it moves up the worst-first list.
    expect(page.locator("table.portfolio tbody th a").last).to_have_text("Harbor View Pediatrics", timeout=15_000)
    names = practice_names(page)
    assert names.index("Bayside Dental") < names.index("Harbor View Pediatrics")
    assert page.evaluate("window.__notReloaded") is True
    screenshot(page, "msp-portfolio-after-failed-backup")


def test_the_technician_opens_the_incident_and_acknowledges_it(world, as_person):
    page = as_person("msp_technician")
    page.goto("/incidents")
    settle(page)
    incident = page.locator(".incident", has_text="Bayside Dental").first
    expect(incident).to_be_visible()
    screenshot(page, "msp-incidents")
    incident.get_by_role("link").click()
    expect(page.get_by_role("button", name="Acknowledge")).to_be_visible()
    check_accessibility(page, "incident detail")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_test_id("incident-status")).to_contain_text("Acknowledged by")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    screenshot(page, "msp-incident-acknowledged")


def test_a_practice_owner_approves_the_plan_and_downloads_the_pdf(world, as_person):
    page = as_person("practice_owner")
    page.goto("/plan")
    settle(page)
    expect(page.get_by_role("heading", name=re.compile(r"Version \d+: Waiting for approval"))).to_be_visible()
    page.get_by_role("button", name="Approve this version").click()
    expect(page.get_by_text(re.compile(r"Done: version \d+ is now approved, in force\."))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"Version \d+: Approved, in force"))).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF").click()
    download = info.value
    path = download.path()
    with open(path, "rb") as f:
        assert f.read(5) == b"%PDF-"
    assert download.suggested_filename.endswith(".pdf")
    screenshot(page, "practice-plan-approved")


def test_a_staff_member_acknowledges_their_role(world, as_person):
    page = as_person("practice_staff")
    page.goto("/plan")
    settle(page)
    expect(page.get_by_label("Your role")).to_contain_text("Front desk lead")
    expect(page.get_by_role("button", name="Approve this version")).to_have_count(0)
    page.get_by_role("button", name="I have read the plan and accept my role").click()
    expect(page.get_by_text(re.compile(r"You acknowledged version \d+\. Thank you\."))).to_be_visible()
    screenshot(page, "practice-plan-acknowledged")


def test_a_practice_owner_cannot_reach_another_practice_by_url(world, as_person):
    page = as_person("practice_owner")
    other = world.tenant.sibling.id
    for path in (f"/practices/{other}", f"/practices/{other}/plan", f"/practices/{world.tenant.practice.id}/readiness"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1, name="Page not found")).to_be_visible()
        expect(page.get_by_text("Sandy Cove Family Practice")).to_have_count(0)
    # The API itself refuses too: the other practice does not exist for this person.
    r = page.request.get(f"/api/v1/practices/{other}/readiness")
    assert r.status == 404
