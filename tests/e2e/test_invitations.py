"""Bringing people in (issue 21, job 6): an MSP owner invites someone, copies the one-time link
from the Users page, and the invitee opens it in a fresh browser and joins; the email itself is
read on the development mail page, as on a fresh `make run` machine."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import expect

from services.core import dev_mail
from services.core.settings import get_settings
from tests.e2e.conftest import check_accessibility, screenshot, settle
from tests.factories import unique

pytestmark = pytest.mark.e2e

PASSWORD = "a long enough passphrase for the new admin"


@pytest.fixture
def dev_mail_sink(app_url, tmp_path, monkeypatch):
    """The local sink of `seawall run`, with the live server's mail settings pointed at it. The
    invitation code reads the process-wide settings (the live server runs in this process), so the
    link names the live server's address as it would name `make run`'s."""
    settings = get_settings()
    port = dev_mail.free_port()
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", port)
    monkeypatch.setattr(settings, "public_url", app_url)
    sink = dev_mail.start_sink(dev_mail.mail_dir(settings), "127.0.0.1", port)
    yield sink
    sink.stop()


def test_an_msp_owner_invites_copies_the_link_and_the_invitee_joins_in_a_fresh_browser(world, as_person, new_page, dev_mail_sink):
    email = f"{unique('new-admin')}@example.test"
    page = as_person("msp_owner")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/users")
    settle(page)
    page.get_by_role("textbox", name="Email", exact=True).fill(email)
    page.get_by_role("combobox", name="Role", exact=True).select_option(label="MSP administrator")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"Invitation emailed to {email}.")).to_be_visible()
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_text("Link copied.")).to_be_visible()
    link = page.evaluate("() => navigator.clipboard.readText()")
    assert link.startswith(f"{get_settings().public_url}/accept-invite?token=swi_")
    expect(page.get_by_role("textbox", name=f"Invitation link for {email}")).to_have_value(link)
    check_accessibility(page, "users with an invitation link")
    screenshot(page, "invitation-link-1280")
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "sideways scroll at 360 px"
    check_accessibility(page, "users with an invitation link at 360 px")
    screenshot(page, "invitation-link-360")

    # The same email reached the development sink, and its page (in the owner's navigation) shows the link.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Development mail").click()
    card = page.locator("article").filter(has_text=email)
    expect(card.get_by_role("link", name="Open the invitation link")).to_have_attribute("href", link)
    check_accessibility(page, "development mail")
    screenshot(page, "dev-mail-1280")
    page.set_viewport_size({"width": 360, "height": 800})
    card.get_by_text("Whole message").click()
    # After the resize and the opened message have been laid out (asserted at once, the check could
    # read the width of the 1280-px layout).
    page.wait_for_function("() => document.documentElement.scrollWidth <= window.innerWidth", timeout=5_000)
    screenshot(page, "dev-mail-360")

    invitee = new_page()  # a fresh browser context: no cookies of the owner's
    invitee.goto(link)
    expect(invitee.get_by_role("heading", level=1, name="Join Seawall")).to_be_visible()
    invitee.get_by_label("Your name").fill("Nia New")
    invitee.get_by_label("Password", exact=True).fill(PASSWORD)
    invitee.get_by_label("Password again").fill(PASSWORD)
    invitee.get_by_role("button", name="Create account").click()
    # An MSP role signs in with a second step: the new admin sets it up, then is in.
    expect(invitee.get_by_role("heading", level=1, name="Set up two-step sign-in")).to_be_visible()
    secret = (invitee.locator("code.secret").text_content() or "").replace(" ", "")
    invitee.get_by_label("Enter the 6-digit code your app shows").fill(pyotp.TOTP(secret).now())
    invitee.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(invitee.get_by_role("heading", level=1, name="Save your recovery codes")).to_be_visible()

    # The link worked once: opened again, it says so.
    again = new_page()
    again.goto(link)
    expect(again.get_by_role("heading", level=1, name="We can't open this invitation")).to_be_visible()
