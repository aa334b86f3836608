import uuid

import pyotp

from tests.factories import PASSWORD, sign_in, unique
from tests.factories_identity import (
    anonymous,
    audit_events,
    link_token,
    owner_execute,
    plain_body,
)

NEW_PASSWORD = "a brand new long passphrase"


def new_email() -> str:
    return f"{unique('invitee')}@example.test"


async def invite(client, body, practice_id=None):
    url = f"/api/v1/practices/{practice_id}/invitations" if practice_id else "/api/v1/invitations"
    return await client.post(url, json=body)


async def test_invited_technician_follows_the_emailed_link_and_must_enrol_mfa(app, client, tenant, db, mailbox):
    await sign_in(client, tenant["msp_admin"])
    email = new_email()
    r = await invite(client, {"email": email, "role": "msp_technician", "practice_ids": [str(tenant.practice.id)]})
    assert r.status_code == 201, r.text
    assert r.json()["email_sent"] is True and r.json()["status"] == "pending"
    message = await mailbox.wait_for(email)
    assert "technician" in plain_body(message)
    token = link_token(message, "accept-invite")

    async with anonymous(app) as browser:
        r = await browser.get("/api/v1/invitations/lookup", params={"token": token})
        assert r.status_code == 200, r.text
        assert r.json()["email"] == email and r.json()["role"] == "msp_technician"
        assert r.json()["practice_name"] is None and r.json()["existing_account"] is False
        r = await browser.post("/api/v1/invitations/accept", json={"token": token, "name": "Tess Tech", "password": NEW_PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "mfa_enrollment_required"
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        assert (await browser.get("/api/v1/practices")).status_code == 401
        setup = (await browser.post("/api/v1/auth/mfa/setup", headers=csrf)).json()
        r = await browser.post("/api/v1/auth/mfa/enable", json={"code": pyotp.TOTP(setup["secret"]).now()}, headers=csrf)
        assert r.status_code == 200, r.text
        r = await browser.get("/api/v1/practices")
        assert [p["id"] for p in r.json()] == [str(tenant.practice.id)]
        assert (await browser.get(f"/api/v1/practices/{tenant.sibling.id}")).status_code == 404

    async with anonymous(app) as again:
        r = await again.post("/api/v1/invitations/accept", json={"token": token, "name": "Tess", "password": NEW_PASSWORD})
        assert r.status_code == 410
        assert r.headers["content-type"] == "application/problem+json"
        assert "already been used" in r.json()["detail"]
    actions = [e.action for e in await audit_events(db, tenant.msp_id, "invitation.")]
    assert actions == ["invitation.created", "invitation.accepted"]


async def test_practice_owner_invites_staff_who_is_signed_in_at_once(app, client, tenant, mailbox):
    await sign_in(client, tenant["practice_owner"])
    email = new_email()
    r = await invite(client, {"email": email, "role": "practice_staff"}, tenant.practice.id)
    assert r.status_code == 201, r.text
    token = link_token(await mailbox.wait_for(email), "accept-invite")
    async with anonymous(app) as browser:
        r = await browser.get("/api/v1/invitations/lookup", params={"token": token})
        assert r.json()["practice_name"] == tenant.practice.name
        r = await browser.post("/api/v1/invitations/accept", json={"token": token, "name": "Sam", "password": NEW_PASSWORD})
        assert r.json()["status"] == "ok"
        assert (await browser.get(f"/api/v1/practices/{tenant.practice.id}")).status_code == 200
        assert (await browser.get(f"/api/v1/practices/{tenant.sibling.id}")).status_code == 404
    listed = (await client.get(f"/api/v1/practices/{tenant.practice.id}/invitations")).json()
    assert [(i["email"], i["status"]) for i in listed] == [(email, "accepted")]


async def test_only_an_msp_owner_may_invite_an_owner(client, tenant, mailbox):
    await sign_in(client, tenant["msp_admin"])
    assert (await invite(client, {"email": new_email(), "role": "msp_owner"})).status_code == 403
    client.cookies.clear()
    await sign_in(client, tenant["msp_owner"])
    assert (await invite(client, {"email": new_email(), "role": "msp_owner"})).status_code == 201


async def test_people_without_user_management_cannot_invite(client, tenant):
    await sign_in(client, tenant["msp_technician"])
    assert (await invite(client, {"email": new_email(), "role": "msp_technician"})).status_code == 403
    assert (await invite(client, {"email": new_email(), "role": "practice_staff"}, tenant.practice.id)).status_code == 403
    client.cookies.clear()
    await sign_in(client, tenant["practice_owner"])
    assert (await invite(client, {"email": new_email(), "role": "msp_admin"})).status_code == 403
    r = await invite(client, {"email": new_email(), "role": "msp_admin"}, tenant.practice.id)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "role"


async def test_unknown_or_foreign_practice_in_an_invitation_is_named(client, tenant, other_tenant):
    await sign_in(client, tenant["msp_owner"])
    unknown = uuid.uuid4()
    r = await invite(client, {"email": new_email(), "role": "msp_technician",
                              "practice_ids": [str(tenant.practice.id), str(other_tenant.practice.id), str(unknown)]})
    assert r.status_code == 422
    assert [(e["field"], e["value"]) for e in r.json()["errors"]] == [
        ("practice_ids.1", str(other_tenant.practice.id)), ("practice_ids.2", str(unknown))]
    r = await invite(client, {"email": new_email(), "role": "msp_admin", "practice_ids": [str(tenant.practice.id)]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "practice_ids"


async def test_revoked_invitation_link_gets_a_clear_refusal(app, client, tenant, db, mailbox):
    await sign_in(client, tenant["msp_owner"])
    email = new_email()
    created = (await invite(client, {"email": email, "role": "msp_admin"})).json()
    token = link_token(await mailbox.wait_for(email), "accept-invite")
    assert (await client.delete(f"/api/v1/invitations/{created['id']}")).status_code == 204
    async with anonymous(app) as browser:
        r = await browser.get("/api/v1/invitations/lookup", params={"token": token})
        assert r.status_code == 410 and "withdrawn" in r.json()["detail"]
        r = await browser.post("/api/v1/invitations/accept", json={"token": token, "name": "X", "password": NEW_PASSWORD})
        assert r.status_code == 410
    listed = {i["id"]: i["status"] for i in (await client.get("/api/v1/invitations")).json()}
    assert listed[created["id"]] == "revoked"
    assert [e.action for e in await audit_events(db, tenant.msp_id, "invitation.revoked")] == ["invitation.revoked"]


async def test_expired_or_unknown_invitation_link_is_refused(app, client, tenant, owner_db, mailbox):
    await sign_in(client, tenant["msp_owner"])
    email = new_email()
    created = (await invite(client, {"email": email, "role": "msp_admin"})).json()
    token = link_token(await mailbox.wait_for(email), "accept-invite")
    await owner_execute(owner_db, "UPDATE invitation SET expires_at = now() - interval '1 second' WHERE msp_id = :m AND id = :i",
                        m=tenant.msp_id, i=uuid.UUID(created["id"]))
    async with anonymous(app) as browser:
        r = await browser.get("/api/v1/invitations/lookup", params={"token": token})
        assert r.status_code == 410 and "expired" in r.json()["detail"]
        r = await browser.get("/api/v1/invitations/lookup", params={"token": "swi_" + "x" * 43})
        assert r.status_code == 404


async def test_reinviting_the_same_person_replaces_the_pending_link(app, client, tenant, mailbox):
    await sign_in(client, tenant["msp_owner"])
    email = new_email()
    await invite(client, {"email": email, "role": "msp_admin"})
    first = link_token(await mailbox.wait_for(email), "accept-invite")
    await invite(client, {"email": email, "role": "msp_admin"})
    second = link_token(await mailbox.wait_for(email, count=2), "accept-invite")
    async with anonymous(app) as browser:
        assert (await browser.get("/api/v1/invitations/lookup", params={"token": first})).status_code == 410
        assert (await browser.get("/api/v1/invitations/lookup", params={"token": second})).status_code == 200


async def test_existing_account_is_linked_only_with_its_own_password(app, client, tenant, mailbox):
    staff = tenant["practice_staff"]
    await sign_in(client, tenant["msp_owner"])
    r = await invite(client, {"email": staff.email, "role": "practice_staff"}, tenant.sibling.id)
    assert r.status_code == 201, r.text
    token = link_token(await mailbox.wait_for(staff.email), "accept-invite")
    async with anonymous(app) as browser, anonymous(app) as earlier:
        await sign_in(earlier, staff)
        assert (await browser.get("/api/v1/invitations/lookup", params={"token": token})).json()["existing_account"] is True
        r = await browser.post("/api/v1/invitations/accept", json={"token": token, "name": "X", "password": NEW_PASSWORD})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "password"
        r = await browser.post("/api/v1/invitations/accept", json={"token": token, "name": "X", "password": PASSWORD})
        assert r.status_code == 200, r.text
        ids = {p["id"] for p in (await browser.get("/api/v1/practices")).json()}
        assert ids == {str(tenant.practice.id), str(tenant.sibling.id)}
        # The session from before the new role does not carry on with it (docs/decisions/0004).
        assert (await earlier.get("/api/v1/practices")).status_code == 401


async def test_inviting_someone_who_already_has_the_role_conflicts(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    r = await invite(client, {"email": tenant["msp_admin"].email.upper(), "role": "msp_technician"})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "email"


async def test_unreachable_mail_server_is_reported_not_hidden(client, tenant, monkeypatch):
    from services.core.settings import get_settings
    from tests.factories_identity import free_port

    monkeypatch.setattr(get_settings(), "smtp_port", free_port())  # nothing listens there
    await sign_in(client, tenant["msp_owner"])
    r = await invite(client, {"email": new_email(), "role": "msp_admin"})
    assert r.status_code == 201
    assert r.json()["email_sent"] is False


async def test_practice_owner_cannot_revoke_msp_invitations(client, tenant, mailbox):
    await sign_in(client, tenant["msp_owner"])
    msp_invite = (await invite(client, {"email": new_email(), "role": "msp_admin"})).json()
    sibling_invite = (await invite(client, {"email": new_email(), "role": "practice_staff"}, tenant.sibling.id)).json()
    own_invite = (await invite(client, {"email": new_email(), "role": "practice_staff"}, tenant.practice.id)).json()
    client.cookies.clear()
    await sign_in(client, tenant["practice_owner"])
    assert (await client.delete(f"/api/v1/invitations/{msp_invite['id']}")).status_code == 404
    assert (await client.delete(f"/api/v1/invitations/{sibling_invite['id']}")).status_code == 404
    assert (await client.delete(f"/api/v1/invitations/{own_invite['id']}")).status_code == 204
    assert (await client.get("/api/v1/invitations")).status_code == 403


async def test_other_msp_gets_404(client, tenant, other_tenant, mailbox):
    await sign_in(client, other_tenant["msp_owner"])
    foreign = (await invite(client, {"email": new_email(), "role": "msp_admin"})).json()
    client.cookies.clear()
    await sign_in(client, tenant["msp_owner"])
    r = await client.delete(f"/api/v1/invitations/{foreign['id']}")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert (await invite(client, {"email": new_email(), "role": "practice_staff"}, other_tenant.practice.id)).status_code == 404
    assert (await client.get(f"/api/v1/practices/{other_tenant.practice.id}/invitations")).status_code == 404
    assert foreign["id"] not in {i["id"] for i in (await client.get("/api/v1/invitations")).json()}


async def test_the_link_is_returned_once_to_the_inviter_and_works_when_the_email_did_not_go(app, client, tenant, monkeypatch):
    import structlog

    from services.core.settings import get_settings
    from tests.factories_identity import free_port

    monkeypatch.setattr(get_settings(), "smtp_port", free_port())  # no mail server: the link is the only way in
    await sign_in(client, tenant["msp_owner"])
    email = new_email()
    with structlog.testing.capture_logs() as logs:
        r = await invite(client, {"email": email, "role": "practice_staff"}, tenant.practice.id)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["email_sent"] is False
    base = get_settings().public_url.rstrip("/")
    assert created["link"].startswith(f"{base}/accept-invite?token=swi_")
    token = created["link"].split("token=", 1)[1]
    assert token not in repr(logs), "the one-time link is a secret: never logged"
    listed = [i for i in (await client.get(f"/api/v1/practices/{tenant.practice.id}/invitations")).json() if i["id"] == created["id"]]
    assert listed and "link" not in listed[0], "the link is shown once, in the answer that created it"
    assert token not in (await client.get("/api/v1/invitations")).text

    async with anonymous(app) as browser:
        r = await browser.post("/api/v1/invitations/accept", json={"token": token, "name": "Sam Staff", "password": NEW_PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "ok"


async def test_the_returned_link_is_the_one_in_the_email(client, tenant, mailbox):
    await sign_in(client, tenant["msp_owner"])
    email = new_email()
    r = await invite(client, {"email": email, "role": "msp_admin"})
    assert r.status_code == 201 and r.json()["email_sent"] is True
    assert r.json()["link"].endswith("token=" + link_token(await mailbox.wait_for(email), "accept-invite"))
