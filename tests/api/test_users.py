import uuid

from services.core.identity.models import Role
from services.core.identity.sessions import CSRF_COOKIE, SESSION_COOKIE
from services.core.secrets import hash_token
from tests.factories import api_token, sign_in
from tests.factories_identity import add_membership, anonymous, audit_events, membership_of, owner_execute


async def test_msp_manager_lists_staff_and_practice_people_with_memberships(client, tenant):
    await sign_in(client, tenant["msp_admin"])
    r = await client.get("/api/v1/users")
    assert r.status_code == 200, r.text
    by_email = {u["email"]: u for u in r.json()}
    assert set(by_email) == {p.email for p in tenant.people.values()}
    tech = by_email[tenant["assigned_technician"].email]["memberships"][0]
    assert tech["role"] == "msp_technician" and tech["all_practices"] is False
    assert tech["assigned_practice_ids"] == [str(tenant.practice.id)]
    staff = by_email[tenant["practice_staff"].email]["memberships"][0]
    assert staff["practice_id"] == str(tenant.practice.id) and staff["practice_name"] == tenant.practice.name
    assert by_email[tenant["msp_owner"].email]["mfa_enabled"] is True


async def test_practice_owner_lists_only_their_practice_people(client, tenant):
    await sign_in(client, tenant["practice_owner"])
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/users")
    assert {u["email"] for u in r.json()} == {tenant["practice_owner"].email, tenant["practice_staff"].email}
    assert (await client.get(f"/api/v1/practices/{tenant.sibling.id}/users")).status_code == 404
    assert (await client.get("/api/v1/users")).status_code == 403


async def test_technician_sees_only_assigned_practices_and_reassignment_applies_on_next_request(app, client, tenant, db):
    tech = tenant["assigned_technician"]
    membership_id = await membership_of(db, tenant.msp_id, tech.user_id)
    async with anonymous(app) as tech_client:
        await sign_in(tech_client, tech)
        assert [p["id"] for p in (await tech_client.get("/api/v1/practices")).json()] == [str(tenant.practice.id)]
        assert (await tech_client.get(f"/api/v1/practices/{tenant.sibling.id}")).status_code == 404

        await sign_in(client, tenant["msp_admin"])
        r = await client.put(f"/api/v1/memberships/{membership_id}/practices", json={"practice_ids": [str(tenant.sibling.id)]})
        assert r.status_code == 200, r.text
        assert r.json()["assigned_practice_ids"] == [str(tenant.sibling.id)]

        assert [p["id"] for p in (await tech_client.get("/api/v1/practices")).json()] == [str(tenant.sibling.id)]
        assert (await tech_client.get(f"/api/v1/practices/{tenant.practice.id}")).status_code == 404
        assert (await tech_client.get(f"/api/v1/practices/{tenant.sibling.id}")).status_code == 200

        r = await client.patch(f"/api/v1/memberships/{membership_id}", json={"all_practices": True})
        assert r.status_code == 200 and r.json()["all_practices"] is True
        ids = {p["id"] for p in (await tech_client.get("/api/v1/practices")).json()}
        assert ids == {str(tenant.practice.id), str(tenant.sibling.id)}
    actions = [e.action for e in await audit_events(db, tenant.msp_id, "membership.")]
    assert actions == ["membership.practices_set", "membership.updated"]


async def test_unknown_or_foreign_practice_in_assignments_is_422_naming_it(client, tenant, other_tenant, db):
    membership_id = await membership_of(db, tenant.msp_id, tenant["msp_technician"].user_id)
    await sign_in(client, tenant["msp_owner"])
    unknown = uuid.uuid4()
    r = await client.put(f"/api/v1/memberships/{membership_id}/practices",
                         json={"practice_ids": [str(other_tenant.practice.id), str(tenant.practice.id), str(unknown)]})
    assert r.status_code == 422
    assert [(e["field"], e["value"]) for e in r.json()["errors"]] == [
        ("practice_ids.0", str(other_tenant.practice.id)), ("practice_ids.2", str(unknown))]
    assert str(unknown) in r.json()["detail"]
    admin_membership = await membership_of(db, tenant.msp_id, tenant["msp_admin"].user_id)
    r = await client.put(f"/api/v1/memberships/{admin_membership}/practices", json={"practice_ids": []})
    assert r.status_code == 409


async def test_only_an_owner_makes_owners_and_the_last_owner_stays(client, tenant, db):
    owner_m = await membership_of(db, tenant.msp_id, tenant["msp_owner"].user_id)
    admin_m = await membership_of(db, tenant.msp_id, tenant["msp_admin"].user_id)
    await sign_in(client, tenant["msp_admin"])
    assert (await client.patch(f"/api/v1/memberships/{owner_m}", json={"role": "msp_admin"})).status_code == 403
    assert (await client.delete(f"/api/v1/memberships/{owner_m}")).status_code == 403
    client.cookies.clear()
    await sign_in(client, tenant["msp_owner"])
    r = await client.patch(f"/api/v1/memberships/{owner_m}", json={"role": "msp_admin"})
    assert r.status_code == 409 and "at least one owner" in r.json()["detail"]
    assert (await client.delete(f"/api/v1/memberships/{owner_m}")).status_code == 409
    assert (await client.patch(f"/api/v1/memberships/{admin_m}", json={"role": "msp_owner"})).status_code == 200
    r = await client.patch(f"/api/v1/memberships/{owner_m}", json={"role": "msp_admin"})
    assert r.status_code == 200 and r.json()["role"] == "msp_admin"


async def test_a_person_cannot_raise_their_own_role(client, tenant, db):
    admin = tenant["msp_admin"]
    own_practice_m = await add_membership(db, tenant.msp_id, admin.user_id, Role.practice_staff, tenant.practice.id)
    staff_m = await membership_of(db, tenant.msp_id, tenant["practice_staff"].user_id, tenant.practice.id)
    await sign_in(client, admin)
    r = await client.patch(f"/api/v1/memberships/{own_practice_m}", json={"role": "practice_owner"})
    assert r.status_code == 403 and "own role" in r.json()["detail"]
    assert (await client.patch(f"/api/v1/memberships/{staff_m}", json={"role": "practice_owner"})).status_code == 200


async def test_roles_stay_within_their_kind_and_managers_within_their_reach(client, tenant, db):
    staff_m = await membership_of(db, tenant.msp_id, tenant["practice_staff"].user_id, tenant.practice.id)
    tech_m = await membership_of(db, tenant.msp_id, tenant["msp_technician"].user_id)
    await sign_in(client, tenant["msp_owner"])
    r = await client.patch(f"/api/v1/memberships/{staff_m}", json={"role": "msp_admin"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "role"
    client.cookies.clear()
    await sign_in(client, tenant["practice_owner"])
    assert (await client.patch(f"/api/v1/memberships/{tech_m}", json={"role": "msp_admin"})).status_code == 404
    assert (await client.patch(f"/api/v1/memberships/{staff_m}", json={"role": "practice_owner"})).status_code == 200
    client.cookies.clear()
    await sign_in(client, tenant["msp_technician"])
    assert (await client.patch(f"/api/v1/memberships/{staff_m}", json={"role": "practice_staff"})).status_code == 403
    assert (await client.put(f"/api/v1/memberships/{tech_m}/practices", json={"practice_ids": []})).status_code == 403


async def test_removing_a_persons_last_role_ends_their_sessions_and_tokens(app, client, tenant, db):
    tech = tenant["msp_technician"]
    token = await api_token(db, tenant.msp_id, tech)
    async with anonymous(app) as tech_client, anonymous(app) as script:
        await sign_in(tech_client, tech)
        script.headers["Authorization"] = f"Bearer {token}"
        assert (await tech_client.get("/api/v1/practices")).status_code == 200
        assert (await script.get("/api/v1/practices")).status_code == 200
        await sign_in(client, tenant["msp_admin"])
        membership_id = await membership_of(db, tenant.msp_id, tech.user_id)
        assert (await client.delete(f"/api/v1/memberships/{membership_id}")).status_code == 204
        assert (await tech_client.get("/api/v1/practices")).status_code == 401
        assert (await script.get("/api/v1/practices")).status_code == 401
    assert tech.email not in {u["email"] for u in (await client.get("/api/v1/users")).json()}
    actions = [e.action for e in await audit_events(db, tenant.msp_id, "") if e.action.startswith(("membership.", "api_token.revoked"))]
    assert actions == ["membership.deleted", "api_token.revoked"]


async def test_practice_owner_removing_staff_keeps_their_other_practice_role(app, client, tenant, db):
    staff = tenant["practice_staff"]
    await add_membership(db, tenant.msp_id, staff.user_id, Role.practice_staff, tenant.sibling.id)
    staff_m = await membership_of(db, tenant.msp_id, staff.user_id, tenant.practice.id)
    async with anonymous(app) as staff_client:
        await sign_in(staff_client, staff)
        await sign_in(client, tenant["practice_owner"])
        assert (await client.delete(f"/api/v1/memberships/{staff_m}")).status_code == 204
        # Losing a role is a change of privilege: the session ends, and signing in again shows what is left.
        assert (await staff_client.get("/api/v1/practices")).status_code == 401
        staff_client.cookies.clear()
        await sign_in(staff_client, staff)
        assert [p["id"] for p in (await staff_client.get("/api/v1/practices")).json()] == [str(tenant.sibling.id)]


async def test_a_role_change_ends_the_persons_sessions_in_that_msp_only(app, client, tenant, other_tenant, db, owner_db):
    staff = tenant["practice_staff"]
    await add_membership(db, other_tenant.msp_id, staff.user_id, Role.practice_staff, other_tenant.practice.id)
    async with anonymous(app) as here, anonymous(app) as elsewhere, anonymous(app) as thief:
        await sign_in(here, staff)
        await sign_in(elsewhere, staff)
        # The second browser works in the other MSP: a role change in this one is none of its business.
        await owner_execute(owner_db, "UPDATE user_session SET active_msp_id = :m WHERE token_hash = :h",
                            m=other_tenant.msp_id, h=hash_token(elsewhere.cookies[SESSION_COOKIE]))
        thief.cookies.set(SESSION_COOKIE, here.cookies[SESSION_COOKIE])
        assert (await thief.get("/api/v1/practices")).status_code == 200
        assert (await here.get(f"/api/v1/practices/{tenant.practice.id}/users")).status_code == 403
        await sign_in(client, tenant["msp_admin"])
        membership_id = await membership_of(db, tenant.msp_id, staff.user_id, tenant.practice.id)
        r = await client.patch(f"/api/v1/memberships/{membership_id}", json={"role": "practice_owner"})
        assert r.status_code == 200, r.text
        assert (await here.get("/api/v1/practices")).status_code == 401
        assert (await thief.get("/api/v1/practices")).status_code == 401
        assert [p["id"] for p in (await elsewhere.get("/api/v1/practices")).json()] == [str(other_tenant.practice.id)]
        here.cookies.clear()
        await sign_in(here, staff)
        # The new role, under a new session.
        assert (await here.get(f"/api/v1/practices/{tenant.practice.id}/users")).status_code == 200


async def test_changing_your_own_role_renews_your_session_and_the_old_cookie_stops_working(app, client, tenant, db):
    admin = tenant["msp_admin"]
    await sign_in(client, admin)
    old_cookie, old_csrf = client.cookies[SESSION_COOKIE], client.cookies[CSRF_COOKIE]
    membership_id = await membership_of(db, tenant.msp_id, admin.user_id)
    r = await client.patch(f"/api/v1/memberships/{membership_id}", json={"role": "msp_technician"})
    assert r.status_code == 200, r.text
    new_cookie, new_csrf = client.cookies[SESSION_COOKIE], client.cookies[CSRF_COOKIE]
    assert new_cookie != old_cookie and new_csrf != old_csrf
    client.headers["X-CSRF-Token"] = new_csrf
    assert (await client.get("/api/v1/practices")).status_code == 200
    assert (await client.get("/api/v1/users")).status_code == 403  # a technician now
    async with anonymous(app) as replay:
        replay.cookies.set(SESSION_COOKIE, old_cookie)
        assert (await replay.get("/api/v1/practices")).status_code == 401


async def test_other_msp_gets_404(client, tenant, other_tenant, db):
    foreign_staff = await membership_of(db, other_tenant.msp_id, other_tenant["practice_staff"].user_id, other_tenant.practice.id)
    foreign_tech = await membership_of(db, other_tenant.msp_id, other_tenant["msp_technician"].user_id)
    await sign_in(client, tenant["msp_owner"])
    r = await client.patch(f"/api/v1/memberships/{foreign_staff}", json={"role": "practice_owner"})
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert (await client.delete(f"/api/v1/memberships/{foreign_tech}")).status_code == 404
    assert (await client.put(f"/api/v1/memberships/{foreign_tech}/practices", json={"practice_ids": []})).status_code == 404
    assert (await client.get(f"/api/v1/practices/{other_tenant.practice.id}/users")).status_code == 404
    assert other_tenant["msp_owner"].email not in {u["email"] for u in (await client.get("/api/v1/users")).json()}
