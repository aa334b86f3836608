import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from psycopg.errors import InsufficientPrivilege
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from services.core.audit.export import safe_cell
from services.core.audit.service import Actor, record
from services.core.db import Scope
from tests.factories import sign_in
from tests.factories_identity import owner_execute


async def make_sites(client, tenant, n, prefix="Annex"):
    for i in range(n):
        r = await client.post(f"/api/v1/practices/{tenant.practice.id}/sites", json={"name": f"{prefix} {i}"})
        assert r.status_code == 201, r.text


async def test_events_come_newest_first_a_page_at_a_time(client, tenant):
    await sign_in(client, tenant["msp_admin"])
    await make_sites(client, tenant, 5)
    seen, cursor = [], None
    while True:
        r = await client.get("/api/v1/audit-events", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 2
        seen += [e["seq"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and seen == list(range(seen[0], 0, -1))
    assert (await client.get("/api/v1/audit-events", params={"limit": 201})).status_code == 422
    r = await client.get("/api/v1/audit-events", params={"cursor": "abc"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"


async def test_filters_narrow_the_list(client, tenant):
    admin = tenant["msp_admin"]
    await sign_in(client, admin)
    await make_sites(client, tenant, 2)
    r = await client.post(f"/api/v1/practices/{tenant.sibling.id}/sites", json={"name": "Elsewhere"})
    sibling_site = r.json()["id"]

    async def actions(**params):
        r = await client.get("/api/v1/audit-events", params=params)
        assert r.status_code == 200, r.text
        return [(e["action"], e["object_id"]) for e in r.json()["items"]]

    assert [a for a, _ in await actions(action="site.")] == ["site.created"] * 3
    assert len(await actions(action="site.", actor=admin.email.upper())) == 3
    assert len(await actions(action="site.", actor=str(admin.user_id))) == 3
    assert await actions(action="site.", actor=tenant["msp_owner"].email) == []
    assert await actions(object_type="site", practice_id=str(tenant.sibling.id)) == [("site.created", sibling_site)]
    assert await actions(object_id=sibling_site) == [("site.created", sibling_site)]
    assert await actions(action="site%") == []  # a prefix, not a pattern
    future = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat()
    past = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    assert await actions(action="site.", **{"from": future}) == []
    assert len(await actions(action="site.", **{"from": past, "to": future})) == 3
    r = await client.get("/api/v1/audit-events", params={"from": "2024-01-01T00:00:00"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "from"


async def test_csv_export_is_filtered_and_safe_from_formula_injection(client, tenant, db):
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await record(s, msp_id=tenant.msp_id, actor=Actor("user", None, "=HYPERLINK(\"http://evil\",\"x\")", "@1.2.3.4"),
                     action="test.injection", object_type="site", object_id="+SUM(A1)", changes={"note": "-2+3"})
        await record(s, msp_id=tenant.msp_id, actor=Actor("system", None, "\tcmd"), action="test.tab", object_id="-1")
    await sign_in(client, tenant["msp_owner"])
    r = await client.get("/api/v1/audit-events/export.csv", params={"action": "test."})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["action"] for row in rows] == ["test.injection", "test.tab"]  # oldest first, filter applied
    first, second = rows
    assert first["actor_label"] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert first["object_id"] == "'+SUM(A1)" and first["ip"] == "'@1.2.3.4"
    assert second["actor_label"] == "'\tcmd" and second["object_id"] == "'-1"
    dangerous = ("=", "+", "-", "@", "\t", "\r")
    assert not [cell for row in rows for cell in row.values() if cell.startswith(dangerous)]


def test_every_formula_prefix_is_neutralised():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert safe_cell(start + "1") == "'" + start + "1"
    assert safe_cell("plain") == "plain" and safe_cell(None) == "" and safe_cell(5) == "5"


async def test_verify_finds_the_first_tampered_event(client, tenant, owner_db):
    await sign_in(client, tenant["msp_owner"])
    await make_sites(client, tenant, 3)
    r = await client.get("/api/v1/audit-events/verify")
    assert r.status_code == 200
    report = r.json()
    assert report["ok"] is True and report["first_bad_seq"] is None and report["checked"] >= 4
    site_events = (await client.get("/api/v1/audit-events", params={"action": "site.created"})).json()["items"]
    victim = site_events[1]["seq"]
    await owner_execute(owner_db, "UPDATE audit_event SET changes = '{\"name\": \"forged\"}' WHERE msp_id = :m AND seq = :s",
                        m=tenant.msp_id, s=victim)
    report = (await client.get("/api/v1/audit-events/verify")).json()
    assert report["ok"] is False and report["first_bad_seq"] == victim
    assert report["reason"] == "event content does not match its hash"


async def test_the_application_role_cannot_update_or_delete_audit_events(tenant, db):
    for statement in ("UPDATE audit_event SET action = 'forged' WHERE msp_id = :m", "DELETE FROM audit_event WHERE msp_id = :m"):
        with pytest.raises(ProgrammingError) as refused:
            async with db.transaction(Scope(tenant.msp_id)) as s:
                await s.execute(text(statement), {"m": tenant.msp_id})
        assert isinstance(refused.value.orig, InsufficientPrivilege)


async def test_only_msp_managers_read_the_audit_log(client, tenant):
    for person in ("msp_technician", "practice_owner"):
        client.cookies.clear()
        await sign_in(client, tenant[person])
        for path in ("", "/export.csv", "/verify"):
            assert (await client.get(f"/api/v1/audit-events{path}")).status_code == 403, (person, path)


async def test_other_msp_gets_404(client, tenant, other_tenant):
    """Another MSP's practice is 404, and none of its events ever shows in this MSP's log."""
    await sign_in(client, other_tenant["msp_owner"])
    await client.post(f"/api/v1/practices/{other_tenant.practice.id}/sites", json={"name": "Theirs"})
    client.cookies.clear()
    await sign_in(client, tenant["msp_owner"])
    r = await client.get(f"/api/v1/practices/{other_tenant.practice.id}")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/audit-events", params={"practice_id": str(other_tenant.practice.id)})).json()["items"] == []
    exported = (await client.get("/api/v1/audit-events/export.csv")).text
    assert str(other_tenant.practice.id) not in exported and str(other_tenant.msp_id) not in exported


async def test_a_filter_the_database_cannot_hold_is_a_422_even_for_the_streamed_export(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    for path in ("/api/v1/audit-events", "/api/v1/audit-events/export.csv"):
        r = await client.get(path, params={"object_type": "bad\x00type"})
        assert r.status_code == 422, path
        assert r.json()["errors"][0]["field"] == "object_type"
