"""Onboarding a practice in the web app, on the real stack: an MSP owner goes from no practice to
its first readiness score through the wizard (practice, site, a starter-list system, a backup job,
a link, an agent's enrollment command), then the same steps are checked at 360 px.

The practice is removed afterwards, so the world's three practices keep their pinned ranking."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_accessibility, run, screenshot, settle

pytestmark = pytest.mark.e2e

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


async def _remove_practices(world, name_prefix: str) -> None:
    from sqlalchemy import select

    from services.core.audit.service import SYSTEM
    from services.core.db import Database, Scope
    from services.core.practices import service
    from services.core.practices.models import Practice

    db = Database.connect(world.database_urls[1], pool_size=1)
    try:
        async with db.transaction(Scope(world.msp_id)) as s:
            for practice in await s.scalars(select(Practice).where(Practice.msp_id == world.msp_id,
                                                                   Practice.name.startswith(name_prefix))):
                await service.delete_practice(s, practice, SYSTEM)
    finally:
        await db.dispose()


def _look(page, name: str) -> None:
    settle(page)
    check_accessibility(page, name)
    assert page.evaluate(OVERFLOW) <= 0, f"{name}: the page scrolls sideways"
    screenshot(page, name)


def test_an_msp_owner_onboards_a_practice_from_nothing_to_its_first_readiness_score(world, as_person):
    name = f"Onboard Test Clinic {uuid.uuid4().hex[:6]}"
    try:
        page = as_person("msp_owner")
        page.goto("/portfolio")
        page.get_by_role("link", name="Add a practice").first.click()
        expect(page.get_by_role("heading", level=1, name="Add a practice")).to_be_visible()
        page.get_by_label("Practice name").fill(name)
        page.get_by_label("Time zone").select_option("America/Chicago")
        page.get_by_role("button", name="Save and continue").click()

        expect(page.get_by_role("heading", level=1, name=f"Set up {name}")).to_be_visible()
        practice_id = re.search(r"/practices/([0-9a-f-]{36})/onboard/sites", page.url).group(1)  # type: ignore[union-attr]
        # Nothing to skip to before the first site: links and the agent belong to one.
        expect(page.get_by_text("Add at least one site")).to_be_visible()
        page.get_by_label("Site name").fill("Main office")
        page.get_by_role("button", name="Save site").click()
        expect(page.get_by_role("region", name="Sites saved")).to_contain_text("Main office")
        # A refresh resumes at the same step, with what was saved.
        page.reload()
        expect(page.get_by_role("region", name="Sites saved")).to_contain_text("Main office")
        page.get_by_role("link", name="Next: Critical systems").click()

        page.get_by_role("button", name="Use Electronic health record (EHR)").click()
        expect(page.get_by_label("System name")).to_have_value("Electronic health record (EHR)")
        # RTO longer than MTD is said at the RTO field, in words, before anything is sent …
        page.get_by_label("Maximum downtime (MTD)").fill("120")
        rto_error = page.locator(".field--invalid", has=page.get_by_label("Time to recover (RTO)")).locator(".field__error")
        expect(rto_error).to_contain_text("must not be longer than the longest the practice can be without it (2 h)")
        # … and the API's own refusals land at their field too.
        page.get_by_label("Maximum downtime (MTD)").fill("480")
        page.get_by_label("Data that may be lost (RPO)").fill("")
        page.get_by_role("button", name="Save system").click()
        rpo_error = page.locator(".field--invalid", has=page.get_by_label("Data that may be lost (RPO)")).locator(".field__error")
        expect(rpo_error).to_be_visible()
        expect(rpo_error).not_to_contain_text("rpo_minutes")
        page.get_by_label("Data that may be lost (RPO)").fill("60")
        page.get_by_role("button", name="Save system").click()
        expect(page.get_by_role("region", name="Systems saved")).to_contain_text("Electronic health record (EHR) (tier 1, back within 4 h)")
        _look(page, "onboard-systems-1280")
        page.get_by_role("link", name="Next: Backup jobs").click()

        page.get_by_label("Job name").fill("Nightly to NAS")
        page.get_by_role("checkbox", name="Electronic health record (EHR)").check()
        page.get_by_role("button", name="Save backup job").click()
        expect(page.get_by_role("region", name="Backup jobs saved")).to_contain_text("Nightly to NAS: On-site, protects Electronic health record (EHR)")
        page.get_by_role("link", name="Next: Internet links").click()

        page.get_by_label("Link name").fill("Main fibre")
        page.get_by_label("Internet provider (optional)").fill("Comcast")
        page.get_by_role("button", name="Save link").click()
        expect(page.get_by_role("region", name="Links saved")).to_contain_text("Main fibre at Main office: Main connection, Comcast")
        page.get_by_role("link", name="Next: Enrol an agent").click()

        page.get_by_role("button", name="Get the install command").click()
        expect(page.get_by_label("Install and enrol command for Linux")).to_contain_text("SEAWALL_ENROLL_TOKEN=swe_")
        expect(page.get_by_label("Install and enrol command for Windows")).to_contain_text("$env:SEAWALL_ENROLL_TOKEN = 'swe_")
        _look(page, "onboard-agent-1280")
        page.get_by_role("link", name="Finish: see the readiness score").click()

        expect(page).to_have_url(re.compile(f"/practices/{practice_id}/readiness$"))
        settle(page)
        score = page.locator(".score-card__score")
        expect(score).to_contain_text(re.compile(r"\d+"))
        # What the wizard left out shows up as things to fix (no agent has reported yet, no restore test).
        expect(page.get_by_text(re.compile(r"\d+ things? to fix"))).to_be_visible()

        narrow = as_person("msp_owner", width=360)
        narrow.goto(f"/practices/{practice_id}/onboard/systems")
        expect(narrow.get_by_role("region", name="Systems saved")).to_be_visible()
        narrow.get_by_role("button", name="Use E-prescribing").click()
        narrow.get_by_label("Maximum downtime (MTD)").fill("60")
        _look(narrow, "onboard-systems-360")
        narrow.goto(f"/practices/{practice_id}/onboard/agent")
        narrow.get_by_role("button", name="Get the install command").click()
        expect(narrow.get_by_label("Install and enrol command for Windows")).to_be_visible()
        _look(narrow, "onboard-agent-360")
    finally:
        run(_remove_practices(world, name))
