"""Every main page: loads, has no serious or critical axe violation, and is screenshotted, wide and at 360 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_accessibility, screenshot, settle

pytestmark = pytest.mark.e2e

# (who, path, the page's heading, screenshot name); {practice} is the world's own practice.
MAIN_PAGES = [
    ("msp_technician", "/portfolio", "Portfolio", "msp-portfolio"),
    ("msp_technician", "/incidents", "Incidents", "msp-incidents"),
    ("msp_technician", "/agents", "Agents", "msp-agents"),
    ("msp_admin", "/users", "Users and roles", "msp-users"),
    ("msp_admin", "/audit-log", "Audit log", "msp-audit-log"),
    ("msp_admin", "/alert-policies", "Alert policies", "msp-alert-policies"),
    ("msp_admin", "/templates", "Plan templates", "msp-templates"),
    ("msp_technician", "/practices/{practice}/readiness", "Bayside Dental", "msp-practice-readiness"),
    ("msp_technician", "/practices/{practice}/overview", "Bayside Dental", "msp-practice-inventory"),
    ("msp_technician", "/practices/{practice}/systems", "Bayside Dental", "msp-practice-systems"),
    ("msp_technician", "/practices/{practice}/plan", "Bayside Dental", "msp-practice-plan"),
    ("msp_technician", "/practices/{practice}/backups", "Bayside Dental", "msp-practice-backups"),
    ("practice_owner", "/readiness", "Readiness", "practice-readiness"),
    ("practice_owner", "/systems", "Systems", "practice-systems"),
    ("practice_owner", "/plan", "Continuity plan", "practice-plan"),
    ("practice_owner", "/links", "Internet links", "practice-links"),
    ("practice_owner", "/backups", "Backups", "practice-backups"),
    ("practice_owner", "/reports", "Monthly reports", "practice-reports"),
    ("practice_staff", "/account", "Your account", "practice-account"),
]


@pytest.mark.parametrize("width", [1280, 360], ids=["wide", "360px"])
def test_every_main_page_is_accessible_and_fits(world, as_person, width):
    for who, path, heading, name in MAIN_PAGES:
        page = as_person(who, width=width)
        page.goto(path.format(practice=world.tenant.practice.id))
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        settle(page)
        check_accessibility(page, f"{path} at {width}px")
        # Nothing may force sideways scrolling of the whole page at 360 px (tables scroll in their own region).
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            culprits = page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(e => !e.closest('.table-scroll') && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
            pytest.fail(f"{path} is {overflow}px wider than a {width}px screen: {culprits}")
        screenshot(page, f"{name}-{width}")
        page.context.close()


def test_the_sign_in_page_is_accessible_at_360px(new_page):
    page = new_page(width=360)
    page.goto("/sign-in")
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    check_accessibility(page, "sign-in at 360px")
    screenshot(page, "sign-in-360")
