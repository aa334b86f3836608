import asyncio

from tests.factories import sign_in, unique
from tests.factories_identity import (
    anonymous,
    audit_events,
    link_token,
    owner_execute,
    plain_body,
)

NEW_PASSWORD = "a completely different passphrase"


async def request_reset(app, email):
    async with anonymous(app) as browser:
        return await browser.post("/api/v1/auth/password-reset/request", json={"email": email})


async def confirm(app, token, password=NEW_PASSWORD):
    async with anonymous(app) as browser:
        return await browser.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": password})


async def test_emailed_link_sets_the_password_ends_every_session_and_works_once(app, client, tenant, db, mailbox):
    staff = tenant["practice_staff"]
    await sign_in(client, staff)
    assert (await client.get("/api/v1/practices")).status_code == 200
    assert (await request_reset(app, staff.email.upper())).status_code == 202
    message = await mailbox.wait_for(staff.email)
    assert message["Subject"] == "Reset your Seawall password"
    assert "60 minutes" in plain_body(message)
    token = link_token(message, "reset-password")

    r = await confirm(app, token)
    assert r.status_code == 204, r.text
    assert (await client.get("/api/v1/practices")).status_code == 401  # the old session ended
    async with anonymous(app) as browser:
        r = await browser.post("/api/v1/auth/login", json={"email": staff.email, "password": staff.password})
        assert r.status_code == 401
        r = await browser.post("/api/v1/auth/login", json={"email": staff.email, "password": NEW_PASSWORD})
        assert r.status_code == 200 and r.json()["status"] == "ok"
    r = await confirm(app, token, "yet another long passphrase")
    assert r.status_code == 410 and "already been used" in r.json()["detail"]
    actions = [e.action for e in await audit_events(db, tenant.msp_id, "auth.password_reset")]
    assert actions == ["auth.password_reset_requested", "auth.password_reset"]


async def test_unknown_email_gets_the_same_answer_and_no_email(app, mailbox):
    email = f"{unique('nobody')}@example.test"
    r = await request_reset(app, email)
    assert r.status_code == 202 and r.content == b""
    await asyncio.sleep(0.3)
    assert mailbox.to(email) == []


async def test_expired_link_is_refused(app, tenant, owner_db, mailbox):
    staff = tenant["practice_owner"]
    await request_reset(app, staff.email)
    token = link_token(await mailbox.wait_for(staff.email), "reset-password")
    await owner_execute(owner_db, "UPDATE password_reset SET expires_at = now() - interval '1 second' WHERE user_id = :u",
                        u=staff.user_id)
    r = await confirm(app, token)
    assert r.status_code == 410 and "expired" in r.json()["detail"]
    assert (await confirm(app, "swr_" + "x" * 43)).status_code == 404


async def test_weak_password_is_refused_and_the_link_still_works(app, tenant, mailbox):
    staff = tenant["practice_staff"]
    await request_reset(app, staff.email)
    token = link_token(await mailbox.wait_for(staff.email), "reset-password")
    r = await confirm(app, token, "short")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "password"
    assert (await confirm(app, token)).status_code == 204


async def test_a_newer_link_makes_older_ones_useless_once_used(app, tenant, mailbox):
    staff = tenant["practice_staff"]
    await request_reset(app, staff.email)
    first = link_token(await mailbox.wait_for(staff.email), "reset-password")
    await request_reset(app, staff.email)
    second = link_token(await mailbox.wait_for(staff.email, count=2), "reset-password")
    assert (await confirm(app, second)).status_code == 204
    assert (await confirm(app, first)).status_code == 410


async def test_requests_for_one_address_are_throttled_without_telling(app, tenant, mailbox):
    staff = tenant["practice_owner"]
    for _ in range(7):
        assert (await request_reset(app, staff.email)).status_code == 202
    await mailbox.wait_for(staff.email, count=5)
    await asyncio.sleep(0.3)
    assert len(mailbox.to(staff.email)) == 5


async def test_other_msp_gets_404(app, client, tenant, other_tenant, db, mailbox):
    staff = tenant["practice_staff"]
    await request_reset(app, staff.email)
    assert (await confirm(app, link_token(await mailbox.wait_for(staff.email), "reset-password"))).status_code == 204
    staff.password = NEW_PASSWORD
    await sign_in(client, staff)
    r = await client.get(f"/api/v1/practices/{other_tenant.practice.id}")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert await audit_events(db, other_tenant.msp_id, "auth.password_reset") == []
