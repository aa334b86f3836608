from tests.factories import api_token, sign_in
from tests.factories_identity import anonymous, audit_events


async def create(client, name="nightly report", read_only=False):
    return await client.post("/api/v1/tokens", json={"name": name, "read_only": read_only})


async def test_token_secret_is_shown_once_and_acts_with_the_users_rights(app, client, tenant):
    await sign_in(client, tenant["practice_owner"])
    r = await create(client)
    assert r.status_code == 201, r.text
    secret = r.json()["token"]
    assert secret.startswith("swt_") and r.json()["prefix"] == secret[:10]
    listed = (await client.get("/api/v1/tokens")).json()
    assert [t["id"] for t in listed] == [r.json()["id"]]
    assert "token" not in listed[0] and listed[0]["last_used_at"] is None
    async with anonymous(app) as script:
        script.headers["Authorization"] = f"Bearer {secret}"
        assert [p["id"] for p in (await script.get("/api/v1/practices")).json()] == [str(tenant.practice.id)]
        assert (await script.get(f"/api/v1/practices/{tenant.sibling.id}")).status_code == 404
    assert (await client.get("/api/v1/tokens")).json()[0]["last_used_at"] is not None


async def test_revoked_token_stops_working_on_its_next_request(app, client, tenant, db):
    await sign_in(client, tenant["msp_admin"])
    created = (await create(client)).json()
    async with anonymous(app) as script:
        script.headers["Authorization"] = f"Bearer {created['token']}"
        assert (await script.get("/api/v1/practices")).status_code == 200
        assert (await client.delete(f"/api/v1/tokens/{created['id']}")).status_code == 204
        r = await script.get("/api/v1/practices")
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/tokens")).json()[0]["revoked_at"] is not None
    actions = [e.action for e in await audit_events(db, tenant.msp_id, "api_token.")]
    assert actions == ["api_token.created", "api_token.revoked"]


async def test_a_token_cannot_create_more_tokens(app, tenant, db):
    secret = await api_token(db, tenant.msp_id, tenant["msp_owner"])
    async with anonymous(app) as script:
        script.headers["Authorization"] = f"Bearer {secret}"
        r = await create(script)
        assert r.status_code == 403, r.text
        assert (await script.get("/api/v1/tokens")).status_code == 200


async def test_read_only_token_reads_but_cannot_revoke(app, client, tenant, db):
    await sign_in(client, tenant["msp_owner"])
    victim = (await create(client, "keep me")).json()
    secret = await api_token(db, tenant.msp_id, tenant["msp_owner"], read_only=True)
    async with anonymous(app) as script:
        script.headers["Authorization"] = f"Bearer {secret}"
        assert (await script.get("/api/v1/tokens")).status_code == 200
        assert (await script.delete(f"/api/v1/tokens/{victim['id']}")).status_code == 403
        assert (await script.post("/api/v1/practices", json={"name": "nope"})).status_code == 403


async def test_someone_elses_token_cannot_be_revoked(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    owners = (await create(client)).json()
    client.cookies.clear()
    await sign_in(client, tenant["msp_admin"])
    assert (await client.delete(f"/api/v1/tokens/{owners['id']}")).status_code == 404
    assert owners["id"] not in {t["id"] for t in (await client.get("/api/v1/tokens")).json()}


async def test_token_name_is_validated(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    r = await client.post("/api/v1/tokens", json={"name": "", "read_only": False})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    r = await client.post("/api/v1/tokens", json={"name": "x", "scopes": ["all"]})
    assert r.status_code == 422


async def test_other_msp_gets_404(app, client, tenant, other_tenant, db):
    await sign_in(client, other_tenant["msp_owner"])
    foreign = (await create(client)).json()
    client.cookies.clear()
    await sign_in(client, tenant["msp_owner"])
    r = await client.delete(f"/api/v1/tokens/{foreign['id']}")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    async with anonymous(app) as script:
        script.headers["Authorization"] = f"Bearer {foreign['token']}"
        assert (await script.get(f"/api/v1/practices/{tenant.practice.id}")).status_code == 404
        assert (await script.get(f"/api/v1/practices/{other_tenant.practice.id}")).status_code == 200
