from services.core.identity.models import Role
from tests.factories import api_token, create_person, sign_in
from tests.factories_identity import anonymous


async def test_msp_owner_signs_in_with_totp_and_lists_practices(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    r = await client.get("/api/v1/practices")
    assert r.status_code == 200
    assert {p["id"] for p in r.json()} == {str(tenant.practice.id), str(tenant.sibling.id)}


async def test_practice_owner_sees_only_own_practice(client, tenant):
    await sign_in(client, tenant["practice_owner"])
    r = await client.get("/api/v1/practices")
    assert [p["id"] for p in r.json()] == [str(tenant.practice.id)]
    assert (await client.get(f"/api/v1/practices/{tenant.sibling.id}")).status_code == 404


async def test_other_msp_gets_404(client, tenant, other_tenant):
    await sign_in(client, tenant["msp_owner"])
    r = await client.get(f"/api/v1/practices/{other_tenant.practice.id}")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    r = await client.get(f"/api/v1/practices/{other_tenant.practice.id}/sites/{other_tenant.site.id}")
    assert r.status_code == 404


async def test_create_site_is_audited_and_duplicate_name_conflicts(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    url = f"/api/v1/practices/{tenant.practice.id}/sites"
    r = await client.post(url, json={"name": "Annex"})
    assert r.status_code == 201, r.text
    r = await client.post(url, json={"name": "Annex"})
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "name"


async def test_write_without_csrf_header_is_refused(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    del client.headers["X-CSRF-Token"]
    r = await client.post("/api/v1/practices", json={"name": "No CSRF"})
    assert r.status_code == 403


async def test_read_only_token_cannot_write(client, tenant, db):
    token = await api_token(db, tenant.msp_id, tenant["msp_owner"], read_only=True)
    h = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/practices", headers=h)).status_code == 200
    assert (await client.post("/api/v1/practices", json={"name": "x"}, headers=h)).status_code == 403


async def test_validation_error_names_the_field(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    r = await client.post("/api/v1/practices", json={"name": ""})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "name"


async def test_staff_cannot_edit_practice(client, tenant):
    await sign_in(client, tenant["practice_staff"])
    r = await client.patch(f"/api/v1/practices/{tenant.practice.id}", json={"name": "Renamed"})
    assert r.status_code == 403
    assert tenant["practice_staff"].role is Role.practice_staff


async def test_msp_admin_removes_a_practice_and_a_technician_cannot(client, tenant):
    await sign_in(client, tenant["msp_technician"])
    assert (await client.delete(f"/api/v1/practices/{tenant.sibling.id}")).status_code == 403
    await client.post("/api/v1/auth/logout")
    client.cookies.clear()
    await sign_in(client, tenant["msp_admin"])
    assert (await client.delete(f"/api/v1/practices/{tenant.sibling.id}")).status_code == 204
    assert (await client.get(f"/api/v1/practices/{tenant.sibling.id}")).status_code == 404


async def test_null_for_a_required_field_is_a_422_not_a_conflict(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    r = await client.patch(f"/api/v1/practices/{tenant.practice.id}", json={"name": None})
    assert r.status_code == 422
    assert "name cannot be null" in r.json()["errors"][0]["message"]
    r = await client.patch(f"/api/v1/practices/{tenant.practice.id}/sites/{tenant.site.id}", json={"address": None})
    assert r.status_code == 200


async def test_a_practice_time_zone_must_be_an_iana_name(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    for zone in ("Mars/Olympus_Mons", "localtime", "america/new_york", "../../etc/passwd", "+05:00"):
        r = await client.post("/api/v1/practices", json={"name": "Red Planet Dental", "timezone": zone})
        assert r.status_code == 422, zone
        assert r.json()["errors"][0]["field"] == "timezone", r.json()
        r = await client.patch(f"/api/v1/practices/{tenant.practice.id}", json={"timezone": zone})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "timezone", zone
    assert (await client.get(f"/api/v1/practices/{tenant.practice.id}")).json()["timezone"] == tenant.practice.timezone
    r = await client.post("/api/v1/practices", json={"name": "Left Bank Physio", "timezone": "Europe/Paris"})
    assert r.status_code == 201 and r.json()["timezone"] == "Europe/Paris"
    r = await client.patch(f"/api/v1/practices/{tenant.practice.id}", json={"timezone": "UTC"})
    assert r.status_code == 200 and r.json()["timezone"] == "UTC"


async def test_another_msps_practice_is_404_to_a_valid_time_zone_change(client, tenant, other_tenant):
    await sign_in(client, tenant["msp_owner"])
    r = await client.patch(f"/api/v1/practices/{other_tenant.practice.id}", json={"timezone": "Europe/Paris"})
    assert r.status_code == 404


async def test_removing_a_practice_signs_its_people_out_and_revokes_the_tokens_of_those_left_with_no_role(app, client, db, tenant):
    owner = await create_person(db, tenant.msp_id, Role.practice_owner, practice_id=tenant.sibling.id)
    token = await api_token(db, tenant.msp_id, owner)
    async with anonymous(app) as browser:
        await sign_in(browser, owner)
        assert (await browser.get(f"/api/v1/practices/{tenant.sibling.id}")).status_code == 200
        await sign_in(client, tenant["msp_admin"])
        assert (await client.delete(f"/api/v1/practices/{tenant.sibling.id}")).status_code == 204
        assert (await browser.get("/api/v1/auth/session")).status_code == 401
    async with anonymous(app) as machine:
        r = await machine.get("/api/v1/practices", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
    events = [e["action"] for e in (await client.get("/api/v1/audit-events", params={"object_id": str(owner.user_id)})).json()["items"]]
    assert "api_token.revoked" in events
