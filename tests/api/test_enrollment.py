"""Enrollment tokens, the exchange for an agent credential, rotation with overlap, revocation, listing."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text

from services.core.db import Scope
from services.core.settings import get_settings
from tests.factories import sign_in
from tests.factories_inventory import create_job, create_link, create_system
from tests.factories_telemetry import audit_actions, create_agent, event


async def _token(client: httpx.AsyncClient, tenant, **body) -> dict:
    r = await client.post(f"/api/v1/practices/{tenant.practice.id}/sites/{tenant.site.id}/enrollment-tokens", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def _agent_count(db, msp_id) -> int:
    async with db.transaction(Scope(msp_id)) as s:
        return (await s.execute(text("SELECT count(*) FROM agent WHERE msp_id = :m"), {"m": msp_id})).scalar()


async def test_an_agent_enrolls_with_a_token_and_receives_its_sites_links_jobs_and_systems(client, app, tenant, db):
    link = await create_link(db, tenant.site, "Comcast fiber")
    await create_link(db, tenant.sibling_site, "Sibling fiber")
    ehr = await create_system(db, tenant.practice, "EHR")
    await create_system(db, tenant.practice, "Phones")  # no job of this site protects it
    job = await create_job(db, tenant.practice, "nightly-restic", site_id=tenant.site.id, systems=[ehr])
    await create_job(db, tenant.practice, "elsewhere", site_id=None)  # not at this site
    await sign_in(client, tenant["msp_technician"])
    created = await _token(client, tenant, expires_in_minutes=30)
    assert created["token"].startswith("swe_")
    assert created["token"] in created["install_command"]
    assert get_settings().public_url in created["install_command"]
    # Windows gets its own PowerShell command: the token in single quotes (nothing expanded), the
    # config and spool under ProgramData, since the agent's defaults are POSIX paths.
    windows = created["install_command_windows"]
    assert f"$env:SEAWALL_ENROLL_TOKEN = '{created['token']}'" in windows
    assert f"--server '{get_settings().public_url.rstrip('/')}'" in windows
    assert '--config "$env:ProgramData\\SeawallAgent\\config.toml"' in windows

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as agent_client:
        r = await agent_client.post("/api/v1/agents/enroll", json={"token": created["token"], "hostname": "frontdesk-pc",
                                                                   "agent_version": "0.1.0"})
        assert r.status_code == 201, r.text
        enrolled = r.json()
        assert enrolled["credential"].startswith("swa_") and len(enrolled["credential"]) == 47
        assert (enrolled["practice_id"], enrolled["site_id"]) == (str(tenant.practice.id), str(tenant.site.id))
        assert enrolled["links"] == [{"id": str(link.id), "name": "Comcast fiber", "role": "primary"}]
        assert enrolled["jobs"] == [{"id": str(job.id), "name": "nightly-restic", "tool": "restic"}]
        assert enrolled["systems"] == [{"id": str(ehr.id), "name": "EHR"}]

        me = await agent_client.get("/api/v1/agents/me", headers={"Authorization": f"Bearer {enrolled['credential']}"})
        assert me.status_code == 200, me.text
        assert "credential" not in me.json()
        assert {k: me.json()[k] for k in ("agent_id", "links", "jobs", "systems")} == {
            k: enrolled[k] for k in ("agent_id", "links", "jobs", "systems")}
    assert len(await audit_actions(db, tenant.msp_id, "agent.enrolled")) == 1
    assert len(await audit_actions(db, tenant.msp_id, "enrollment_token.created")) == 1


async def test_an_enrollment_token_works_once(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    token = (await _token(client, tenant))["token"]
    assert (await client.post("/api/v1/agents/enroll", json={"token": token})).status_code == 201
    again = await client.post("/api/v1/agents/enroll", json={"token": token})
    assert again.status_code == 401
    assert again.headers["content-type"] == "application/problem+json"
    assert await _agent_count(db, tenant.msp_id) == 1


async def test_two_concurrent_exchanges_of_one_token_enroll_exactly_one_agent(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    token = (await _token(client, tenant))["token"]
    answers = await asyncio.gather(*(client.post("/api/v1/agents/enroll", json={"token": token, "hostname": f"pc{i}"})
                                     for i in range(2)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses[0] == 201 and 400 <= statuses[1] < 500, statuses
    assert await _agent_count(db, tenant.msp_id) == 1


async def test_an_expired_token_is_refused(client, tenant, db, owner_db):
    await sign_in(client, tenant["msp_technician"])
    token = (await _token(client, tenant))["token"]
    async with owner_db.transaction() as s:
        await s.execute(text("UPDATE enrollment_token SET expires_at = now() - interval '1 second' WHERE msp_id = :m"),
                        {"m": tenant.msp_id})
    assert (await client.post("/api/v1/agents/enroll", json={"token": token})).status_code == 401
    assert await _agent_count(db, tenant.msp_id) == 0


async def test_token_lifetime_is_bounded_to_a_day(client, tenant):
    await sign_in(client, tenant["msp_technician"])
    r = await client.post(f"/api/v1/practices/{tenant.practice.id}/sites/{tenant.site.id}/enrollment-tokens",
                          json={"expires_in_minutes": 24 * 60 + 1})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "expires_in_minutes"


async def test_practice_staff_cannot_enroll_agents(client, tenant):
    await sign_in(client, tenant["practice_staff"])
    r = await client.post(f"/api/v1/practices/{tenant.practice.id}/sites/{tenant.site.id}/enrollment-tokens", json={})
    assert r.status_code == 403


async def test_a_rotated_credential_keeps_working_until_the_overlap_ends(client, tenant, db, owner_db):
    agent = await create_agent(db, tenant.site)
    await sign_in(client, tenant["msp_technician"])
    r = await client.post(f"/api/v1/practices/{tenant.practice.id}/agents/{agent.agent_id}/rotate")
    assert r.status_code == 200, r.text
    new = r.json()["credential"]
    assert new != agent.credential
    for credential in (agent.credential, new):
        ingest = await client.post("/api/v1/ingest", json={"events": [event()]}, headers={"Authorization": f"Bearer {credential}"})
        assert ingest.status_code == 202, ingest.text
    async with owner_db.transaction() as s:
        await s.execute(text("UPDATE agent SET previous_valid_until = now() - interval '1 second' WHERE id = :a"), {"a": agent.agent_id})
    old = await client.post("/api/v1/ingest", json={"events": [event()]}, headers=agent.headers)
    assert old.status_code == 401
    assert (await client.get("/api/v1/agents/me", headers=agent.headers)).status_code == 401
    assert (await client.get("/api/v1/agents/me", headers={"Authorization": f"Bearer {new}"})).status_code == 200
    assert len(await audit_actions(db, tenant.msp_id, "agent.credential_rotated")) == 1


async def test_a_revoked_agent_gets_401_on_its_next_request(client, tenant, db):
    agent = await create_agent(db, tenant.site)
    first = await client.post("/api/v1/ingest", json={"events": [event()]}, headers=agent.headers)
    assert first.status_code == 202  # the credential is now in the ingest path's cache
    await sign_in(client, tenant["msp_technician"])
    r = await client.post(f"/api/v1/practices/{tenant.practice.id}/agents/{agent.agent_id}/revoke")
    assert r.status_code == 200 and r.json()["revoked_at"]
    refused = await client.post("/api/v1/ingest", json={"events": [event()]}, headers=agent.headers)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/agents/me", headers=agent.headers)).status_code == 401
    rotate = await client.post(f"/api/v1/practices/{tenant.practice.id}/agents/{agent.agent_id}/rotate")
    assert rotate.status_code == 409


async def test_agents_are_listed_for_the_practices_the_caller_sees(client, tenant, db):
    own = await create_agent(db, tenant.site)
    sibling = await create_agent(db, tenant.sibling_site)
    await sign_in(client, tenant["msp_technician"])
    assert {a["id"] for a in (await client.get("/api/v1/agents")).json()} == {str(own.agent_id), str(sibling.agent_id)}
    client.cookies.clear()
    await sign_in(client, tenant["assigned_technician"])
    assert [a["id"] for a in (await client.get("/api/v1/agents")).json()] == [str(own.agent_id)]
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/agents")
    assert [a["id"] for a in r.json()] == [str(own.agent_id)]
    assert "credential_hash" not in r.json()[0]


async def test_other_msp_gets_404(client, tenant, other_tenant, db):
    theirs = await create_agent(db, other_tenant.site)
    await sign_in(client, tenant["msp_owner"])
    base = f"/api/v1/practices/{other_tenant.practice.id}"
    assert (await client.get(f"{base}/agents")).status_code == 404
    assert (await client.post(f"{base}/agents/{theirs.agent_id}/rotate")).status_code == 404
    assert (await client.post(f"{base}/agents/{theirs.agent_id}/revoke")).status_code == 404
    assert (await client.post(f"{base}/sites/{other_tenant.site.id}/enrollment-tokens", json={})).status_code == 404
    # Their agent, addressed through our own practice, does not exist either.
    r = await client.post(f"/api/v1/practices/{tenant.practice.id}/agents/{theirs.agent_id}/revoke")
    assert r.status_code == 404
    assert str(theirs.agent_id) not in {a["id"] for a in (await client.get("/api/v1/agents")).json()}


def test_the_windows_command_doubles_a_quote_so_powershell_reads_the_value_literally():
    from services.core.telemetry.enrollment import install_command_windows
    assert "'it''s'" in install_command_windows("it's")
