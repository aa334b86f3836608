"""An MSP owner routes alerts in the web app: the first channel's default route, edited, removed and added back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_accessibility, run, screenshot, settle, sign_in

pytestmark = pytest.mark.e2e


async def _own_msp(world):
    # An MSP of its own: its channels and routes start empty whatever the other files did, and the
    # shared world's practices (and their pinned scores) are left alone.
    from services.core.db import Database
    from tests.factories import build_tenant

    db = Database.connect(world.database_urls[1], pool_size=1)
    try:
        return await build_tenant(db)
    finally:
        await db.dispose()


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", [1280, 360])
def test_an_msp_owner_adds_a_channel_edits_its_default_route_and_is_warned_when_nothing_is_routed(world, new_page, width):
    tenant = run(_own_msp(world))
    page = new_page(width=width)
    sign_in(page, tenant["msp_owner"])

    page.goto("/portfolio")
    settle(page)
    banner = page.get_by_text("Nobody is told about new incidents.")
    expect(banner).to_be_visible()
    page.get_by_role("link", name="Set up where incidents go").click()
    expect(page.get_by_role("heading", name="Alert policies", level=1)).to_be_visible()
    settle(page)
    routes = page.locator("section", has=page.get_by_role("heading", name="Notification routes"))
    expect(routes.get_by_role("alert")).to_contain_text("Incidents go nowhere.")

    add = page.get_by_role("form", name="Add a channel")
    add.get_by_role("textbox", name="Channel name").fill("On call")
    add.get_by_role("textbox", name="Email addresses (comma-separated)").fill("oncall@harbor.example")
    add.get_by_role("button", name="Add channel").click()
    expect(page.get_by_text("As your first channel, it gets every incident")).to_be_visible()
    route = routes.get_by_role("article", name="Every practice → On call")
    expect(route).to_contain_text("Every severity")
    expect(routes.get_by_role("alert")).to_have_count(0)

    route.get_by_role("button", name="Edit").click()
    form = routes.get_by_role("form", name="Edit the route Every practice → On call")
    form.get_by_label("Severity").select_option(label="High and critical")
    form.get_by_label("Escalate after (minutes unacknowledged)").fill("30")
    form.get_by_role("button", name="Save route").click()
    # The API's answer, at the field it concerns, in words.
    expect(form.get_by_text("Choose the channel to escalate to, or leave the delay empty.")).to_be_visible()
    expect(form.get_by_label("Escalate to")).to_have_attribute("aria-invalid", "true")
    form.get_by_label("Escalate after (minutes unacknowledged)").fill("")
    form.get_by_role("button", name="Save route").click()
    expect(route).to_contain_text("High and critical")
    settle(page)
    _no_sideways_scroll(page)
    screenshot(page, f"notification-routes-{width}")
    check_accessibility(page, f"notification routes at {width} px")

    page.once("dialog", lambda d: d.accept())
    route.get_by_role("button", name="Remove").click()
    expect(routes.get_by_role("alert")).to_contain_text("No route that is on sends to a channel that is on.")
    expect(route).to_have_count(0)

    page.goto("/incidents")
    settle(page)
    expect(page.get_by_text("Nobody is told about new incidents.")).to_be_visible()
    _no_sideways_scroll(page)
    screenshot(page, f"incidents-nothing-routed-{width}")
    check_accessibility(page, f"incidents with nothing routed at {width} px")

    page.goto("/alert-policies")
    settle(page)
    routes.get_by_role("button", name="Add a route").click()
    new = routes.get_by_role("form", name="Add a route")
    new.get_by_label("Practice").select_option(label=tenant.practice.name)
    new.get_by_role("button", name="Add route").click()
    expect(routes.get_by_role("article", name=f"{tenant.practice.name} → On call")).to_be_visible()
    expect(routes.get_by_role("alert")).to_have_count(0)
